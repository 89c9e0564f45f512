"""Orbax checkpoints of the train state together with the grain iterator.

One `CheckpointManager` in `<workdir>/checkpoints` keeps the last k steps and the
best one on the eval metric. The data iterator's state is saved in the same
checkpoint, so a resumed run sees exactly the next batch. Inference reads only
the parameters back (`restore_params_into`), whatever optimizer wrote them.

Faults: orbax writes a step in a temporary folder and renames it when complete,
so a killed save leaves no half step. A step that is there but does not read back
(a truncated file, a missing item) is skipped for the newest one that does, with
one line naming the skipped step and why; the writer moves it to
`<workdir>/checkpoints_skipped/` (nothing is deleted) so the step can be saved
again. A save that fails (disk full) raises a one-line `CheckpointError` after
removing its own temporary folder; the earlier checkpoints are untouched.
"""

import errno
import os
import re
import shutil
import sys
from typing import Any, Callable

import grain
import jax
from jax.experimental import multihost_utils
import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers

from wikiart_jax.core import CheckpointError
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding


# The vocabularies, saved beside the checkpoints so predict/serve need no dataset.
VOCAB_FILE = 'vocab.json'
# Where the writer moves checkpoints that do not read back (beside `checkpoints/`).
SKIPPED_DIR = 'checkpoints_skipped'
# Orbax's suffix of a step being written (`<step>.orbax-checkpoint-tmp...`).
_TMP_SUFFIX = '.orbax-checkpoint-tmp'


def _root_cause(error: BaseException) -> BaseException:
  """The innermost exception of a chain (TensorStore's and orbax's wrappers peeled)."""
  seen = {id(error)}
  while (error.__cause__ or error.__context__) is not None:
    error = error.__cause__ or error.__context__
    if id(error) in seen:
      break
    seen.add(id(error))
  return error


def _reason(error: BaseException) -> str:
  """One line saying why a checkpoint did not read back or write."""
  root = _root_cause(error)
  text = str(root.args[0] if isinstance(root, KeyError) and root.args else root)
  line = text.strip().splitlines()[0] if text.strip() else type(root).__name__
  # TensorStore appends its specs ([tensorstore_spec='{...}']) and nests its reasons
  # ("Error opening ...: Error reading ...: <why>"): drop the one, keep the end of the other.
  line = re.split(r" \[[a-z_ ]+(?:\[\d+\])?='", line)[0]
  return line if len(line) <= 240 else '...' + line[-237:]


def _os_error(error: BaseException) -> OSError | None:
  """The OSError in an exception's chain, if any."""
  seen = set()
  while error is not None and id(error) not in seen:
    if isinstance(error, OSError):
      return error
    seen.add(id(error))
    error = error.__cause__ or error.__context__
  return None


