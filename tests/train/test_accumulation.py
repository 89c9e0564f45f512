"""Gradient accumulation: k micro-batches of b make the same update as one batch of k*b.

Through the real jitted step (`make_train_step` with train.grad_accum_steps), tiny
classifier, float32, no dropout. Plain SGD with rate 1 makes the update the
gradient itself, so the comparison is not blurred by Adam's normalisation.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import sharded_train_worker as worker
from wikiart_jax.models import build
from wikiart_jax.train import optimizer
from wikiart_jax.train import state as state_lib
from wikiart_jax.train import step as step_lib

ACCUM = 4


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
  model = build.build_model(config, worker.vocab())
  graphdef, params, rest = state_lib.split_model(model)
  tx = optax.sgd(1.0)
  state = state_lib.create(params, tx)
  before = jax.tree.map(np.asarray, params)
  train_step = step_lib.make_train_step(
      graphdef, rest, tx, config.train, optimizer.make_schedule(config.train),
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
