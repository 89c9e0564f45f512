"""Multi-label content-tag metrics: mean average precision, and micro / macro F1 at a threshold.

Targets may be soft (CLIP probabilities): a tag counts as present where its target
is >= 0.5. Each (image, tag) pair has a mask; unknown pairs (and padding rows)
are left out of everything. Conventions of `TagAccumulator.compute()`:

* AP of a tag is scikit-learn's `average_precision_score` on its known rows; it
  is defined (and enters the mean) only for a tag with at least one positive.
* micro-F1 is `f1_score` over every known (image, tag) pair; macro-F1 the mean of
  each tag's binary F1 (zero_division=0) over the tags AP averages.
* The threshold is the caller's (the one chosen on val, for test), else the one
  of `THRESHOLDS` with the best micro-F1 on these data (ties: the lowest).
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skmetrics

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 0.96, 0.05))


def _f1(positive: np.ndarray, predicted: np.ndarray) -> float:
  """Binary F1 of boolean arrays (0 where undefined), as sklearn's zero_division=0."""
  tp = float(np.sum(positive & predicted))
  denominator = float(np.sum(positive) + np.sum(predicted))
  return 2 * tp / denominator if denominator else 0.0


class TagAccumulator:
  """Keeps the probabilities, targets and masks of every evaluated image [N, T]."""

  def __init__(self, num_tags: int):
    if num_tags < 1:
      raise ValueError(f'num_tags must be >= 1, got {num_tags}')
    self.num_tags = int(num_tags)
    self._probs, self._targets, self._masks = [], [], []

  def update(self, probs, targets, mask) -> None:
    """Adds a batch: probabilities, targets (soft, in [0, 1]) and mask (1 = known), [B, T]."""
    probs, targets, mask = (np.asarray(x, np.float64) for x in (probs, targets, mask))
    shape = (len(probs), self.num_tags)
    if probs.shape != shape or targets.shape != shape or mask.shape != shape:
      raise ValueError(f'tag probabilities, targets and mask must all be {list(shape)}, got '
                       f'{probs.shape}, {targets.shape}, {mask.shape}')
    keep = (mask > 0).any(axis=1)
    self._probs.append(probs[keep])
    self._targets.append(targets[keep])
    self._masks.append(mask[keep] > 0)

  def _arrays(self):
    t = self.num_tags
    cat = lambda xs, dtype: (np.concatenate(xs) if xs else np.zeros((0, t), dtype))
    return (cat(self._probs, np.float64), cat(self._targets, np.float64) >= 0.5,
            cat(self._masks, bool))

  def compute(self, threshold: float | None = None) -> dict:
    """map, f1_micro, f1_macro, threshold, count (images with a known tag), tags
    (tags with a positive), and per-tag arrays per_tag_ap / per_tag_f1 (NaN where
    undefined) and per_tag_support (known positives)."""
    probs, positive, known = self._arrays()
    support = (positive & known).sum(axis=0)
    scored = support > 0
    ap = np.full(self.num_tags, np.nan)
    for j in np.flatnonzero(scored):
      rows = known[:, j]
      ap[j] = skmetrics.average_precision_score(positive[rows, j], probs[rows, j])
    if threshold is None:
      threshold = self.best_threshold()
    predicted = probs >= threshold
    f1 = np.full(self.num_tags, np.nan)
    for j in np.flatnonzero(scored):
      f1[j] = _f1(positive[known[:, j], j], predicted[known[:, j], j])
    nan = float('nan')
    return {
        'map': float(ap[scored].mean()) if scored.any() else nan,
        'f1_micro': _f1(positive[known], predicted[known]) if known.any() else nan,
        'f1_macro': float(f1[scored].mean()) if scored.any() else nan,
        'threshold': float(threshold),
        'count': int(len(probs)),
        'tags': int(scored.sum()),
        'per_tag_ap': ap,
        'per_tag_f1': f1,
        'per_tag_support': support,
    }

  def best_threshold(self) -> float:
    """The threshold of THRESHOLDS with the best micro-F1 on the data seen (0.5 without)."""
    probs, positive, known = self._arrays()
    if not known.any():
      return 0.5
    scores = [_f1(positive[known], probs[known] >= t) for t in THRESHOLDS]
    return float(THRESHOLDS[int(np.argmax(scores))])
