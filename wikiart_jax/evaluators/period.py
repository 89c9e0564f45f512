"""The period: the expected year's mean absolute error, the share within 25 years,
and the bins' top-1 / top-5 / macro-F1 / confusion (metrics/period.py)."""

from wikiart_jax.core import PERIOD
from wikiart_jax.evaluators.base import EvalBatch, Evaluator
from wikiart_jax.metrics.period import PeriodAccumulator


class PeriodEvaluator(Evaluator):
  """Accumulates the bin probabilities against the true years (-1 = unknown, skipped)."""

  name = PERIOD

  def __init__(self):
    self._accumulator = PeriodAccumulator()

  def update(self, batch: EvalBatch) -> None:
    self._accumulator.update(batch.period, batch.labels['year'])

  def result(self) -> dict[str, dict]:
    return {PERIOD: self._accumulator.compute()}

  def line(self, result: dict[str, dict]) -> str:
    r = result[PERIOD]
    return (f"period MAE {r['mae_years']:.1f} y, within 25 y {r['within_25']:.3f}, "
            f"bin top1 {r['top1']:.3f}")
