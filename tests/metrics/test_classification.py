"""Classification metrics against scikit-learn: the streaming accumulator, confused pairs."""

import numpy as np
import pytest
from sklearn import metrics as skm

from wikiart_jax.metrics import classification as cls_lib


def _random_batches(rng, num_classes, num_rows, missing=0.2, batch=37,
                    unused=()):
  """Random scores and labels with some -1 rows, split into uneven batches."""
  scores = rng.normal(size=(num_rows, num_classes)).astype(np.float32)
  classes = np.setdiff1d(np.arange(num_classes), unused)
  labels = rng.choice(classes, size=num_rows)
  labels[rng.random(num_rows) < missing] = -1
  batches = [(scores[i:i + batch], labels[i:i + batch])
             for i in range(0, num_rows, batch)]
  return scores, labels, batches


@pytest.mark.parametrize('num_classes,num_rows,unused', [
    (10, 300, ()),
    (27, 200, (3, 4, 20)),  # classes absent from the labels
    (120, 90, ()),  # more classes than labelled rows: many never seen
    (3, 50, ()),  # C < 5: top-5 is top-3, i.e. 1
])
def test_accumulator_matches_sklearn(num_classes, num_rows, unused):
  rng = np.random.default_rng(num_classes)
  scores, labels, batches = _random_batches(rng, num_classes, num_rows,
                                            unused=unused)
  acc = cls_lib.ClassificationAccumulator(num_classes)
  for s, y in batches:
    acc.update(s, y)
  got = acc.compute()

  keep = labels >= 0
  y, s = labels[keep], scores[keep]
  pred = s.argmax(1)
  all_classes = np.arange(num_classes)
  present = np.union1d(y, pred)

  assert got['count'] == keep.sum()
  assert got['top1'] == pytest.approx(skm.accuracy_score(y, pred))
  k = min(5, num_classes)
  want_top5 = (1.0 if k == num_classes else
               skm.top_k_accuracy_score(y, s, k=k, labels=all_classes))
  assert got['top5'] == pytest.approx(want_top5)
  assert got['f1_macro'] == pytest.approx(
      skm.f1_score(y, pred, average='macro', labels=present, zero_division=0))
  # sklearn's default label set is the same "present" set.
  assert got['f1_macro'] == pytest.approx(
      skm.f1_score(y, pred, average='macro', zero_division=0))
  np.testing.assert_array_equal(
      got['confusion'], skm.confusion_matrix(y, pred, labels=all_classes))
  p, r, f, sup = skm.precision_recall_fscore_support(
      y, pred, labels=all_classes, zero_division=0)
  np.testing.assert_allclose(got['per_class']['precision'], p)
  np.testing.assert_allclose(got['per_class']['recall'], r)
  np.testing.assert_allclose(got['per_class']['f1'], f)
  np.testing.assert_array_equal(got['per_class']['support'], sup)


def test_macro_f1_leaves_out_absent_classes():
  # Guards the documented choice: with 50 classes and perfect predictions on
  # the two that occur, macro-F1 is 1, not 2/50.
  scores = np.zeros((3, 50), np.float32)
  labels = np.array([0, 0, 1])
  scores[np.arange(3), labels] = 1.0
  acc = cls_lib.ClassificationAccumulator(50)
  acc.update(scores, labels)
  assert acc.compute()['f1_macro'] == 1.0
  assert skm.f1_score(labels, labels, average='macro', labels=np.arange(50),
                      zero_division=0) == pytest.approx(2 / 50)


def test_top_k_probabilities_and_logits_agree():
  rng = np.random.default_rng(2)
  logits = rng.normal(size=(64, 12))
  labels = rng.integers(0, 12, 64)
  probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
  a = cls_lib.ClassificationAccumulator(12, top_k=3)
  b = cls_lib.ClassificationAccumulator(12, top_k=3)
  a.update(logits, labels)
  b.update(probs, labels)
  ra, rb = a.compute(), b.compute()
  assert ra['top3'] == rb['top3'] == pytest.approx(
      skm.top_k_accuracy_score(labels, probs, k=3, labels=np.arange(12)))
  np.testing.assert_array_equal(ra['confusion'], rb['confusion'])


def test_ties_break_like_argmax():
  scores = np.zeros((2, 4), np.float32)  # every class tied
  acc = cls_lib.ClassificationAccumulator(4, top_k=1)
  acc.update(scores, np.array([0, 2]))
  res = acc.compute()
  assert res['top1'] == 0.5  # argmax picks class 0
  assert acc.top_k_hits == 1


def test_merge_equals_single_pass():
  rng = np.random.default_rng(3)
  scores, labels, batches = _random_batches(rng, 8, 100)
  whole = cls_lib.ClassificationAccumulator(8)
  whole.update(scores, labels)
  a, b = cls_lib.ClassificationAccumulator(8), cls_lib.ClassificationAccumulator(8)
  for i, (s, y) in enumerate(batches):
    (a if i % 2 else b).update(s, y)
  a.merge(b)
  np.testing.assert_array_equal(a.confusion, whole.confusion)
  assert a.top_k_hits == whole.top_k_hits


def test_all_missing_gives_nan_and_zero_count():
  acc = cls_lib.ClassificationAccumulator(5)
  acc.update(np.ones((3, 5)), np.full(3, -1))
  res = acc.compute()
  assert res['count'] == 0
  assert np.isnan(res['top1']) and np.isnan(res['f1_macro'])


@pytest.mark.parametrize('scores,labels,match', [
    (np.zeros((2, 4)), np.array([0, 1]), r'scores must be \[B, 5\]'),
    (np.zeros((2, 5)), np.array([0]), r'labels must be \[2\]'),
    (np.zeros((2, 5)), np.array([0, 5]), r'labels must lie in \[-1, 4\]'),
    (np.zeros((2, 5)), np.array([0, -2]), r'labels must lie'),
])
def test_bad_input_is_a_clear_error(scores, labels, match):
  with pytest.raises(ValueError, match=match):
    cls_lib.ClassificationAccumulator(5).update(scores, labels)


def test_most_confused_pairs():
  conf = np.array([[5, 3, 0],
                   [1, 4, 6],
                   [3, 0, 2]])
  pairs = cls_lib.most_confused_pairs(conf, ['a', 'b', 'c'], k=3)
  assert pairs == [('b', 'c', 6, pytest.approx(6 / 11)),
                   ('a', 'b', 3, pytest.approx(3 / 8)),
                   ('c', 'a', 3, pytest.approx(3 / 5))]
  # Fewer non-zero off-diagonal cells than k: only those come back.
  assert len(cls_lib.most_confused_pairs(np.diag([1, 2]), ['x', 'y'], 5)) == 0
  with pytest.raises(ValueError, match='match names'):
    cls_lib.most_confused_pairs(conf, ['a', 'b'], 1)
