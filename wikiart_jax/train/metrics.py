"""In-jit training metrics (clu): the loss, each task's loss and accuracy, extra scalars.

The train step returns one `Collection` per step; the loop merges them over a
logging window and writes `compute()`. Labels -1 are excluded from every mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clu import metrics as clu_metrics
import flax
import jax.numpy as jnp


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


def make_train_metrics(tasks: Sequence[str], scalars: Sequence[str] = (),
                       loss_only: Sequence[str] = ()) -> type[clu_metrics.Collection]:
  """Builds a `clu.metrics.Collection` class for training summaries.

  Fields: `loss` (mean of the step's total loss), `learning_rate` (last value),
  `<task>_loss` and `<task>_accuracy` (masked means over labelled examples,
  labels -1 excluded) for each task, `<task>_loss` alone for each task of
  `loss_only` (the multi-label tags, which have no top-1), and `<name>` (mean)
  for each extra scalar such as 'grad_norm'.

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
  for task in loss_only:
    fields[f'{task}_loss'] = MaskedMean.from_fun(_task_loss_fn(task))
  for name in scalars:
    if name in fields:
      raise ValueError(f'extra scalar {name!r} clashes with a built-in metric')
    fields[name] = clu_metrics.Average.from_output(name)
  cls = type('TrainMetrics', (clu_metrics.Collection,),
             {'__annotations__': fields, '__module__': __name__})
  return flax.struct.dataclass(cls)
