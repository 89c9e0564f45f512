"""`config.mode=eval`: restore a checkpoint, evaluate it, write the report.

Restores `eval.step` (default the latest) into the model the workdir's run
record describes (never `init_from`: no hub access), runs the configured
evaluators over `eval.split` exactly as training does, records the result in
metrics.json (`eval` for val, as an entry with mode 'eval'; `test` for test) and
writes `<workdir>/report/`.
"""

import os

import jax
import ml_collections

from wikiart_jax import checkpointing
from wikiart_jax import factory
from wikiart_jax.apps import report
from wikiart_jax.inference import forward
from wikiart_jax.inference import predictor
from wikiart_jax.metrics import calibration
from wikiart_jax.parallel import sharding
from wikiart_jax.train import loop
from wikiart_jax.text import composer
from wikiart_jax.train import summaries


def evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """Restores a checkpoint (`eval.step`, default the latest) and evaluates it.

  Returns:
    metrics.json's content after the evaluation.
  """
  workdir = os.path.abspath(workdir)
  split = config.eval.split
  info = loop.prepare_once(config, workdir)
  model, record = factory.restore_model(config, info.vocab, workdir)
  mesh = sharding.make_mesh()
  parts, step = checkpointing.restore_params_into(workdir, model, mesh, config.eval.step)
  run = loop.RunSetup.of(info, mesh, model, record, parts=parts)
  del model
  caption_tokenizer = (factory.caption_tokenizer(config, info.vocab, workdir)
                       if run.captioning else None)
  summary = summaries.RunSummary(workdir, config)
  summary.load_history()
  # Test is scored at the tags' threshold val chose for this step (else chosen here).
  threshold = summary.tag_threshold(step) if split == 'test' else None
  evaluation = loop.evaluate_params(config, workdir, run, forward.make_step(parts),
                                    parts.params, caption_tokenizer, split=split, step=step,
                                    tag_threshold=threshold)
  summary.write_eval(step, evaluation.metrics, info.vocab, from_eval_mode=True,
                     samples=evaluation.samples, split=split)
  print(f'step {step} {"eval" if split == "val" else split}: {evaluation.line}', flush=True)
  summary.close()
  if jax.process_index() == 0:
    # The other split's figures, as metrics.json has them, beside this one's.
    saved = summary.metrics_json()
    key, step_key, name = (('test', 'test_step', 'test') if split == 'val'
                           else ('eval', 'step', 'val'))
    other = (name, saved.get(step_key), saved[key]) if saved.get(key) else None
    path = report.write(
        workdir, info, split, record.model['image_size'], evaluation.metrics,
        forward.make_forward(parts, mesh), record.normalization,
        family_names=list(config.model.style_families.keys()),
        writer=predictor.caption_writer(config, info.vocab, workdir, parts.merge()),
        other_split=other, hedging=composer.Hedging.from_config(config.describe),
        temperatures=calibration.load_temperatures(workdir, step), synthetic=record.synthetic)
    print(f'report: {path}', flush=True)
  return summary.metrics_json()
