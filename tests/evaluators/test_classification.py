"""The classification evaluator: one accumulator per head, style families from the labels."""

import numpy as np

from wikiart_jax.evaluators.base import EvalBatch
from wikiart_jax.evaluators.classification import ClassificationEvaluator
from wikiart_jax.metrics.classification import ClassificationAccumulator

NUM_CLASSES = {'style': 4, 'artist': 3, 'genre': 2}
FAMILY = np.array([0, 0, 1, 1], np.int32)  # styles 0, 1 -> family 0; 2, 3 -> family 1


def _batches(rng, n=3):
  out = []
  for _ in range(n):
    labels = {t: rng.integers(-1, c, 8).astype(np.int32) for t, c in NUM_CLASSES.items()}
    probs = {t: rng.dirichlet(np.ones(c), 8) for t, c in NUM_CLASSES.items()}
    probs['style_family'] = rng.dirichlet(np.ones(2), 8)
    out.append(EvalBatch(local={}, labels=labels, probs=probs))
  return out


def test_equals_an_accumulator_per_task_and_scores_families():
  batches = _batches(np.random.default_rng(0))
  evaluator = ClassificationEvaluator(NUM_CLASSES, FAMILY)
  for batch in batches:
    evaluator.update(batch)
  result = evaluator.result()
  assert set(result) == {'style', 'artist', 'genre', 'style_family'}
  for task, n in NUM_CLASSES.items():
    acc = ClassificationAccumulator(n)
    for batch in batches:
      acc.update(batch.probs[task], batch.labels[task])
    np.testing.assert_array_equal(result[task]['confusion'], acc.compute()['confusion'])
    assert result[task]['top1'] == acc.compute()['top1']
  family = ClassificationAccumulator(2)
  for batch in batches:
    style = batch.labels['style']
    family.update(batch.probs['style_family'],
                  np.where(style >= 0, FAMILY[np.maximum(style, 0)], -1))
  np.testing.assert_array_equal(result['style_family']['confusion'], family.compute()['confusion'])
  line = evaluator.line(result)
  assert line.startswith('style top1 ') and '| style_family top1' in line


def test_without_families_there_is_no_family_entry():
  evaluator = ClassificationEvaluator(NUM_CLASSES)
  evaluator.update(_batches(np.random.default_rng(1), 1)[0])
  assert set(evaluator.result()) == set(NUM_CLASSES)
  assert evaluator.samples == [] and not evaluator.needs_text
