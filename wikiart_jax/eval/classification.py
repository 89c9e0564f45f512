"""Classification metrics: a streaming host-side accumulator and in-jit clu metrics.

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

from clu import metrics as clu_metrics
import flax
import jax.numpy as jnp
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


# ---------------------------------------------------------------------------
# In-jit training metrics (clu).


@flax.struct.dataclass
class MaskedMean(clu_metrics.Metric):
  """Mean over the labelled examples of a whole logging window.

  Keeps a float32 sum and a float32 count (a count may be a sum of example
  weights), so merging steps gives sum(all totals) / sum(all counts), not a
  mean of per-step means. Computes NaN when the window had no labelled example.
  """

  total: jnp.ndarray
  count: jnp.ndarray

  @classmethod
  def empty(cls) -> MaskedMean:
    return cls(total=jnp.zeros((), jnp.float32),
               count=jnp.zeros((), jnp.float32))

  @classmethod
  def from_model_output(cls, total: jnp.ndarray, count: jnp.ndarray,
                        **_) -> MaskedMean:
    return cls(total=jnp.asarray(total, jnp.float32).sum(),
               count=jnp.asarray(count, jnp.float32).sum())

  def merge(self, other: MaskedMean) -> MaskedMean:
    return type(self)(total=self.total + other.total,
                      count=self.count + other.count)

  def compute(self) -> jnp.ndarray:
    return jnp.where(self.count > 0,
                     self.total / jnp.maximum(self.count, 1e-12), jnp.nan)


def _task_loss_fn(task: str):
  """Reads `task_loss[task]`: a (sum, count) pair, or per-example losses [B]."""

  def fn(task_loss, labels, **_):
    value = task_loss[task]
    if isinstance(value, (tuple, list)):
      total, count = value
      return {'total': total, 'count': count}
    mask = labels[task] >= 0
    return {'total': jnp.where(mask, value, 0.0).sum(), 'count': mask.sum()}

  return fn


def _task_accuracy_fn(task: str):
  """Masked top-1 accuracy of `logits[task]` against `labels[task]`."""

  def fn(logits, labels, **_):
    y = labels[task]
    mask = y >= 0
    hit = (jnp.argmax(logits[task], axis=-1) == y) & mask
    return {'total': hit.sum(), 'count': mask.sum()}

  return fn


def make_train_metrics(tasks: Sequence[str],
                       scalars: Sequence[str] = ()) -> type[clu_metrics.Collection]:
  """Builds a `clu.metrics.Collection` class for training summaries.

  Fields: `loss` (mean of the step's total loss), `learning_rate` (last value),
  `<task>_loss` and `<task>_accuracy` (masked means over labelled examples,
  labels -1 excluded) for each task, and `<name>` (mean) for each extra scalar
  such as 'grad_norm'.

  Inside the jitted step:

      update = Metrics.single_from_model_output(
          loss=loss,                       # scalar
          learning_rate=schedule(step),    # scalar
          logits=outputs,                  # {task: [B, C]}
          labels={t: batch[t] for t in tasks},   # {task: [B]}, -1 = missing
          task_loss=per_task,              # {task: (sum, count)} or {task: [B]}
          grad_norm=grad_norm)             # one kwarg per extra scalar
      metrics = metrics.merge(update)      # or return `update`, merge on host

  Start from `Metrics.empty()`; after `log_every` steps, write
  `metrics.compute()` (jax scalars; NaN for a task with no labelled example in
  the window) and start again from empty. Extra keys in `logits` (e.g.
  'style_family') are ignored.
  """
  if not tasks:
    raise ValueError('make_train_metrics needs at least one task')
  fields: dict[str, Any] = {
      'loss': clu_metrics.Average.from_output('loss'),
      'learning_rate': clu_metrics.LastValue.from_output('learning_rate'),
  }
  for task in tasks:
    fields[f'{task}_loss'] = MaskedMean.from_fun(_task_loss_fn(task))
    fields[f'{task}_accuracy'] = MaskedMean.from_fun(_task_accuracy_fn(task))
  for name in scalars:
    if name in fields:
      raise ValueError(f'extra scalar {name!r} clashes with a built-in metric')
    fields[name] = clu_metrics.Average.from_output(name)
  cls = type('TrainMetrics', (clu_metrics.Collection,),
             {'__annotations__': fields, '__module__': __name__})
  return flax.struct.dataclass(cls)


__all__ = [
    'ClassificationAccumulator', 'ConfusedPair', 'MaskedMean',
    'make_train_metrics', 'most_confused_pairs',
]
