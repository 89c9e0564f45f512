"""Calibration of every classification head: ECE before and after temperature scaling.

On the validation split the evaluator fits one temperature per head
(metrics/calibration.py); on the test split it applies the temperatures fitted
on validation for the same checkpoint, so the test figure is an honest one.
Its entry in metrics.json: `calibration: {task: {temperature, ece_before,
ece_after, nll_before, nll_after, count}}`.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from wikiart_jax.core import TASKS
from wikiart_jax.evaluators.base import EvalBatch, Evaluator
from wikiart_jax.metrics import calibration


class CalibrationEvaluator(Evaluator):
  """Collects each head's probabilities and labels, then calibrates."""

  name = 'calibration'

  def __init__(self, temperatures: Mapping[str, float] | None = None):
    """Args: the temperatures to apply (test split); None fits them here (val)."""
    self._temperatures = dict(temperatures) if temperatures else None
    self._probs: dict[str, list[np.ndarray]] = {task: [] for task in TASKS}
    self._labels: dict[str, list[np.ndarray]] = {task: [] for task in TASKS}

  def update(self, batch: EvalBatch) -> None:
    for task in TASKS:
      labels = np.asarray(batch.labels[task])
      keep = labels >= 0  # only labelled rows: the artist head's 1,119 columns add up
      self._probs[task].append(np.asarray(batch.probs[task], np.float32)[keep])
      self._labels[task].append(labels[keep])

  def result(self) -> dict[str, dict]:
    out = {}
    for task in TASKS:
      if not self._labels[task]:
        continue
      given = None if self._temperatures is None else self._temperatures.get(task)
      out[task] = calibration.calibrate(np.concatenate(self._probs[task]),
                                        np.concatenate(self._labels[task]), given)
    return {'calibration': out}

  def line(self, result: dict[str, dict]) -> str:
    return 'ECE ' + ' '.join(
        f"{task} {m['ece_before']:.3f}->{m['ece_after']:.3f} (T {m['temperature']:.2f})"
        for task, m in result['calibration'].items())


def temperatures_of(metrics: Mapping[str, dict]) -> dict[str, float] | None:
  """The temperatures in an evaluation's metrics, or None when it did not calibrate."""
  entry = metrics.get('calibration')
  if not entry:
    return None
  return {task: float(m['temperature']) for task, m in entry.items()}
