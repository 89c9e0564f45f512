"""Orbax checkpoints of the train state together with the grain iterator.

One `CheckpointManager` in `<workdir>/checkpoints` keeps the last k steps and the
best one on the eval metric. The data iterator's state is saved in the same
checkpoint, so a resumed run sees exactly the next batch. Inference reads only
the parameters back (`restore_params_into`), whatever optimizer wrote them.
"""

import os
from typing import Any

import grain
import jax
import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers

from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding


# The vocabularies, saved beside the checkpoints so predict/serve need no dataset.
VOCAB_FILE = 'vocab.json'


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
    self._manager = ocp.CheckpointManager(self.directory, options=options)

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def best_step(self) -> int | None:
    return self._manager.best_step() if self._best_metric else None

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(self, step: int, state, data_iter=None,
           metrics: dict[str, float] | None = None) -> None:
    items = {'state': ocp.args.StandardSave(state)}
    if data_iter is not None:
      items['data_iter'] = grain.checkpoint.CheckpointSave(data_iter)
    self._manager.save(step, args=ocp.args.Composite(**items), metrics=metrics,
                       force=True)
    self._manager.wait_until_finished()

  def restore(self, step: int, abstract_state, data_iter=None) -> tuple[Any, Any]:
    """Restores the state (and the iterator in place when given) at `step`."""
    items = {'state': ocp.args.StandardRestore(abstract_state)}
    if data_iter is not None:
      items['data_iter'] = grain.checkpoint.CheckpointRestore(data_iter)
    restored = self._manager.restore(step, args=ocp.args.Composite(**items))
    return restored['state'], restored.get('data_iter') if data_iter is not None else None

  def restore_params(self, step: int, abstract_params):
    """Reads only the parameters of the train state saved at `step`."""
    item = {'params': abstract_params}
    restored = self._manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.PyTreeRestore(
            item, restore_args=ocp.checkpoint_utils.construct_restore_args(item),
            partial_restore=True)))
    return restored['state']['params']

  def close(self) -> None:
    self._manager.close()


def abstract_like(tree):
  """Shape/dtype/sharding structs of a pytree of arrays, the template for a restore."""
  return jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype,
                                     sharding=getattr(x, 'sharding', None)), tree)


def restore_params_into(workdir: str, model, mesh, step: int | None = None
                        ) -> tuple[parts_lib.ModelParts, int]:
  """Restores the parameters at `step` (default: the latest) into `model`'s structure.

  Only the parameters are read (no optimizer state), so inference does not need
  to know the optimizer or the training stage that wrote the checkpoint.

  Returns:
    (the model's parts with the restored parameters, replicated on `mesh`; the step).
  """
  ckpt = Checkpointer(workdir, read_only=True)
  available = ckpt.all_steps()
  step = ckpt.latest_step() if step is None or step < 0 else step
  if step is None or step not in available:
    raise FileNotFoundError(
        f'no checkpoint {"" if step is None else f"at step {step} "}in '
        f'{ckpt.directory} (available: {available or "none"}); train first')
  parts = parts_lib.split(model)
  params = ckpt.restore_params(
      step, abstract_like(sharding.replicate(parts.params, mesh)))
  ckpt.close()
  return parts.with_params(params), step
