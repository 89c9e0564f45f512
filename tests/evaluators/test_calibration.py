"""The calibration evaluator: temperatures fitted on val, applied on test."""

import numpy as np
import pytest

from wikiart_jax.core import TASKS
from wikiart_jax.evaluators.base import EvalBatch
from wikiart_jax.evaluators.calibration import CalibrationEvaluator, temperatures_of
from wikiart_jax.metrics import calibration


def _batches(seed, n=3):
  rng = np.random.default_rng(seed)
  out = []
  for _ in range(n):
    probs, labels = {}, {}
    for task, classes in zip(TASKS, (27, 5, 10)):
      logits = rng.normal(size=(64, classes)) * 4  # overconfident
      probs[task] = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
      labels[task] = rng.integers(-1, classes, 64)  # some unlabelled rows
    out.append(EvalBatch(local={}, labels=labels, probs=probs))
  return out


def test_fits_on_val_applies_on_test():
  val = CalibrationEvaluator()
  for batch in _batches(0):
    val.update(batch)
  result = val.result()
  for task in TASKS:
    probs = np.concatenate([b.probs[task] for b in _batches(0)])
    labels = np.concatenate([b.labels[task] for b in _batches(0)])
    assert result['calibration'][task] == pytest.approx(calibration.calibrate(probs, labels))
  temperatures = temperatures_of(result)
  assert all(t > 1 for t in temperatures.values())  # random labels: soften
  test = CalibrationEvaluator(temperatures)
  for batch in _batches(1):
    test.update(batch)
  entry = test.result()['calibration']
  assert {t: entry[t]['temperature'] for t in TASKS} == pytest.approx(temperatures)
  assert all(entry[t]['ece_after'] < entry[t]['ece_before'] for t in TASKS)
  assert val.line(result).startswith('ECE style ')
  assert temperatures_of({'style': {}}) is None
