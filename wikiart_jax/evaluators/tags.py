"""The content tags: mean average precision and micro / macro F1 (metrics/tags.py).

The F1s' threshold is the one given (on test: the one val chose, which training
and `mode=eval` pass on), else the best on these data (on val, and reported).
"""

from wikiart_jax.core import TAGS, TAGS_MASK
from wikiart_jax.evaluators.base import EvalBatch, Evaluator
from wikiart_jax.metrics.tags import TagAccumulator


class TagEvaluator(Evaluator):
  """Accumulates the tag probabilities against the (masked, possibly soft) targets."""

  name = TAGS

  def __init__(self, num_tags: int, threshold: float | None = None):
    self._accumulator = TagAccumulator(num_tags)
    self._threshold = threshold

  def update(self, batch: EvalBatch) -> None:
    self._accumulator.update(batch.tags, batch.labels[TAGS], batch.labels[TAGS_MASK])

  def result(self) -> dict[str, dict]:
    """{'tags': map, f1_micro, f1_macro, threshold, count, tags, per-tag arrays}."""
    return {TAGS: self._accumulator.compute(self._threshold)}

  def line(self, result: dict[str, dict]) -> str:
    r = result[TAGS]
    return (f"tags mAP {r['map']:.3f} F1 micro {r['f1_micro']:.3f} macro {r['f1_macro']:.3f} "
            f"@{r['threshold']:.2f}")
