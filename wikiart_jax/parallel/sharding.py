"""The device mesh and where the train state and batches live on it.

One `Mesh` with axes ('data', 'fsdp') spans every device of every process.
Batches are split over both axes: `to_global` makes each process's numpy rows one
global jax.Array, and `local_rows` / `to_host` bring results back. Parameters and optimizer state are replicated
unless `config.train.fsdp` > 1: then each large leaf is split along its biggest
dimension divisible by the 'fsdp' axis size (ZeRO-3 / FSDP, as big_vision's
`fsdp` rule), so `fsdp` devices share the memory of one copy; XLA inserts the
all-gathers and reduce-scatters. Small leaves (biases, LayerNorms) stay
replicated: splitting them costs more in collectives than it saves.

The layout is pinned in the jitted step with `in_shardings`/`out_shardings`
(`train_step_shardings`), so the state keeps it from step to step and donation
reuses its buffers.
"""

import math

import jax
from jax.experimental import multihost_utils
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

AXES = ('data', 'fsdp')
# Leaves with fewer elements than this stay replicated (1 MiB in float32): the
# ViT-B/16 768x768 and 768x3072 kernels are split, biases and LayerNorms are not.
MIN_SHARD_SIZE = 2**18


def make_mesh(fsdp: int = 1, devices=None) -> Mesh:
  """All devices (or `devices`) as a (data, fsdp) grid; `fsdp` devices share each leaf.

  Consecutive devices (the same process first, jax.devices() order) form an fsdp
  group, so the parameter collectives stay inside a host when fsdp <= its devices.
  """
  devices = np.asarray(jax.devices() if devices is None else devices)
  if fsdp < 1 or devices.size % fsdp:
    raise ValueError(f'train.fsdp={fsdp} must be >= 1 and divide the {devices.size} devices')
  return Mesh(devices.reshape(devices.size // fsdp, fsdp), AXES)


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharding(mesh: Mesh) -> NamedSharding:
  """Leading (batch) dimension split over every mesh axis."""
  return NamedSharding(mesh, P(AXES))


def to_global(batch: dict, mesh: Mesh) -> dict:
  """This process's numpy batch -> global jax.Arrays, batch dim over every mesh axis."""
  sharding = batch_sharding(mesh)
  return jax.tree.map(
      lambda x: jax.make_array_from_process_local_data(sharding, x), batch)


def local_rows(array: jax.Array, mesh: Mesh):
  """This process's rows of a batch-sharded global array."""
  if jax.process_count() == 1:
    return array
  return multihost_utils.global_array_to_host_local_array(array, mesh, P(AXES))


def to_host(tree):
  """Global arrays -> numpy on this host (gathered across processes)."""
  if jax.process_count() > 1:
    return multihost_utils.process_allgather(tree, tiled=True)
  return jax.device_get(tree)


def replicate(tree, mesh: Mesh):
  """Places a pytree of arrays on every device of the mesh."""
  return jax.device_put(tree, replicated(mesh))


def fsdp_spec(shape: tuple[int, ...], fsdp: int, min_size: int = MIN_SHARD_SIZE) -> P:
  """The PartitionSpec of one leaf: its biggest dimension divisible by `fsdp`.

  Ties go to the later dimension (a kernel's output side). A leaf smaller than
  `min_size` elements, or with no divisible dimension, is replicated.
  """
  if fsdp <= 1 or math.prod(shape) < min_size:
    return P()
  candidates = [(size, axis) for axis, size in enumerate(shape) if size % fsdp == 0]
  if not candidates:
    return P()
  _, axis = max(candidates)
  return P(*([None] * axis), 'fsdp')


def state_shardings(tree, mesh: Mesh, min_size: int = MIN_SHARD_SIZE):
  """NamedSharding per leaf of `tree` (arrays or ShapeDtypeStructs).

  The rule looks at shapes only, so Adam's `mu`/`nu` get their parameter's layout
  and scalars (step, counts) are replicated.
  """
  fsdp = mesh.shape['fsdp']
  return jax.tree.map(
      lambda x: NamedSharding(mesh, fsdp_spec(np.shape(x), fsdp, min_size)), tree)


def shard_state(state, mesh: Mesh, min_size: int = MIN_SHARD_SIZE):
  """Places a train state (or any pytree of arrays) on the mesh by `state_shardings`.

  Every process must pass the same values (they come from the same seed); each
  keeps only the shards of its own devices.
  """
  return jax.device_put(state, state_shardings(state, mesh, min_size))


def train_step_shardings(state_sharding, mesh: Mesh) -> tuple[tuple, tuple]:
  """(in_shardings, out_shardings) for jit of `step(state, batch) -> (state, metrics)`.

  The state keeps its layout, the batch is split over all devices and the metrics
  (scalars and small sums) come back replicated.
  """
  return ((state_sharding, batch_sharding(mesh)),
          (state_sharding, replicated(mesh)))
