"""Checkpoint round trip: train state and grain iterator, last k plus the best."""

import grain
import jax
import numpy as np
import optax
import pytest
from flax import nnx

from wikiart_jax import checkpointing
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding
from wikiart_jax.train import state as state_lib


def _state(seed):
  model = nnx.Linear(3, 2, rngs=nnx.Rngs(seed))
  return state_lib.create(parts_lib.split(model).params, optax.adam(1e-3))


def _iterator():
  return iter(grain.MapDataset.range(100).shuffle(seed=3).to_iter_dataset())


def test_round_trip_restores_state_and_iterator(tmp_path):
  ckpt = checkpointing.Checkpointer(str(tmp_path), keep=2)
  state = _state(0).replace(step=np.int32(7))
  it = _iterator()
  seen = [next(it) for _ in range(5)]
  ckpt.save(7, state, it)
  expected_next = [next(it) for _ in range(5)]

  fresh_it = _iterator()
  restored, _ = ckpt.restore(7, checkpointing.abstract_like(_state(1)), fresh_it)
  assert int(restored.step) == 7
  for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(restored)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  assert [next(fresh_it) for _ in range(5)] == expected_next
  assert seen != expected_next


def test_keeps_last_k_and_best(tmp_path):
  ckpt = checkpointing.Checkpointer(str(tmp_path), keep=2, best_metric='style_top1')
  state = _state(0)
  for step, score in [(1, 0.9), (2, 0.1), (3, 0.2), (4, 0.3)]:
    ckpt.save(step, state, metrics={'style_top1': score})
  assert ckpt.all_steps() == [1, 3, 4]
  assert ckpt.best_step() == 1
  assert ckpt.latest_step() == 4


def test_restore_params_into_reads_only_the_parameters(tmp_path):
  ckpt = checkpointing.Checkpointer(str(tmp_path), keep=2)
  trained = _state(0)
  ckpt.save(3, trained.replace(step=np.int32(3)))
  ckpt.save(5, trained.replace(step=np.int32(5), params=jax.tree.map(lambda x: x + 1,
                                                                       trained.params)))
  ckpt.close()
  mesh = sharding.make_mesh()
  parts, step = checkpointing.restore_params_into(str(tmp_path), nnx.Linear(3, 2, rngs=nnx.Rngs(9)),
                                                  mesh, step=3)
  assert step == 3
  for a, b in zip(jax.tree.leaves(parts.params), jax.tree.leaves(trained.params)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  _, latest = checkpointing.restore_params_into(str(tmp_path), nnx.Linear(3, 2, rngs=nnx.Rngs(9)),
                                                mesh)
  assert latest == 5
  with pytest.raises(FileNotFoundError, match='no checkpoint at step 4 .*available: \\[3, 5\\]'):
    checkpointing.restore_params_into(str(tmp_path), nnx.Linear(3, 2, rngs=nnx.Rngs(9)), mesh,
                                      step=4)