class Checkpointer:
  """Saves and restores (train state, data iterator) at a step."""

  def __init__(self, workdir: str, *, keep: int = 3, best_metric: str | None = None,
               read_only: bool = False):
    policies = [checkpoint_managers.LatestN(n=keep)]
    if best_metric:
      policies.append(checkpoint_managers.BestN(
          get_metric_fn=lambda metrics: metrics[best_metric], n=1,
          keep_checkpoints_without_metrics=False))
    options = ocp.CheckpointManagerOptions(
        best_fn=(lambda metrics: metrics[best_metric]) if best_metric else None,
        best_mode='max',
        preservation_policy=checkpoint_managers.AnyPreservationPolicy(policies),
        create=not read_only, read_only=read_only,
        save_interval_steps=0 if read_only else 1,
        # Synchronous saves: a crash right after `save` returns loses nothing.
        enable_async_checkpointing=False)
    self.directory = os.path.join(os.path.abspath(workdir), 'checkpoints')
    self._best_metric = best_metric
    self._read_only = read_only
    self._manager = ocp.CheckpointManager(self.directory, options=options)

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def best_step(self) -> int | None:
    return self._manager.best_step() if self._best_metric else None

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(self, step: int, state, data_iter=None,
           metrics: dict[str, float] | None = None) -> None:
    """Saves `step` whole, or raises CheckpointError leaving the earlier steps as they were."""
    items = {'state': ocp.args.StandardSave(state)}
    if data_iter is not None:
      items['data_iter'] = grain.checkpoint.CheckpointSave(data_iter)
    try:
      self._manager.save(step, args=ocp.args.Composite(**items), metrics=metrics,
                         force=True)
      self._manager.wait_until_finished()
    except Exception as e:  # pylint: disable=broad-except
      os_error = _os_error(e)
      if os_error is None:
        raise
      self._remove_partial(step)
      why = ('no space left on device' if os_error.errno == errno.ENOSPC
             else _reason(os_error))
      kept = self.all_steps()
      raise CheckpointError(
          f'cannot save the checkpoint at step {step} in {self.directory}: {why}; '
          f'the earlier checkpoints are intact (steps {kept or "none"}): '
          'free some space and run again to resume') from e

  def _remove_partial(self, step: int) -> None:
    """Deletes the temporary folder of a failed save of `step` (never a finished step)."""
    for name in os.listdir(self.directory):
      if name.startswith(f'{step}{_TMP_SUFFIX}'):
        shutil.rmtree(os.path.join(self.directory, name), ignore_errors=True)

  def restore(self, step: int, abstract_state, data_iter=None) -> tuple[Any, Any]:
    """Restores the state (and the iterator in place when given) at `step`."""
    items = {'state': ocp.args.StandardRestore(abstract_state)}
    if data_iter is not None:
      items['data_iter'] = grain.checkpoint.CheckpointRestore(data_iter)
    restored = self._manager.restore(step, args=ocp.args.Composite(**items))
    return restored['state'], restored.get('data_iter') if data_iter is not None else None

  def restore_newest(self, abstract_at: Callable[[int], Any], data_iter=None
                     ) -> tuple[Any, int | None]:
    """Restores the newest checkpoint that reads back whole.

    Each newer one that does not (truncated, missing an item) is skipped with one
    line naming it and why, and, unless read-only, moved to SKIPPED_DIR so that
    training can save that step again.

    Args:
      abstract_at: step -> the abstract train state that step was saved with.
      data_iter: the grain iterator, restored in place.

    Returns:
      (state, step), or (None, None) when there is no checkpoint.

    Raises:
      CheckpointError: there are checkpoints but none reads back (the newest's reason).
    """
    return self._newest(lambda step: self.restore(step, abstract_at(step), data_iter)[0])

  def restore_newest_params(self, abstract_params) -> tuple[Any, int | None]:
    """The parameters of the newest checkpoint that reads back, as restore_newest."""
    return self._newest(lambda step: self.restore_params(step, abstract_params))

  def restore_params(self, step: int, abstract_params):
    """Reads only the parameters of the train state saved at `step`."""
    item = {'params': abstract_params}
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.PyTreeRestore(
            item, restore_args=ocp.checkpoint_utils.construct_restore_args(item),
            partial_restore=True)))
    return restored['state']['params']

  def _newest(self, read: Callable[[int], Any]) -> tuple[Any, int | None]:
    """read(step) of the newest step it succeeds on, skipping (and noting) the others."""
    steps = sorted(self.all_steps(), reverse=True)
    failures = []
    for step in steps:
      try:
        result = read(step)
      except Exception as e:  # pylint: disable=broad-except  (TensorStore, orbax, grain, json)
        failures.append((step, e))
        continue
      for bad, error in failures:
        self._skip(bad, error)
      if failures and not self._read_only:
        self._manager.reload()
      return result, step
    if failures:
      step, error = failures[0]
      raise CheckpointError(
          f'no checkpoint in {self.directory} reads back into this model '
          f'(step {step}: {_reason(error)}); if the config changed (model size, stages, '
          'adam_mu_dtype), use a new workdir') from error
    return None, None

  def _skip(self, step: int, error: BaseException) -> None:
    """Says that `step` was skipped and why; the writer moves it aside."""
    note = f'warning: skipped the checkpoint at step {step} ({_reason(error)})'
    if not self._read_only:
      moved = os.path.join(os.path.dirname(self.directory), SKIPPED_DIR, str(step))
      if jax.process_count() > 1:  # every process has read it before one moves it
        multihost_utils.sync_global_devices(f'wikiart_jax.skip_checkpoint_{step}')
      if jax.process_index() == 0:
        os.makedirs(os.path.dirname(moved), exist_ok=True)
        while os.path.exists(moved):
          moved += '_'
        shutil.move(os.path.join(self.directory, str(step)), moved)
      if jax.process_count() > 1:
        multihost_utils.sync_global_devices(f'wikiart_jax.skipped_checkpoint_{step}')
      note += f'; moved to {moved}'
    if jax.process_index() == 0:
      print(note, file=sys.stderr, flush=True)

  def close(self) -> None:
    self._manager.close()


def abstract_like(tree):
  """Shape/dtype/sharding structs of a pytree of arrays, the template for a restore."""
  return jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype,
                                     sharding=getattr(x, 'sharding', None)), tree)


def restore_params_into(workdir: str, model, mesh, step: int | None = None
                        ) -> tuple[parts_lib.ModelParts, int]:
  """Restores the parameters at `step` (default: the newest that reads back) into `model`.

  Only the parameters are read (no optimizer state), so inference does not need
  to know the optimizer or the training stage that wrote the checkpoint. Without
  a step, a newer checkpoint that does not read back is skipped with one line.

  Returns:
    (the model's parts with the restored parameters, replicated on `mesh`; the step).

  Raises:
    FileNotFoundError: no checkpoint (at `step`).
    CheckpointError: the checkpoint at `step` (or every one) does not read back.
  """
  ckpt = Checkpointer(workdir, read_only=True)
  available = ckpt.all_steps()
  wanted = None if step is None or step < 0 else step
  if not available or (wanted is not None and wanted not in available):
    raise FileNotFoundError(
        f'no checkpoint {"" if wanted is None else f"at step {wanted} "}in '
        f'{ckpt.directory} (available: {available or "none"}); train first')
  parts = parts_lib.split(model)
  abstract = abstract_like(sharding.replicate(parts.params, mesh))
  try:
    if wanted is None:
      params, wanted = ckpt.restore_newest_params(abstract)
    else:
      try:
        params = ckpt.restore_params(wanted, abstract)
      except Exception as e:  # pylint: disable=broad-except
        raise CheckpointError(f'the checkpoint at step {wanted} in {ckpt.directory} does '
                              f'not read back: {_reason(e)}') from e
  finally:
    ckpt.close()
  return parts.with_params(params), wanted
