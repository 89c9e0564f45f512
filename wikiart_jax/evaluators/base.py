"""What every evaluator is: it sees each evaluation batch once and yields named metrics.

Evaluators are built by name from `config.eval.evaluators` (evaluators/runner.py)
and share one pass over the split: the runner runs the forward pass once per
batch and hands each evaluator an `EvalBatch`. A new task adds an evaluator, not
a branch in the training loop.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any


@dataclasses.dataclass
class EvalBatch:
  """One evaluation batch, as the evaluators see it.

  Attributes:
    local: this process's rows (numpy): 'image', the labels, and 'title' / 'path'
      when an evaluator asked for text.
    labels: every process's labels, task -> int [B] (-1 = missing or padding), and
      'year' [B] (-1 unknown), and 'tags' / 'tags_mask' [B, T] when the dataset has
      tag targets.
    probs: every process's class probabilities, head -> [B, C].
    context: this process's rows of the captioner's context, or None.
    local_probs: this process's rows of `probs`, and of `tags` and `period` under
      those names (None: the same as the gathered ones: one process).
    tags: every process's tag probabilities [B, T], or None (no tag head).
    period: every process's period-bin probabilities [B, P], or None (no period head).
  """
  local: dict[str, Any]
  labels: dict[str, Any]
  probs: dict[str, Any]
  context: Any = None
  local_probs: dict[str, Any] | None = None
  tags: Any = None
  period: Any = None

  @property
  def own_probs(self) -> dict[str, Any]:
    """The probabilities of the rows in `local` (this process's)."""
    return self.probs if self.local_probs is None else self.local_probs

  @property
  def own_content(self) -> tuple[Any, Any]:
    """The tag and period probabilities of the rows in `local` (None without the head)."""
    if self.local_probs is None:
      return self.tags, self.period
    return self.local_probs.get('tags'), self.local_probs.get('period')


class Evaluator(abc.ABC):
  """Accumulates over the batches of one evaluation, then reports."""

  name: str = ''
  needs_text: bool = False  # batches must keep 'title' and 'path'

  @abc.abstractmethod
  def update(self, batch: EvalBatch) -> None:
    """Adds one batch."""

  @abc.abstractmethod
  def result(self) -> dict[str, dict]:
    """metrics.json 'eval' entries, e.g. {'style': {'top1': ...}}; arrays allowed
    (confusion matrices), which only the reports read."""

  @abc.abstractmethod
  def line(self, result: dict[str, dict]) -> str:
    """The result in a few words, for the progress log."""

  @property
  def samples(self) -> list[dict]:
    """Example outputs to show (e.g. generated descriptions); none by default."""
    return []
