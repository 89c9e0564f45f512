"""Strict copy of renamed, transposed checkpoint tensors into an NNX model.

A family converter describes its checkpoint as a `Mapping`: checkpoint key ->
(parameter path in our model, transform). `load_into` then refuses anything
that does not line up exactly: a missing key, an unexpected key, a tensor whose
converted shape differs from the parameter, or a parameter nothing writes.
Partial loading exists only through an explicit `include` list of key prefixes.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np

from wikiart_jax.core import CheckpointError

Path = tuple  # (str | int, ...) as in nnx.to_flat_state
Transform = Callable[[np.ndarray], np.ndarray]
Mapping = dict[str, tuple[Path, Transform]]


def keep(w: np.ndarray) -> np.ndarray:
  return w


def linear(w: np.ndarray) -> np.ndarray:
  """torch Linear [out, in] -> Flax kernel [in, out]."""
  return np.ascontiguousarray(w.T)


def conv(w: np.ndarray) -> np.ndarray:
  """torch Conv2d [O, I, kh, kw] -> Flax kernel [kh, kw, I, O]."""
  return np.ascontiguousarray(w.transpose(2, 3, 1, 0))


def add_axis(w: np.ndarray) -> np.ndarray:
  """[N, D] -> [1, N, D] (CLIP's position table as our ViT's)."""
  return w[None]


def add_two_axes(w: np.ndarray) -> np.ndarray:
  """[D] -> [1, 1, D] (CLIP's class embedding as our ViT's CLS token)."""
  return w[None, None]


# Each transform's inverse, for writing our parameters back as a checkpoint.
INVERSES: dict[Transform, Transform] = {
    keep: keep,
    linear: linear,
    conv: lambda w: np.ascontiguousarray(w.transpose(3, 2, 0, 1)),
    add_axis: lambda w: w[0],
    add_two_axes: lambda w: w[0, 0],
}


def add_linear(m: Mapping, key: str, path: Path, *, bias: bool = True,
               transform: Transform = linear) -> None:
  """Maps `key.weight` (and `key.bias`) onto a Linear at `path`."""
  m[key + '.weight'] = (path + ('kernel',), transform)
  if bias:
    m[key + '.bias'] = (path + ('bias',), keep)


def add_norm(m: Mapping, key: str, path: Path) -> None:
  """Maps a LayerNorm (weight -> scale, bias)."""
  m[key + '.weight'] = (path + ('scale',), keep)
  m[key + '.bias'] = (path + ('bias',), keep)


def add_embed(m: Mapping, key: str, path: Path) -> None:
  """Maps an nn.Embedding weight onto an nnx.Embed."""
  m[key + '.weight'] = (path + ('embedding',), keep)


def head_is_tied(tensors, head_key: str, embed_key: str) -> bool:
  """Whether a checkpoint's LM head is its embedding: no head tensor, or an equal one
  (transformers unties only a head that differs)."""
  if head_key not in tensors:
    return True
  head, embed = tensors[head_key], tensors.get(embed_key)
  return embed is not None and head.shape == embed.shape and bool((head == embed).all())


def exactly(key: str) -> str:
  """A regex matching only `key` (for `load_into`'s `ignore`)."""
  return f'^{re.escape(key)}$'


def nest(m: Mapping, path: Path) -> Mapping:
  """The same mapping for a submodule found at `path` in a bigger model."""
  return {k: (path + p, t) for k, (p, t) in m.items()}


def _name(path: Path) -> str:
  return '/'.join(str(p) for p in path)


def _under(key: str, prefixes: Sequence[str]) -> bool:
  return any(key.startswith(p) for p in prefixes)


def abstract(factory: Callable[[nnx.Rngs], nnx.Module]) -> nnx.Module:
  """Builds a model's structure without computing a random init (a full load fills it)."""
  return nnx.eval_shape(lambda: factory(nnx.Rngs(0)))


def load_into(model: nnx.Module, tensors: dict[str, np.ndarray], mapping: Mapping, *,
              include: Sequence[str] | None = None, ignore: Iterable[str] = ()) -> list[str]:
  """Copies checkpoint tensors into `model`'s parameters (in place).

  Args:
    model: the NNX model; its parameter shapes are the reference.
    tensors: checkpoint key -> array (already key-normalised by the family).
    mapping: checkpoint key -> (parameter path, transform).
    include: None loads everything and requires every parameter to be written;
      a list of checkpoint key prefixes loads only those keys and leaves the
      other parameters as they are.
    ignore: regexes of checkpoint keys that are not parameters (buffers such as
      `position_ids`); they are skipped, never reported as unexpected.

  Returns:
    The checkpoint keys that were loaded.

  Raises:
    CheckpointError: naming the first missing, unexpected or mis-shaped key.
  """
  if include is not None and not include:
    raise CheckpointError('load_partial needs at least one key prefix in include')
  ignored = [re.compile(p) for p in ignore]
  params = {tuple(p): v for p, v in nnx.to_flat_state(nnx.state(model, nnx.Param))}
  wanted = {k: r for k, r in mapping.items() if include is None or _under(k, include)}
  if include is not None and not wanted:
    raise CheckpointError(f'no model parameter comes from the prefixes {list(include)}')

  for key in sorted(tensors):
    if key in mapping or any(p.search(key) for p in ignored):
      continue
    if include is None or _under(key, include):
      raise CheckpointError(f'unexpected checkpoint key {key!r} (shape {tensors[key].shape})')
  if include is None:
    written = {path for path, _ in mapping.values()}
    for path in params:
      if path not in written:
        raise CheckpointError(f'model parameter {_name(path)} has no checkpoint key')

  updates = []
  for key, (path, transform) in sorted(wanted.items()):
    if key not in tensors:
      raise CheckpointError(f'missing checkpoint key {key!r} (for {_name(path)})')
    if path not in params:
      raise CheckpointError(f'checkpoint key {key!r} maps to {_name(path)}, '
                            'which the model does not have')
    value = transform(np.asarray(tensors[key]))
    target = params[path].get_value()
    if value.shape != target.shape:
      raise CheckpointError(f'checkpoint key {key!r} has shape {tensors[key].shape}, '
                            f'converted {value.shape}, but {_name(path)} is {target.shape}')
    updates.append((path, jnp.asarray(value, dtype=target.dtype)))
  nnx.update(model, nnx.from_flat_state(updates))
  for path, var in nnx.to_flat_state(nnx.state(model)):
    if isinstance(var.get_value(), jax.ShapeDtypeStruct):  # built by `abstract`, never filled
      raise CheckpointError(f'model variable {_name(path)} was not loaded')
  return sorted(wanted)


def export_tensors(model: nnx.Module, mapping: Mapping) -> dict[str, np.ndarray]:
  """The checkpoint tensors (float32, torch layout) of `model` under `mapping`'s keys."""
  params = {tuple(p): v for p, v in nnx.to_flat_state(nnx.state(model, nnx.Param))}
  out = {}
  for key, (path, transform) in mapping.items():
    if transform not in INVERSES:
      raise ValueError(f'checkpoint key {key!r} uses a transform with no inverse')
    value = np.asarray(params[path].get_value(), np.float32)
    out[key] = np.ascontiguousarray(INVERSES[transform](value))
  return out
