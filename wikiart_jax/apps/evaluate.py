"""`config.mode=eval`: restore a checkpoint, evaluate it, write the report.

Restores `eval.step` (default the latest), runs the configured evaluators over
`eval.split` exactly as training does, records the result in metrics.json (as
an entry with mode 'eval') and writes `<workdir>/report/`.
"""

import os

import jax
import ml_collections

from wikiart_jax import checkpointing
from wikiart_jax import factory
from wikiart_jax.apps import report
from wikiart_jax.inference import forward
from wikiart_jax.inference import predictor
from wikiart_jax.parallel import sharding
from wikiart_jax.train import loop
from wikiart_jax.train import summaries


def evaluate(config: ml_collections.ConfigDict, workdir: str) -> dict:
  """Restores a checkpoint (`eval.step`, default the latest) and evaluates it.

  Returns:
    metrics.json's content after the evaluation.
  """
  workdir = os.path.abspath(workdir)
  info = loop.prepare_once(config, workdir)
  model = factory.build_model(config, info.vocab, workdir)
  mesh = sharding.make_mesh()
  parts, step = checkpointing.restore_params_into(workdir, model, mesh, config.eval.step)
  run = loop.RunSetup(info=info, mesh=mesh, parts=parts,
                      style_to_family=model.style_to_family,
                      num_layers=model.backbone.config.num_layers,
                      captioning=model.captioner is not None)
  del model
  caption_tokenizer = (factory.caption_tokenizer(config, info.vocab, workdir)
                       if run.captioning else None)
  evaluation = loop.evaluate_params(config, workdir, run, forward.make_step(parts),
                                    parts.params, caption_tokenizer)
  summary = summaries.RunSummary(workdir, config)
  summary.load_history()
  summary.write_eval(step, evaluation.metrics, info.vocab, from_eval_mode=True,
                     samples=evaluation.samples)
  print(f'step {step} eval: {evaluation.line}', flush=True)
  summary.close()
  if jax.process_index() == 0:
    path = report.write(
        workdir, info, config.eval.split, config.data.image_size, evaluation.metrics,
        forward.make_forward(parts, mesh),
        family_names=list(config.model.style_families.keys()),
        writer=predictor.caption_writer(config, info.vocab, workdir, parts.merge()))
    print(f'report: {path}', flush=True)
  return summary.metrics_json()
