"""The runner: evaluators built by name, one pass over the split, named results."""


import demo
import pytest

from wikiart_jax import checkpointing
from wikiart_jax import factory
from wikiart_jax.data import dataset
from wikiart_jax.data import metadata
from wikiart_jax.evaluators import runner
from wikiart_jax.inference import forward
from wikiart_jax.metrics import calibration
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding

from conftest import read_metrics


def test_the_run_gives_the_metrics_training_logged(trained_workdir):
  config = demo.get_config('tiny')
  info = dataset.load_info(config, trained_workdir)
  mesh = sharding.make_mesh()
  model, record = factory.restore_model(config, info.vocab, trained_workdir)
  parts, step = checkpointing.restore_params_into(trained_workdir, model, mesh)
  evaluators = runner.build(config, info.vocab, parts, parts.params, norm=record.normalization)
  # No captioner in this model: the caption evaluator is not built; tags and period are.
  assert [e.name for e in evaluators] == ['classification', 'calibration', 'tags', 'period']
  # On test, calibration applies val's temperatures, and is left out without them.
  assert [e.name for e in runner.build(config, info.vocab, parts, parts.params,
                                       split='test')] == ['classification', 'tags', 'period']
  evaluation = runner.run(evaluators, forward.make_step(parts), parts.params, config,
                          trained_workdir, info, mesh, split='val',
                          norm=record.normalization)
  logged = next(h for h in read_metrics(trained_workdir)['history']
                if h['step'] == step and h.get('mode') != 'eval')['eval']
  assert set(evaluation.metrics) == set(logged) == {'style', 'artist', 'genre', 'tags', 'period',
                                                    'calibration'}
  for task, values in logged.items():
    if task == 'calibration':
      continue  # per head, below
    for key in values:
      assert evaluation.metrics[task][key] == pytest.approx(values[key], abs=1e-6), (task, key)
  for task in ('style', 'artist', 'genre'):
    for key in ('temperature', 'ece_before', 'ece_after'):
      assert evaluation.metrics['calibration'][task][key] == pytest.approx(
          logged['calibration'][task][key], abs=1e-5)
  # The temperatures training fitted on val are in the workdir, by step.
  assert calibration.load_temperatures(trained_workdir, step) == pytest.approx(
      {t: m['temperature'] for t, m in evaluation.metrics['calibration'].items()}, abs=1e-5)
  assert ' | ECE style ' in evaluation.line
  assert set(logged['tags']) == {'map', 'f1_micro', 'f1_macro', 'threshold', 'count', 'tags'}
  assert {'mae_years', 'within_25', 'top1'} <= set(logged['period'])
  assert evaluation.line.startswith('style top1') and evaluation.samples == []
  assert '| tags mAP ' in evaluation.line and '| period MAE ' in evaluation.line


def test_a_model_without_the_heads_gets_no_tag_or_period_evaluator():
  config = demo.get_config('tiny')
  config.model.tags_head = config.model.period_head = False
  vocab = metadata.Vocabularies.build([('a-b', None)], )
  vocab.tags = ['boat', 'sea']
  parts = parts_lib.split(factory.build_model(config, vocab))
  assert set(parts.params['heads']) == {'style', 'artist', 'genre'}
  assert [e.name for e in runner.build(config, vocab, parts, parts.params)] == [
      'classification', 'calibration']


def test_unknown_evaluator_is_named():
  config = demo.get_config('tiny')
  config.eval.evaluators = ('classification', 'bleurt')
  vocab = metadata.Vocabularies.build([('a-b', None)])
  parts = parts_lib.split(factory.build_model(config, vocab))
  with pytest.raises(ValueError, match=r"unknown \['bleurt'\]"):
    runner.build(config, vocab, parts, parts.params)
