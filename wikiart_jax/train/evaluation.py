"""Held-out evaluation of a set of parameters: every example once, all heads.

The forward pass is jitted; top-k hits and confusion matrices accumulate on the
host (labels -1, including the padding rows of the last batch, are ignored).
"""

import jax
import ml_collections
import numpy as np
from jax.experimental import multihost_utils
from tqdm import tqdm

from wikiart_jax.data import pipeline
from wikiart_jax.eval import classification
from wikiart_jax.train import sharding

TASKS = ('style', 'artist', 'genre')


def _local(array, mesh):
  """This process's rows of a batch-sharded global array."""
  if jax.process_count() == 1:
    return array
  return multihost_utils.global_array_to_host_local_array(
      array, mesh, jax.sharding.PartitionSpec(sharding.AXES))


def _host(tree):
  """Global arrays -> numpy on this host (gathered across processes)."""
  if jax.process_count() > 1:
    return multihost_utils.process_allgather(tree, tiled=True)
  return jax.device_get(tree)


def evaluate_params(params, eval_step, config: ml_collections.ConfigDict,
                    workdir: str, info, mesh,
                    style_to_family: np.ndarray | None = None,
                    caption_evaluator=None) -> tuple[dict[str, dict], dict | None]:
  """Runs `eval_step` over config.eval.split.

  Args:
    params, eval_step: the parameters and `step.make_eval_step(...)` (with
      the captioner's context when a caption evaluator is given).
    config, workdir, info, mesh: the run's.
    style_to_family: with a hierarchical style head, the style families are
      scored too.
    caption_evaluator: an `eval.caption_eval.CaptionEvaluator`, or None.

  Returns:
    (task -> `ClassificationAccumulator.compute()` dict: top1, top5, f1_macro,
    count, per_class, confusion; caption metrics or None).
  """
  num_classes = dict(info.vocab.num_classes)
  families = style_to_family
  if families is not None:
    num_classes['style_family'] = int(np.max(families)) + 1
  accumulators = {task: classification.ClassificationAccumulator(n)
                  for task, n in num_classes.items()}
  batches = pipeline.make_eval_batches(
      config, workdir, config.eval.split, process_index=jax.process_index(),
      process_count=jax.process_count())
  total = -(-info.num_examples[config.eval.split] // config.data.eval_batch_size)
  for batch in tqdm(batches, total=total, desc='eval', unit='batch', leave=False,
                    disable=jax.process_index() > 0):
    text = {k: batch.pop(k) for k in pipeline.TEXT if k in batch}
    global_batch = pipeline.to_global(batch, mesh)
    if caption_evaluator is None:
      probs = eval_step(params, global_batch)
    else:
      probs, context = eval_step(params, global_batch)
    labels = {task: global_batch[task] for task in TASKS}
    probs, labels = _host((probs, labels))
    if caption_evaluator is not None:
      # Generation and text stay per process: each scores its own rows (on
      # several hosts the caption metrics are process 0's share of the split).
      caption_evaluator.update(_local(context, mesh), {**batch, **text})
    for task in TASKS:
      accumulators[task].update(probs[task], labels[task])
    if families is not None:
      style = labels['style']
      family = np.where(style >= 0, families[np.maximum(style, 0)], -1)
      accumulators['style_family'].update(probs['style_family'], family)
  caption = caption_evaluator.compute() if caption_evaluator is not None else None
  return {task: acc.compute() for task, acc in accumulators.items()}, caption
