"""The clu training metrics in jit: masked means over a logging window, against sklearn."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import metrics as skm

from wikiart_jax.train import metrics as metrics_lib

TASKS = ('style', 'genre')


def _step_outputs(rng, batch=16):
  logits = {'style': rng.normal(size=(batch, 27)).astype(np.float32),
            'genre': rng.normal(size=(batch, 10)).astype(np.float32)}
  labels = {'style': rng.integers(0, 27, batch).astype(np.int32),
            'genre': rng.integers(-1, 10, batch).astype(np.int32)}
  labels['style'][:3] = -1  # padding rows
  per_example = {t: rng.random(batch).astype(np.float32) for t in TASKS}
  return logits, labels, per_example


def test_train_metrics_in_jit_mask_missing_labels():
  metrics_cls = metrics_lib.make_train_metrics(TASKS, scalars=('grad_norm',))
  rng = np.random.default_rng(0)
  steps = [_step_outputs(rng) for _ in range(3)]

  @jax.jit
  def step(metrics, logits, labels, per_example, lr, i):
    # style passes per-example losses, genre a (sum, count) pair as losses.py does.
    genre_mask = labels['genre'] >= 0
    task_loss = {'style': per_example['style'],
                 'genre': (jnp.where(genre_mask, per_example['genre'], 0).sum(),
                           genre_mask.sum())}
    update = metrics_cls.single_from_model_output(
        loss=jnp.float32(i), learning_rate=lr, logits=logits, labels=labels,
        task_loss=task_loss, grad_norm=2.0 * i)
    return metrics.merge(update)

  metrics = metrics_cls.empty()
  for i, (logits, labels, per_example) in enumerate(steps):
    metrics = step(metrics, logits, labels, per_example, jnp.float32(0.1 * i),
                   jnp.float32(i))
  got = {k: float(v) for k, v in metrics.compute().items()}

  assert set(got) == {'loss', 'learning_rate', 'grad_norm', 'style_loss',
                      'style_accuracy', 'genre_loss', 'genre_accuracy'}
  assert got['loss'] == pytest.approx(1.0)  # mean of 0, 1, 2
  assert got['grad_norm'] == pytest.approx(2.0)
  assert got['learning_rate'] == pytest.approx(0.2)  # last value
  for task in TASKS:
    y = np.concatenate([s[1][task] for s in steps])
    z = np.concatenate([s[0][task] for s in steps])
    loss = np.concatenate([s[2][task] for s in steps])
    keep = y >= 0
    assert got[f'{task}_accuracy'] == pytest.approx(
        skm.accuracy_score(y[keep], z[keep].argmax(1)))
    assert got[f'{task}_loss'] == pytest.approx(loss[keep].mean(), rel=1e-5)


def test_train_metrics_without_labels_is_nan():
  metrics_cls = metrics_lib.make_train_metrics(('genre',))
  labels = {'genre': jnp.full((4,), -1, jnp.int32)}
  update = jax.jit(lambda: metrics_cls.single_from_model_output(
      loss=jnp.float32(1), learning_rate=jnp.float32(0.1),
      logits={'genre': jnp.ones((4, 10))}, labels=labels,
      task_loss={'genre': jnp.ones(4)}))()
  res = update.compute()
  assert np.isnan(res['genre_accuracy']) and np.isnan(res['genre_loss'])


def test_make_train_metrics_rejects_clashing_scalar():
  with pytest.raises(ValueError, match='clashes'):
    metrics_lib.make_train_metrics(TASKS, scalars=('style_loss',))
