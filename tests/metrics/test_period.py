"""The period task's bins, expected year and metrics, by hand."""

import numpy as np
import pytest

from wikiart_jax.core import NUM_PERIOD_BINS
from wikiart_jax.metrics import period


def test_bins_of_years():
  assert NUM_PERIOD_BINS == 25
  got = period.bin_of(np.array([1400, 1424, 1425, 1872, 1999, 2024, 1305, 2030, -1]))
  assert got.tolist() == [0, 0, 1, 18, 23, 24, 0, 24, -1]
  assert period.bin_label(18) == '1850\u20131874' and period.bin_centres()[18] == 1862.5
  assert len(period.bin_labels()) == NUM_PERIOD_BINS


def test_expected_year_is_the_mean_of_the_bin_centres():
  probs = np.zeros((2, NUM_PERIOD_BINS))
  probs[0, 18] = 1.0  # certain: 1850-1874 -> 1862.5
  probs[1, [0, 24]] = 0.5  # split between 1400-1424 and 2000-2024
  np.testing.assert_allclose(period.expected_year(probs), [1862.5, (1412.5 + 2012.5) / 2])


def test_metrics_by_hand():
  probs = np.zeros((4, NUM_PERIOD_BINS))
  probs[0, 18] = 1.0  # says 1862.5
  probs[1, 18] = 1.0  # says 1862.5
  probs[2, 4] = 1.0  # says 1512.5
  probs[3, 20] = 1.0  # unknown year: left out
  years = np.array([1870, 1900, 1520, -1])
  acc = period.PeriodAccumulator()
  acc.update(probs[:2], years[:2])
  acc.update(probs[2:], years[2:])
  got = acc.compute()
  errors = [7.5, 37.5, 7.5]
  assert got['mae_years'] == pytest.approx(np.mean(errors))
  assert got['within_25'] == pytest.approx(2 / 3)
  assert got['count'] == 3
  assert got['top1'] == pytest.approx(2 / 3)  # 1900 is in bin 20, not 18
  assert got['confusion'][20, 18] == 1 and got['confusion'][18, 18] == 1


def test_no_dated_image_is_nan():
  got = period.PeriodAccumulator().compute()
  assert np.isnan(got['mae_years']) and np.isnan(got['within_25']) and got['count'] == 0
