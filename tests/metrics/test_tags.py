"""Tag metrics against scikit-learn: masked, soft, streamed in batches, padded."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score

from wikiart_jax.metrics.tags import THRESHOLDS, TagAccumulator


def _data(seed=0, n=60, t=6):
  rng = np.random.default_rng(seed)
  probs = rng.random((n, t))
  targets = rng.random((n, t))  # soft targets: present where >= 0.5
  targets[:, 0] = (probs[:, 0] > 0.4) * 0.9  # a tag the scores find well
  targets[:, 5] = 0.2  # a tag never present: no AP, not in the means
  mask = (rng.random((n, t)) < 0.8).astype(np.float32)
  mask[:5] = 0  # images with no known tag (as padding rows)
  return probs, targets, mask


def _accumulate(probs, targets, mask, batch=16):
  acc = TagAccumulator(probs.shape[1])
  for i in range(0, len(probs), batch):
    acc.update(probs[i:i + batch], targets[i:i + batch], mask[i:i + batch])
  return acc


def test_ap_and_f1_equal_scikit_learn_on_the_known_pairs():
  probs, targets, mask = _data()
  got = _accumulate(probs, targets, mask).compute(threshold=0.4)
  positive, known = targets >= 0.5, mask > 0
  aps, f1s = [], []
  for j in range(probs.shape[1]):
    rows = known[:, j]
    if not positive[rows, j].any():
      assert np.isnan(got['per_tag_ap'][j])
      continue
    aps.append(average_precision_score(positive[rows, j], probs[rows, j]))
    f1s.append(f1_score(positive[rows, j], probs[rows, j] >= 0.4, zero_division=0))
    assert got['per_tag_ap'][j] == pytest.approx(aps[-1], abs=1e-12)
    assert got['per_tag_f1'][j] == pytest.approx(f1s[-1], abs=1e-12)
  assert got['map'] == pytest.approx(np.mean(aps), abs=1e-12)
  assert got['f1_macro'] == pytest.approx(np.mean(f1s), abs=1e-12)
  assert got['f1_micro'] == pytest.approx(
      f1_score(positive[known], probs[known] >= 0.4), abs=1e-12)
  assert got['tags'] == 5 and got['count'] == int(known.any(axis=1).sum()) == 55
  assert got['per_tag_support'].tolist() == (positive & known).sum(axis=0).tolist()


def test_the_threshold_is_the_best_micro_f1_unless_given():
  probs, targets, mask = _data(1)
  acc = _accumulate(probs, targets, mask)
  positive, known = targets >= 0.5, mask > 0
  scores = [f1_score(positive[known], probs[known] >= t) for t in THRESHOLDS]
  chosen = acc.compute()
  assert chosen['threshold'] == THRESHOLDS[int(np.argmax(scores))]
  assert chosen['f1_micro'] == pytest.approx(max(scores), abs=1e-12)
  given = acc.compute(threshold=0.9)
  assert given['threshold'] == 0.9 and given['map'] == chosen['map']


def test_nothing_known_is_nan_not_zero():
  acc = TagAccumulator(3)
  acc.update(np.full((2, 3), 0.7), np.ones((2, 3)), np.zeros((2, 3)))
  got = acc.compute()
  assert np.isnan(got['map']) and np.isnan(got['f1_micro']) and got['count'] == 0


def test_shapes_are_checked():
  with pytest.raises(ValueError, match=r'\[2, 3\]'):
    TagAccumulator(3).update(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 3)))
