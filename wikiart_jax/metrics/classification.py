"""Classification metrics on the host: a streaming accumulator and the most confused pairs.

Labels use -1 for "missing" (unknown genre, padding rows of the last eval batch);
such rows are ignored everywhere.

Conventions of `ClassificationAccumulator.compute()`, chosen to match
scikit-learn with `zero_division=0`:

* top-1 uses `argmax` (the first index wins a tie), like
  `accuracy_score(y, scores.argmax(1))`.
* top-k ranks the true class by (score descending, index ascending), so ties
  break the same way as top-1 and top-1 == top-k with k = 1. With k >= C it is 1.
  On tie-free scores this equals `top_k_accuracy_score`.
* Macro-F1 averages the per-class F1 over the classes present in the labels or
  the predictions (sklearn's default `labels`), i.e.
  `f1_score(y, pred, average='macro', labels=present, zero_division=0)`: a
  class that never appears in either has no defined F1 and does not drag the
  mean to 0 (1,119 artists and a small validation set would otherwise make the
  number meaningless).
* Per-class precision / recall / F1 are 0 where undefined (zero_division=0).
* With no labelled row at all, top1 / top5 / f1_macro are NaN (no data, not 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np


class ClassificationAccumulator:
  """Streams [B, C] scores and [B] labels into a confusion matrix and top-k hits.

  Memory is O(C^2) int64 whatever the number of examples (10 MB for 1,119
  artists), so all logits never need to be kept. Scores may be logits,
  log-probabilities or probabilities: only their order matters.
  """

  def __init__(self, num_classes: int, top_k: int = 5):
    if num_classes < 1:
      raise ValueError(f'num_classes must be >= 1, got {num_classes}')
    if top_k < 1:
      raise ValueError(f'top_k must be >= 1, got {top_k}')
    self.num_classes = int(num_classes)
    self.top_k = int(top_k)
    self.confusion = np.zeros((num_classes, num_classes), np.int64)
    self.top_k_hits = 0

  def update(self, scores: Any, labels: Any) -> None:
    """Adds one batch; rows whose label is -1 are skipped."""
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 2 or scores.shape[1] != self.num_classes:
      raise ValueError(f'scores must be [B, {self.num_classes}], got shape '
                       f'{scores.shape}')
    if labels.shape != scores.shape[:1]:
      raise ValueError(f'labels must be [{scores.shape[0]}], got shape '
                       f'{labels.shape}')
    if labels.size and (labels.min() < -1 or labels.max() >= self.num_classes):
      raise ValueError(f'labels must lie in [-1, {self.num_classes - 1}], got '
                       f'[{labels.min()}, {labels.max()}]')
    keep = labels >= 0
    scores = scores[keep].astype(np.float64)
    labels = labels[keep].astype(np.int64)
    if not labels.size:
      return
    preds = scores.argmax(axis=1)
    c = self.num_classes
    self.confusion += np.bincount(labels * c + preds,
                                  minlength=c * c).reshape(c, c)
    # Rank of the true class without sorting C scores: how many classes beat
    # it, counting an equal score at a lower index as beating it (argmax order).
    true_score = scores[np.arange(len(labels)), labels][:, None]
    lower_index = np.arange(c)[None, :] < labels[:, None]
    rank = ((scores > true_score) |
            ((scores == true_score) & lower_index)).sum(axis=1)
    self.top_k_hits += int((rank < self.top_k).sum())

  def merge(self, other: ClassificationAccumulator) -> None:
    """Adds another accumulator's counts (e.g. from another process) in place."""
    if (other.num_classes, other.top_k) != (self.num_classes, self.top_k):
      raise ValueError('cannot merge accumulators with different num_classes '
                       'or top_k')
    self.confusion += other.confusion
    self.top_k_hits += other.top_k_hits

  def compute(self) -> dict[str, Any]:
    """Returns top1, top{k}, f1_macro, count, per_class and the confusion matrix.

    `per_class` holds float arrays `precision`, `recall`, `f1` and int64
    `support` (true count), each [C]; `confusion[i, j]` counts examples of true
    class i predicted as j (sklearn's `confusion_matrix` layout).
    """
    conf = self.confusion
    count = int(conf.sum())
    tp = np.diag(conf).astype(np.float64)
    support = conf.sum(axis=1)
    predicted = conf.sum(axis=0)
    precision = _safe_divide(tp, predicted)
    recall = _safe_divide(tp, support)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    present = (support + predicted) > 0
    nan = float('nan')
    return {
        'top1': float(tp.sum() / count) if count else nan,
        f'top{self.top_k}': self.top_k_hits / count if count else nan,
        'f1_macro': float(f1[present].mean()) if present.any() else nan,
        'count': count,
        'per_class': {'precision': precision, 'recall': recall, 'f1': f1,
                      'support': support},
        'confusion': conf.copy(),
    }


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
  """num / den with 0 where den == 0 (sklearn's zero_division=0)."""
  num = np.asarray(num, np.float64)
  den = np.asarray(den, np.float64)
  return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


class ConfusedPair(NamedTuple):
  """One off-diagonal confusion cell: `count` of `true` predicted as `predicted`."""
  true: str
  predicted: str
  count: int
  rate: float  # count / support of `true`


def most_confused_pairs(confusion: np.ndarray, names: Sequence[str],
                        k: int = 10) -> list[ConfusedPair]:
  """Returns the k largest off-diagonal cells, largest first (ties by index)."""
  confusion = np.asarray(confusion)
  c = len(names)
  if confusion.shape != (c, c):
    raise ValueError(f'confusion must be [{c}, {c}] to match names, got '
                     f'{confusion.shape}')
  off = confusion.astype(np.int64).copy()
  np.fill_diagonal(off, 0)
  flat = off.ravel()
  # Stable sort on -count keeps row-major index order among ties.
  order = np.argsort(-flat, kind='stable')[:k]
  support = confusion.sum(axis=1)
  pairs = []
  for idx in order:
    if flat[idx] <= 0:
      break
    i, j = divmod(int(idx), c)
    pairs.append(ConfusedPair(names[i], names[j], int(flat[idx]),
                              float(flat[idx] / support[i])))
  return pairs
