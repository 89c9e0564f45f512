"""Gradient accumulation: k micro-batches of b make the same update as one batch of k*b.

`accumulate_gradients` on a function small enough to check by hand, then through
the real jitted step (`make_train_step` with train.grad_accum_steps), tiny
classifier, float32, no dropout. Plain SGD with rate 1 makes the update the
gradient itself, so the comparison is not blurred by Adam's normalisation.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import sharded_train_worker as worker
from wikiart_jax import factory
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.train import accumulation
from wikiart_jax.train import optimizer
from wikiart_jax.train import state as state_lib
from wikiart_jax.train import step as step_lib

ACCUM = 4


def test_accumulate_gradients_sums_micro_batches_and_keeps_row_order():
  w = jnp.array([0.5, -1.0, 2.0])
  x = jnp.arange(24.0).reshape(8, 3) / 10
  total = 8.0  # each micro-batch normalises by the whole batch, as the step does

  def loss_and_grad(w, micro, key):
    def loss(w):
      pred = micro['x'] @ w
      return jnp.sum(pred ** 2) / total, ({'abs': jnp.sum(jnp.abs(pred))}, pred)
    return jax.value_and_grad(loss, has_aux=True)(w)

  key = jax.random.key(0)
  (loss1, (sums1, rows1)), grads1 = accumulation.accumulate_gradients(
      loss_and_grad, w, {'x': x}, 1, key)
  (loss4, (sums4, rows4)), grads4 = accumulation.accumulate_gradients(
      loss_and_grad, w, {'x': x}, 4, key)
  np.testing.assert_allclose(loss4, loss1, rtol=1e-6)
  np.testing.assert_allclose(loss1, np.sum((np.asarray(x) @ np.asarray(w)) ** 2) / total,
                             rtol=1e-6)
  np.testing.assert_allclose(grads4, grads1, rtol=1e-6)
  np.testing.assert_allclose(sums4['abs'], sums1['abs'], rtol=1e-6)
  np.testing.assert_allclose(rows4, x @ w, rtol=1e-6)  # rows come back in batch order
  split = accumulation.split_micro({'x': x}, 4)['x']
  np.testing.assert_array_equal(split[1], x[1::4])  # micro-batch i = rows i, i+k, ...


def _batch():
  batch = worker.batches(worker.tiny_config(), 1, seed=3)[0]
  # Micro-batch 0 gets rows 0, 4, 8, ...: give it no genre label at all, so the
  # per-task denominators must come from the whole batch, not the micro-batch.
  batch['genre'][::ACCUM] = -1
  batch['genre'][1::ACCUM] = np.arange(worker.BATCH // ACCUM) % 10
  batch['artist'][5] = -1
  return batch


def _one_step(accum: int, batch: dict):
  config = worker.tiny_config(grad_accum_steps=accum)
  model = factory.build_model(config, worker.vocab())
  parts = parts_lib.split(model)
  tx = optax.sgd(1.0)
  state = state_lib.create(parts.params, tx)
  before = jax.tree.map(np.asarray, parts.params)
  train_step = step_lib.make_train_step(
      parts, tx, config.train, optimizer.make_schedule(config.train),
      dropout_key=jax.random.key(0))
  state, metrics = train_step(state, jax.tree.map(jnp.asarray, batch))
  update = jax.tree.map(lambda new, old: np.asarray(new) - old, state.params, before)
  return update, {k: float(v) for k, v in metrics.compute().items()}


def test_micro_batches_give_the_update_of_the_whole_batch():
  batch = _batch()
  whole_update, whole_metrics = _one_step(1, batch)
  micro_update, micro_metrics = _one_step(ACCUM, batch)
  leaves = jax.tree.leaves(whole_update)
  assert max(np.abs(u).max() for u in leaves) > 1e-3  # the step did move the weights
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5, rtol=0),
               whole_update, micro_update)
  assert whole_metrics.keys() == micro_metrics.keys()
  for name, value in whole_metrics.items():
    np.testing.assert_allclose(micro_metrics[name], value, rtol=1e-5, err_msg=name)


def test_batch_not_divisible_by_the_micro_batches_is_an_error():
  batch = _batch()
  with pytest.raises(ValueError, match='grad_accum_steps=3'):
    _one_step(3, batch)
