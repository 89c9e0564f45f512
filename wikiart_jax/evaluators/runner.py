"""Builds the configured evaluators and runs them over a split in one pass.

`config.eval.evaluators` names them ('classification', 'calibration', 'caption',
'tags', 'period'; each of the last three runs when the model has a captioner, a tag
head, a period head; 'calibration' fits temperatures on val and applies val's on
test); `config.eval.zero_shot_from` adds the zero-shot CLIP baseline. Each batch is
read once, the forward pass
(`inference.forward.make_step`) runs once, and every evaluator sees the result;
probabilities and labels are gathered from every process, the captioner's
context stays per process.
"""

from __future__ import annotations

import dataclasses

import jax
import ml_collections
import numpy as np
from tqdm import tqdm

from wikiart_jax.core import PERIOD, TAGS, TAGS_MASK, TASKS
from wikiart_jax.data import augment
from wikiart_jax.data import pipeline
from wikiart_jax.evaluators.base import EvalBatch, Evaluator
from wikiart_jax.evaluators.calibration import CalibrationEvaluator
from wikiart_jax.evaluators.captions import CaptionEvaluator
from wikiart_jax.evaluators import zero_shot as zero_shot_eval
from wikiart_jax.evaluators.classification import ClassificationEvaluator
from wikiart_jax.evaluators.period import PeriodEvaluator
from wikiart_jax.evaluators.tags import TagEvaluator
from wikiart_jax.inference import describer as describer_lib
from wikiart_jax.inference import zero_shot
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding

NAMES = ('classification', 'calibration', 'caption', TAGS, PERIOD)


@dataclasses.dataclass
class Evaluation:
  """What one evaluation found.

  Attributes:
    metrics: every evaluator's entries, e.g. {'style': {...}, 'caption': {...}}.
    line: one human line, 'style top1 0.953 ... | caption BLEU-4 ...'.
    samples: example outputs the evaluators kept (generated descriptions).
  """
  metrics: dict[str, dict]
  line: str
  samples: list[dict]


def build(config: ml_collections.ConfigDict, vocab, parts: parts_lib.ModelParts, params, *,
          caption_tokenizer=None, style_to_family: np.ndarray | None = None,
          norm: augment.Normalization = augment.IMAGENET, split: str = 'val',
          temperatures: dict[str, float] | None = None,
          tag_threshold: float | None = None) -> list[Evaluator]:
  """The evaluators of `config.eval.evaluators` for the model `parts` at `params`,
  and the zero-shot CLIP baseline when `config.eval.zero_shot_from` is set.

  Args:
    config: the run's config.
    vocab: the dataset's vocabularies.
    parts: the model's parts; `params` the parameters to evaluate.
    caption_tokenizer: the captioner's tokenizer (needed when it has one).
    style_to_family: with a hierarchical style head, the family of each style.
    norm: the run's pixel normalisation (CLIP re-normalises from it).
    split: the split evaluated: 'val' fits the temperatures, 'test' applies
      `temperatures` (those val fitted for this checkpoint; None: no calibration).
    temperatures: head -> temperature, applied to the heads' probabilities by the
      caption evaluator's faithfulness check too.
    tag_threshold: the tags' F1 threshold chosen on val (for test); None = choose.
  """
  names = tuple(config.eval.evaluators)
  unknown = [n for n in names if n not in NAMES]
  if unknown:
    raise ValueError(f'config.eval.evaluators: unknown {unknown}; expected some of {NAMES}')
  out: list[Evaluator] = []
  heads = params['heads']
  for name in names:
    if name == 'classification':
      out.append(ClassificationEvaluator(vocab.num_classes, style_to_family))
    elif name == 'calibration':
      if split == 'val':
        out.append(CalibrationEvaluator())
      elif temperatures:  # test: val's temperatures, never refitted on test
        out.append(CalibrationEvaluator(temperatures))
    elif name == 'caption':
      captioner = parts.merge(params).captioner
      if captioner is None:
        continue  # a model without a captioner has no description to score
      writer = describer_lib.CaptionWriter(captioner, caption_tokenizer,
                                           max_len=config.data.caption.max_len,
                                           decoding=config.eval.caption, vocab=vocab)
      clip = (zero_shot.ZeroShotCLIP.from_pretrained(config.eval.caption.clip_from)
              if config.eval.caption.clip_from else None)
      out.append(CaptionEvaluator(writer, vocab, config.data.caption.languages, clip=clip,
                                  norm=norm, tag_threshold=config.describe.tag_probable))
    elif name == TAGS and TAGS in heads:  # a model without the head has nothing to score
      out.append(TagEvaluator(len(vocab.tags), tag_threshold))
    elif name == PERIOD and PERIOD in heads:
      out.append(PeriodEvaluator())
  if config.eval.zero_shot_from:
    out.append(zero_shot_eval.ZeroShotEvaluator(
        zero_shot.ZeroShotCLIP.from_pretrained(config.eval.zero_shot_from),
        zero_shot.class_names_from_vocab(vocab), norm=norm))
  return out


def run(evaluators: list[Evaluator], step, params, config: ml_collections.ConfigDict,
        workdir: str, info, mesh, *, split: str, norm: augment.Normalization) -> Evaluation:
  """Runs `step` (`inference.forward.make_step`) over `split` once.

  Args:
    evaluators: from `build`.
    step, params: the jitted forward pass and the parameters.
    config, workdir, info, mesh: the run's (info: the dataset's `DatasetInfo`).
    split: 'val' or 'test'.
    norm: the backbone's pixel normalisation (the run record's).
  """
  if split not in info.num_examples:
    raise ValueError(f'the prepared dataset has no {split!r} split (it has '
                     f'{sorted(info.num_examples)}): prepare it again')
  keep_text = any(e.needs_text for e in evaluators)
  batches = pipeline.make_eval_batches(
      config, workdir, split, process_index=jax.process_index(),
      process_count=jax.process_count(), keep_text=keep_text, norm=norm)
  total = -(-info.num_examples[split] // config.data.eval_batch_size)
  for batch in tqdm(batches, total=total, desc='eval', unit='batch', leave=False,
                    disable=jax.process_index() > 0):
    text = {k: batch.pop(k) for k in pipeline.TEXT if k in batch}
    global_batch = sharding.to_global(batch, mesh)
    prediction = step(params, global_batch)
    labels = {key: global_batch[key] for key in (*TASKS, 'year', TAGS, TAGS_MASK)
              if key in global_batch}
    probs, labels, tags, period = sharding.to_host(
        (prediction.probs, labels, prediction.tags, prediction.period))
    context = (None if prediction.context is None
               else sharding.local_rows(prediction.context, mesh))
    local_probs = (None if jax.process_count() == 1 else jax.device_get(
        jax.tree.map(lambda a: sharding.local_rows(a, mesh),
                     {**prediction.probs, **{k: v for k, v in ((TAGS, prediction.tags),
                                                                (PERIOD, prediction.period))
                                              if v is not None}})))
    view = EvalBatch(local={**batch, **text}, labels=labels, probs=probs, context=context,
                     local_probs=local_probs, tags=tags, period=period)
    for evaluator in evaluators:
      evaluator.update(view)
  metrics, lines, samples = {}, [], []
  for evaluator in evaluators:
    result = evaluator.result()
    metrics.update(result)
    lines.append(evaluator.line(result))
    samples += evaluator.samples
  return Evaluation(metrics=metrics, line=' | '.join(lines), samples=samples)
