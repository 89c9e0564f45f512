"""The period evaluator: the batches' bin probabilities against their years, in one entry."""

import numpy as np
import pytest

from wikiart_jax.core import NUM_PERIOD_BINS, PERIOD
from wikiart_jax.evaluators.base import EvalBatch
from wikiart_jax.evaluators.period import PeriodEvaluator


def _batch(rng, years):
  probs = rng.dirichlet(np.ones(NUM_PERIOD_BINS), len(years))
  return EvalBatch(local={}, labels={'year': np.asarray(years)}, probs={}, period=probs)


def test_the_errors_are_those_of_the_expected_years_over_every_batch():
  rng = np.random.default_rng(0)
  batches = [_batch(rng, [1500, -1, 1890, 1910]), _batch(rng, [1665, 1999, -1, -1])]
  evaluator = PeriodEvaluator()
  for batch in batches:
    evaluator.update(batch)
  result = evaluator.result()
  assert set(result) == {PERIOD}
  # The expected year, by hand: each bin counts for its middle (1412.5, 1437.5, ...).
  centres = 1400 + 25 * np.arange(NUM_PERIOD_BINS) + 12.5
  errors = [abs(p @ centres - y) for b in batches
            for p, y in zip(b.period, b.labels['year']) if y >= 0]
  assert result[PERIOD]['count'] == 5  # the unknown years (-1) are skipped
  assert result[PERIOD]['mae_years'] == pytest.approx(np.mean(errors), abs=1e-9)
  assert result[PERIOD]['within_25'] == pytest.approx(np.mean(np.array(errors) <= 25))
  assert result[PERIOD]['confusion'].sum() == 5
  line = evaluator.line(result)
  assert line.startswith(f"period MAE {result[PERIOD]['mae_years']:.1f} y, within 25 y ")
  assert evaluator.samples == [] and not evaluator.needs_text


def test_without_a_known_year_the_error_is_nan():
  evaluator = PeriodEvaluator()
  evaluator.update(_batch(np.random.default_rng(1), [-1, -1]))
  result = evaluator.result()[PERIOD]
  assert result['count'] == 0 and np.isnan(result['mae_years'])
