"""The period task: years to 25-year bins and back, the expected year, and its metrics.

A year falls in bin (year - 1400) // 25 of [1400, 1425), ..., [2000, 2025) (core's
PERIOD_* constants); earlier years go to the first bin, later ones to the last,
and -1 (unknown) stays -1. The model's estimate is the expected year under its
bin probabilities, each bin counting for its centre. Metrics, on the labelled
images only: the mean absolute error of that estimate in years, the share within
25 years, and the bins' top-1 / top-5 / macro-F1 / confusion
(`ClassificationAccumulator`), so the report draws the period like a class task.
"""

from __future__ import annotations

import numpy as np

from wikiart_jax.core import NUM_PERIOD_BINS, PERIOD_START, PERIOD_STEP
from wikiart_jax.metrics.classification import ClassificationAccumulator

WITHIN_YEARS = 25  # the tolerance of `within_25`


def bin_of(years) -> np.ndarray:
  """int32 bin of each year; -1 where the year is unknown (negative)."""
  years = np.asarray(years)
  bins = np.clip((years - PERIOD_START) // PERIOD_STEP, 0, NUM_PERIOD_BINS - 1)
  return np.where(years >= 0, bins, -1).astype(np.int32)


def bin_starts() -> np.ndarray:
  """The first year of each bin [NUM_PERIOD_BINS]."""
  return PERIOD_START + PERIOD_STEP * np.arange(NUM_PERIOD_BINS)


def bin_centres() -> np.ndarray:
  """The year each bin counts for in the expected year: its middle (1862.5 for 1850-1874)."""
  return bin_starts() + PERIOD_STEP / 2


def bin_label(index: int) -> str:
  """'1850–1874': the bin's first and last year."""
  start = int(bin_starts()[index])
  return f'{start}\u2013{start + PERIOD_STEP - 1}'


def bin_labels() -> list[str]:
  return [bin_label(i) for i in range(NUM_PERIOD_BINS)]


def expected_year(probs) -> np.ndarray:
  """The expected year [B] under bin probabilities [B, NUM_PERIOD_BINS]."""
  probs = np.asarray(probs, np.float64)
  if probs.ndim != 2 or probs.shape[1] != NUM_PERIOD_BINS:
    raise ValueError(f'period probabilities must be [B, {NUM_PERIOD_BINS}], got {probs.shape}')
  return probs @ bin_centres() / probs.sum(axis=1)


def spread_years(probs) -> np.ndarray:
  """The standard deviation [B] of the year under bin probabilities [B, NUM_PERIOD_BINS]:
  the bins' centres spread, plus a uniform year within each bin (25 / sqrt(12) alone)."""
  probs = np.asarray(probs, np.float64)
  mean = expected_year(probs)
  centres = bin_centres()
  var = (probs * (centres[None] - mean[:, None]) ** 2).sum(axis=1) / probs.sum(axis=1)
  return np.sqrt(var + PERIOD_STEP ** 2 / 12)


class PeriodAccumulator:
  """Streams bin probabilities and true years; years -1 (unknown, padding) are skipped."""

  def __init__(self):
    self._bins = ClassificationAccumulator(NUM_PERIOD_BINS)
    self._errors: list[np.ndarray] = []

  def update(self, probs, years) -> None:
    years = np.asarray(years)
    probs = np.asarray(probs)
    if years.shape != probs.shape[:1]:
      raise ValueError(f'years must be [{probs.shape[0]}], got {years.shape}')
    known = years >= 0
    self._bins.update(probs, bin_of(years))
    if known.any():
      self._errors.append(np.abs(expected_year(probs[known]) - years[known]))

  def compute(self) -> dict:
    """mae_years, within_25 (share of |error| <= 25 years), count, and the bins'
    top1, top5, f1_macro, per_class and confusion; NaN without a labelled image."""
    out = self._bins.compute()
    errors = np.concatenate(self._errors) if self._errors else np.zeros(0)
    out['mae_years'] = float(errors.mean()) if errors.size else float('nan')
    out['within_25'] = float((errors <= WITHIN_YEARS).mean()) if errors.size else float('nan')
    out['count'] = int(errors.size)
    return out
