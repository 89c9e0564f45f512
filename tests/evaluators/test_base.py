"""The evaluator interface: what a new evaluator must define, and its defaults."""

import numpy as np
import pytest

from wikiart_jax.evaluators.base import EvalBatch, Evaluator


class _Count(Evaluator):
  """Counts the labelled style rows: the smallest evaluator there can be."""

  name = 'count'

  def __init__(self):
    self.rows = 0

  def update(self, batch):
    self.rows += int((batch.labels['style'] >= 0).sum())

  def result(self):
    return {'count': {'rows': self.rows}}

  def line(self, result):
    return f"{result['count']['rows']} rows"


def test_an_evaluator_must_define_update_result_and_line():
  class Partial(Evaluator):
    def update(self, batch):
      pass
  with pytest.raises(TypeError, match='abstract'):
    Partial()  # pylint: disable=abstract-class-instantiated


def test_a_minimal_evaluator_runs_with_the_defaults():
  evaluator = _Count()
  batch = EvalBatch(local={}, labels={'style': np.array([0, -1, 2])}, probs={})
  assert batch.context is None and batch.tags is None and batch.period is None
  evaluator.update(batch)
  evaluator.update(batch)
  assert evaluator.line(evaluator.result()) == '4 rows'
  assert evaluator.samples == [] and not evaluator.needs_text
