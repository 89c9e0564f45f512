"""Losses: hand-computed values, references (scikit-learn, optax), masking, empty tasks."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from sklearn.metrics import log_loss

from wikiart_jax.train import losses

LOGITS = np.array([[2.0, 1.0, 0.1],
                   [0.5, 2.5, -1.0],
                   [-0.3, 0.2, 3.0],
                   [1.0, 1.0, 1.0]], np.float32)
LABELS = np.array([0, 2, 2, 1], np.int32)


def _softmax(x):
  e = np.exp(x - x.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def _train_config(**overrides):
  config = ml_collections.ConfigDict(dict(
      label_smoothing=0.1, focal_gamma=2.0, lambda_artist=0.5, lambda_genre=1.0,
      lambda_family=0.5))
  config.update(overrides)
  return config


def test_cross_entropy_by_hand_and_against_sklearn():
  total, count = losses.cross_entropy(LOGITS, LABELS)
  p = _softmax(LOGITS.astype(np.float64))
  by_hand = -sum(np.log(p[i, y]) for i, y in enumerate(LABELS))
  np.testing.assert_allclose(total, by_hand, rtol=1e-6)
  np.testing.assert_allclose(total, log_loss(LABELS, p, normalize=False), rtol=1e-6)
  assert count == 4 and total.dtype == count.dtype == jnp.float32


def test_label_smoothing_formula_and_optax():
  eps = 0.1
  total, _ = losses.cross_entropy(LOGITS, LABELS, label_smoothing=eps)
  log_p = np.log(_softmax(LOGITS.astype(np.float64)))
  targets = np.full_like(log_p, eps / 3)
  targets[np.arange(4), LABELS] += 1 - eps
  np.testing.assert_allclose(total, -(targets * log_p).sum(), rtol=1e-6)
  reference = optax.softmax_cross_entropy(
      LOGITS, optax.smooth_labels(jax.nn.one_hot(LABELS, 3), eps)).sum()
  np.testing.assert_allclose(total, reference, rtol=1e-6)


def test_cross_entropy_accepts_log_probabilities():
  # The hierarchical style head outputs log P(style); log_softmax must leave it as is.
  log_p = np.log(_softmax(LOGITS.astype(np.float64))).astype(np.float32)
  total, _ = losses.cross_entropy(log_p, LABELS)
  np.testing.assert_allclose(total, -log_p[np.arange(4), LABELS].sum(), rtol=1e-6)


def test_focal_loss_by_hand():
  total, count = losses.focal_loss(LOGITS, LABELS, gamma=2.0)
  p = _softmax(LOGITS.astype(np.float64))[np.arange(4), LABELS]
  np.testing.assert_allclose(total, np.sum(-(1 - p) ** 2 * np.log(p)), rtol=1e-5)
  assert count == 4


def test_focal_with_gamma_zero_is_cross_entropy():
  np.testing.assert_allclose(losses.focal_loss(LOGITS, LABELS, gamma=0.0)[0],
                             losses.cross_entropy(LOGITS, LABELS)[0], rtol=1e-7)


@pytest.mark.parametrize('loss_fn', [
    losses.cross_entropy,
    lambda l, y: losses.cross_entropy(l, y, label_smoothing=0.2),
    losses.focal_loss])
def test_missing_labels_change_nothing(loss_fn):
  extra_logits = np.array([[9.0, -9.0, 0.0], [0.0, 0.0, 50.0]], np.float32)
  total, count = loss_fn(np.concatenate([LOGITS, extra_logits]),
                         np.concatenate([LABELS, [-1, -1]]))
  ref_total, ref_count = loss_fn(LOGITS, LABELS)
  np.testing.assert_allclose(total, ref_total, rtol=1e-6)
  assert count == ref_count == 4


def test_bf16_logits_give_f32_losses():
  for loss_fn in (losses.cross_entropy, losses.focal_loss):
    total, count = loss_fn(jnp.asarray(LOGITS, jnp.bfloat16), LABELS)
    assert total.dtype == count.dtype == jnp.float32
    np.testing.assert_allclose(total, loss_fn(LOGITS, LABELS)[0], rtol=2e-2)


def test_focal_gradients_finite_when_saturated():
  logits = jnp.array([[80.0, -80.0, 0.0], [0.0, 0.0, 0.0]])
  for gamma in (0.5, 2.0):
    grad = jax.grad(lambda l: losses.focal_loss(l, jnp.array([0, -1]), gamma=gamma)[0])(logits)
    assert np.isfinite(grad).all()


def test_bad_arguments():
  with pytest.raises(ValueError, match='label_smoothing'):
    losses.cross_entropy(LOGITS, LABELS, label_smoothing=1.0)
  with pytest.raises(ValueError, match='gamma'):
    losses.focal_loss(LOGITS, LABELS, gamma=-1.0)
  with pytest.raises(ValueError, match=r'logits \[B,C\]'):
    losses.cross_entropy(LOGITS, LABELS[:2])


# --- multi-task ----------------------------------------------------------------------

def _outputs_and_batch(seed=0):
  rng = np.random.default_rng(seed)
  outputs = {'style': rng.normal(size=(6, 5)).astype(np.float32),
             'artist': rng.normal(size=(6, 7)).astype(np.float32),
             'genre': rng.normal(size=(6, 3)).astype(np.float32)}
  batch = {'style': np.array([0, 4, 2, -1, 1, 3], np.int32),
           'artist': np.array([6, 0, -1, -1, 2, 2], np.int32),
           'genre': np.array([-1, -1, 1, -1, 0, -1], np.int32)}
  return outputs, batch


def test_multitask_combines_the_per_task_means():
  outputs, batch = _outputs_and_batch()
  config = _train_config()
  total, per_task = losses.multitask_loss(outputs, batch, config)
  style = losses.cross_entropy(outputs['style'], batch['style'], label_smoothing=0.1)
  artist = losses.focal_loss(outputs['artist'], batch['artist'], gamma=2.0)
  genre = losses.cross_entropy(outputs['genre'], batch['genre'])
  means = [s / c for s, c in (style, artist, genre)]
  np.testing.assert_allclose(total, means[0] + 0.5 * means[1] + 1.0 * means[2], rtol=1e-6)
  np.testing.assert_allclose(per_task['artist'], means[1], rtol=1e-6)
  assert (per_task['style_count'], per_task['artist_count'], per_task['genre_count']) == (5, 4, 2)


def test_family_labels_and_family_term():
  style_to_family = np.array([0, 0, 1, 2, 1], np.int32)
  outputs, batch = _outputs_and_batch()
  np.testing.assert_array_equal(losses.family_labels(batch['style'], style_to_family),
                                [0, 1, 1, -1, 0, 2])
  outputs['style_family'] = np.random.default_rng(1).normal(size=(6, 3)).astype(np.float32)
  with pytest.raises(ValueError, match='style_to_family'):
    losses.multitask_loss(outputs, batch, _train_config())
  total, per_task = losses.multitask_loss(outputs, batch, _train_config(),
                                          style_to_family=style_to_family)
  without, _ = losses.multitask_loss({k: v for k, v in outputs.items() if k != 'style_family'},
                                     batch, _train_config())
  family_sum, family_count = losses.cross_entropy(
      outputs['style_family'], np.array([0, 1, 1, -1, 0, 2]))
  np.testing.assert_allclose(total, without + 0.5 * family_sum / family_count, rtol=1e-6)
  assert per_task['style_family_count'] == 5


def test_all_missing_labels_give_zero_and_finite_gradients():
  outputs, batch = _outputs_and_batch()
  batch = {k: np.full_like(v, -1) for k, v in batch.items()}
  outputs['style_family'] = np.ones((6, 3), np.float32)

  def loss(outs):
    return losses.multitask_loss(outs, batch, _train_config(),
                                 style_to_family=np.array([0, 0, 1, 2, 1]))

  (total, per_task), grads = jax.value_and_grad(loss, has_aux=True)(outputs)
  assert total == 0.0 and all(np.isfinite(v) for v in per_task.values())
  assert all(np.array_equal(g, np.zeros_like(g)) for g in jax.tree.leaves(grads))


def test_one_empty_task_contributes_nothing():
  outputs, batch = _outputs_and_batch()
  batch['genre'] = np.full(6, -1, np.int32)
  total, per_task = losses.multitask_loss(outputs, batch, _train_config())
  without, _ = losses.multitask_loss({k: v for k, v in outputs.items() if k != 'genre'},
                                     batch, _train_config())
  np.testing.assert_allclose(total, without, rtol=1e-7)
  assert per_task['genre'] == 0.0 and per_task['genre_count'] == 0


def test_denominators_make_micro_batch_losses_add_up():
  outputs, batch = _outputs_and_batch()
  full, _ = losses.multitask_loss(outputs, batch, _train_config())
  counts = {t: np.float32((batch[t] >= 0).sum()) for t in ('style', 'artist', 'genre')}
  halves = [slice(0, 2), slice(2, 6)]  # uneven label counts on purpose
  parts = [losses.multitask_loss({k: v[s] for k, v in outputs.items()},
                                 {k: v[s] for k, v in batch.items()}, _train_config(),
                                 denominators=counts)[0] for s in halves]
  np.testing.assert_allclose(sum(parts), full, rtol=1e-6)


def test_tag_loss_by_hand_soft_targets_and_masks():
  logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0], [1.0, 1.0, 1.0]], np.float32)
  targets = np.array([[1.0, 0.0, 0.3], [0.8, 1.0, 0.0], [0.0, 0.0, 0.0]], np.float32)
  mask = np.array([[1, 1, 0], [1, 1, 1], [0, 0, 0]], np.float32)  # row 2: nothing known
  total, count = losses.tag_loss(logits, targets, mask)
  p = 1 / (1 + np.exp(-logits.astype(np.float64)))
  bce = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
  np.testing.assert_allclose(total, (bce * mask).sum(), rtol=1e-6)
  assert count == 2
  with pytest.raises(ValueError, match='tag logits'):
    losses.tag_loss(logits, targets[:, :2], mask)


def test_tags_and_period_enter_with_their_weights():
  outputs, batch = _outputs_and_batch()
  rng = np.random.default_rng(3)
  extra = {'tags': rng.normal(size=(6, 4)).astype(np.float32),
           'period': rng.normal(size=(6, 25)).astype(np.float32)}
  batch = {**batch, 'tags': rng.random((6, 4)).astype(np.float32),
           'tags_mask': (rng.random((6, 4)) < 0.7).astype(np.float32),
           'period': np.array([3, -1, 20, 20, -1, 0], np.int32),
           'year': np.array([1480, -1, 1901, 1924, -1, 1400], np.int32)}
  config = _train_config(lambda_tags=0.3, lambda_period=0.5, period_mean_weight=0.7)
  base, _ = losses.multitask_loss(outputs, batch, config)
  total, per_task = losses.multitask_loss({**outputs, **extra}, batch, config)
  tag_sum, tag_count = losses.tag_loss(extra['tags'], batch['tags'], batch['tags_mask'])
  period_sum, period_count = losses.period_loss(extra['period'], batch['period'], batch['year'],
                                                mean_weight=0.7)
  np.testing.assert_allclose(
      total, base + 0.3 * tag_sum / tag_count + 0.5 * period_sum / period_count, rtol=1e-6)
  assert per_task['period_count'] == 4 and per_task['tags_count'] == tag_count


def test_period_loss_by_hand():
  logits = np.zeros((3, 25), np.float32)
  logits[0, 18] = 2.0
  bins, years = np.array([18, 20, -1], np.int32), np.array([1870, 1905, -1], np.int32)
  total, count = losses.period_loss(logits, bins, years, mean_weight=0.5)
  p = _softmax(logits.astype(np.float64))
  centres = 1412.5 + 25 * np.arange(25)
  by_hand = sum(-np.log(p[i, bins[i]]) + 0.5 * abs(p[i] @ centres - years[i]) / 25
                for i in range(2))
  np.testing.assert_allclose(total, by_hand, rtol=1e-5)
  assert count == 2
  ce, _ = losses.period_loss(logits, bins, years, mean_weight=0.0)
  np.testing.assert_allclose(ce, losses.cross_entropy(logits, bins)[0], rtol=1e-6)
