"""The tag evaluator: masked (soft) targets against scikit-learn, its threshold passed on."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from wikiart_jax.core import TAGS, TAGS_MASK
from wikiart_jax.evaluators.base import EvalBatch
from wikiart_jax.evaluators.tags import TagEvaluator
from wikiart_jax.metrics.tags import THRESHOLDS


def _batches(seed=0, n=3, rows=10, num_tags=4):
  rng = np.random.default_rng(seed)
  out = []
  for _ in range(n):
    probs = rng.random((rows, num_tags))
    targets = (rng.random((rows, num_tags)) < 0.5) * 0.9  # soft: present at 0.9
    mask = (rng.random((rows, num_tags)) < 0.8).astype(np.float32)
    out.append(EvalBatch(local={}, labels={TAGS: targets, TAGS_MASK: mask}, probs={},
                         tags=probs))
  return out


def _run(evaluator, batches):
  for batch in batches:
    evaluator.update(batch)
  return evaluator.result()


def test_the_mean_average_precision_is_scikit_learns_on_the_known_pairs():
  batches = _batches()
  result = _run(TagEvaluator(4), batches)
  assert set(result) == {TAGS}
  probs = np.concatenate([b.tags for b in batches])
  positive = np.concatenate([b.labels[TAGS] for b in batches]) >= 0.5
  known = np.concatenate([b.labels[TAGS_MASK] for b in batches]) > 0
  aps = [average_precision_score(positive[known[:, j], j], probs[known[:, j], j])
         for j in range(4)]
  assert result[TAGS]['map'] == pytest.approx(np.mean(aps), abs=1e-12)
  line = TagEvaluator(4).line(result)
  assert line.startswith(f"tags mAP {result[TAGS]['map']:.3f} F1 micro ")


def test_a_given_threshold_is_used_else_the_best_one_is_chosen():
  batches = _batches(seed=1)
  assert _run(TagEvaluator(4, threshold=0.3), batches)[TAGS]['threshold'] == 0.3
  chosen = _run(TagEvaluator(4), batches)[TAGS]
  # The chosen threshold is the candidate with the best micro F1: no given one beats it.
  assert chosen['threshold'] in THRESHOLDS
  for threshold in THRESHOLDS:
    assert _run(TagEvaluator(4, threshold), batches)[TAGS]['f1_micro'] <= chosen['f1_micro'] + 1e-12
