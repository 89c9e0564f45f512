"""Checkpoint round trip: train state and grain iterator, last k plus the best; faults:
an unreadable newest checkpoint is skipped, a full disk stops the save and keeps the rest."""

import builtins
import errno
import os
import shutil

import grain
import jax
import numpy as np
import optax
import pytest
from flax import nnx

from wikiart_jax import checkpointing
from wikiart_jax.core import CheckpointError
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


def _saved(tmp_path, steps=(2, 4), *, keep=3):
  """A checkpointer with states (params + step) saved at `steps`, each with its iterator."""
  ckpt = checkpointing.Checkpointer(str(tmp_path), keep=keep)
  it = _iterator()
  states = {}
  for step in steps:
    for _ in range(step):
      next(it)
    states[step] = _state(step).replace(step=np.int32(step))
    ckpt.save(step, states[step], it)
  return ckpt, states


def _truncate(tmp_path, step):
  """Cuts every data file of the checkpoint's state (OCDBT `d/` folders) to half its size."""
  files = sorted((tmp_path / 'checkpoints' / str(step) / 'state').glob('**/d/*'))
  assert files
  for f in files:
    os.truncate(f, f.stat().st_size // 2)


def _assert_same(a, b):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize('damage', ['truncated', 'missing_item'])
def test_an_unreadable_newest_checkpoint_is_skipped_for_the_one_before(tmp_path, capsys, damage):
  ckpt, states = _saved(tmp_path)
  if damage == 'truncated':
    _truncate(tmp_path, 4)
  else:
    shutil.rmtree(tmp_path / 'checkpoints' / '4' / 'data_iter')
  ckpt.close()
  ckpt = checkpointing.Checkpointer(str(tmp_path), keep=3)  # as a restarted run
  fresh_it = _iterator()
  state, step = ckpt.restore_newest(lambda s: checkpointing.abstract_like(_state(0)), fresh_it)
  assert step == 2
  _assert_same(state, states[2])
  assert next(fresh_it) == next(_skipped(_iterator(), 2))  # the iterator of step 2
  (line,) = capsys.readouterr().err.strip().splitlines()
  assert line.startswith('warning: skipped the checkpoint at step 4 (')
  assert ('not valid for value of size' if damage == 'truncated' else
          'Item "data_iter" was not found') in line, line
  # Kept aside, not deleted; the step can be written again.
  assert os.path.isdir(tmp_path / checkpointing.SKIPPED_DIR / '4' / 'state')
  assert ckpt.all_steps() == [2]
  ckpt.save(4, states[4])
  assert ckpt.all_steps() == [2, 4]


def _skipped(it, n):
  for _ in range(n):
    next(it)
  return it


def test_readers_skip_an_unreadable_newest_checkpoint_without_moving_it(tmp_path, capsys):
  ckpt, states = _saved(tmp_path)
  ckpt.close()
  _truncate(tmp_path, 4)
  mesh = sharding.make_mesh()
  parts, step = checkpointing.restore_params_into(
      str(tmp_path), nnx.Linear(3, 2, rngs=nnx.Rngs(9)), mesh)
  assert step == 2
  _assert_same(parts.params, states[2].params)
  (line,) = capsys.readouterr().err.strip().splitlines()
  assert line.startswith('warning: skipped the checkpoint at step 4 (') and 'moved' not in line
  assert os.path.isdir(tmp_path / 'checkpoints' / '4')  # a reader changes nothing
  with pytest.raises(CheckpointError, match=r'^the checkpoint at step 4 in .* does not read '
                                            r'back: .*not valid for value of size'):
    checkpointing.restore_params_into(str(tmp_path), nnx.Linear(3, 2, rngs=nnx.Rngs(9)),
                                      mesh, step=4)


def test_no_readable_checkpoint_is_one_line_naming_the_newest(tmp_path):
  ckpt, _ = _saved(tmp_path)
  _truncate(tmp_path, 2)
  _truncate(tmp_path, 4)
  with pytest.raises(CheckpointError) as raised:
    ckpt.restore_newest(lambda s: checkpointing.abstract_like(_state(0)))
  message = str(raised.value)
  assert '\n' not in message and message.startswith('no checkpoint in ')
  assert '(step 4: ' in message and 'use a new workdir' in message
  assert ckpt.all_steps() == [2, 4]  # nothing moved when nothing reads


@pytest.mark.parametrize('writes_before', [0, 3])
def test_a_full_disk_stops_the_save_and_keeps_the_earlier_checkpoints(
    tmp_path, monkeypatch, writes_before):
  """ENOSPC at the first file the save writes, or after the arrays are on disk."""
  ckpt, states = _saved(tmp_path)
  real_open, writes = builtins.open, []

  def full_disk(file, mode='r', *args, **kwargs):
    path = os.fspath(file) if isinstance(file, (str, os.PathLike)) else ''
    if path.startswith(ckpt.directory) and any(c in mode for c in 'wax+'):
      writes.append(path)
      if len(writes) > writes_before:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
    return real_open(file, mode, *args, **kwargs)

  monkeypatch.setattr(builtins, 'open', full_disk)
  with pytest.raises(CheckpointError) as raised:
    ckpt.save(6, _state(6).replace(step=np.int32(6)), _iterator())
  monkeypatch.setattr(builtins, 'open', real_open)
  message = str(raised.value)
  assert '\n' not in message, message
  assert message.startswith(f'cannot save the checkpoint at step 6 in {ckpt.directory}: '
                            'no space left on device; the earlier checkpoints are intact '
                            '(steps [2, 4])'), message
  assert sorted(os.listdir(ckpt.directory)) == ['2', '4']  # no partial step left
  for step in (2, 4):
    restored, _ = ckpt.restore(step, checkpointing.abstract_like(_state(0)), _iterator())
    _assert_same(restored, states[step])
