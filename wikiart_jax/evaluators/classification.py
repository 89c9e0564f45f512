"""Top-1, top-5, macro-F1 and confusion matrices of every classification head.

Labels -1 (missing labels and the padding rows of the last batch) are ignored.
With a hierarchical style head the style families are scored too.
"""

import numpy as np

from wikiart_jax.core import TASKS
from wikiart_jax.evaluators.base import EvalBatch, Evaluator
from wikiart_jax.metrics.classification import ClassificationAccumulator


class ClassificationEvaluator(Evaluator):
  """One `ClassificationAccumulator` per head."""

  name = 'classification'

  def __init__(self, num_classes: dict[str, int], style_to_family: np.ndarray | None = None):
    """Args: task -> number of classes; the family of each style (hierarchical head)."""
    num_classes = dict(num_classes)
    self._families = style_to_family
    if style_to_family is not None:
      num_classes['style_family'] = int(np.max(style_to_family)) + 1
    self._accumulators = {task: ClassificationAccumulator(n) for task, n in num_classes.items()}

  def update(self, batch: EvalBatch) -> None:
    for task in TASKS:
      self._accumulators[task].update(batch.probs[task], batch.labels[task])
    if self._families is not None:
      style = batch.labels['style']
      family = np.where(style >= 0, self._families[np.maximum(style, 0)], -1)
      self._accumulators['style_family'].update(batch.probs['style_family'], family)

  def result(self) -> dict[str, dict]:
    """task -> `ClassificationAccumulator.compute()`: top1, top5, f1_macro, count,
    per_class and confusion."""
    return {task: acc.compute() for task, acc in self._accumulators.items()}

  def line(self, result: dict[str, dict]) -> str:
    return ' | '.join(
        f"{task} top1 {result[task]['top1']:.3f} top5 {result[task]['top5']:.3f} "
        f"F1 {result[task]['f1_macro']:.3f}" for task in self._accumulators)
