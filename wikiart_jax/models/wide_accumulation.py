"""Matmuls of a low-precision language model that accumulate in float32, forward and backward.

A frozen language model stored in bfloat16 (BLIP-2's OPT or Flan-T5) multiplies
bfloat16 activations by bfloat16 weights. Written as a plain bfloat16 dot
(bfloat16 result), XLA's CPU backend has no kernel for it: it gives every weight
a float32 copy, and since the forward pass and the (rematerialised) backward pass
read the same weight, common-subexpression elimination makes that copy one value
alive from the layer's forward to its backward, so at the turn of the train step
every layer's copy is alive at once (about 10 GiB for OPT-2.7B). A bfloat16 x
bfloat16 -> float32 dot runs on bfloat16 operands as they are (YNNPACK on a CPU;
a GPU accumulates in float32 anyway), so no copy exists. JAX's own transpose of
such a dot would feed float32 cotangents against the bfloat16 weights (a mixed
dot, upcast again), hence the custom VJP: the cotangent is rounded to the
operands' dtype and both gradients are again low-precision dots accumulated in
float32. For float32 operands this is an ordinary float32 matmul.

`dot_general` has lax.dot_general's signature, for `nnx.Linear(dot_general=...)`;
`attend` is `nnx.Embed.attend` (a tied LM head) through the same matmul.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

_F32 = jnp.float32


def _dims(lhs_ndim: int, rhs_axis: int) -> tuple:
  """lhs's last axis against rhs's `rhs_axis` (rhs 2-D), no batch axes."""
  return (((lhs_ndim - 1,), (rhs_axis,)), ((), ()))


def _wide(a, b, dims, dtype):
  return lax.dot_general(a, b, dims, preferred_element_type=_F32).astype(dtype)


def _forward(x, w, rhs_axis):
  return _wide(x, w, _dims(x.ndim, rhs_axis), jnp.result_type(x, w))


_matmul = jax.custom_vjp(_forward, nondiff_argnums=(2,))


def _matmul_fwd(x, w, rhs_axis):
  return _forward(x, w, rhs_axis), (x, w)


def _matmul_bwd(rhs_axis, residuals, g):
  x, w = residuals
  g = g.astype(jnp.result_type(x, w))
  # dx: g against w's other axis; dw: x and g contracted over every leading axis,
  # laid out as w ([K, N] when rhs_axis is 0, [N, K] when it is 1).
  dx = _wide(g, w, _dims(g.ndim, 1 - rhs_axis), x.dtype)
  lead = tuple(range(x.ndim - 1))
  pair = (x, g) if rhs_axis == 0 else (g, x)
  dw = _wide(*pair, ((lead, lead), ((), ())), w.dtype)
  return dx, dw


_matmul.defvjp(_matmul_fwd, _matmul_bwd)


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None,
                **kwargs):
  """lax.dot_general; a Linear's product (lhs [..., K] x rhs [K, N]) accumulates in float32."""
  # Anything but two arrays (qwix's int8 weights) goes to lax.dot_general, which
  # qwix intercepts; so does any product other than a Linear's.
  if (isinstance(lhs, jax.Array) and isinstance(rhs, jax.Array)
      and rhs.ndim == 2 and precision is None and preferred_element_type is None
      and not any(v is not None for v in kwargs.values())
      and tuple(map(tuple, dimension_numbers[0])) == ((lhs.ndim - 1,), (0,))
      and not any(dimension_numbers[1])):
    return _matmul(lhs, rhs, 0)
  return lax.dot_general(lhs, rhs, dimension_numbers, precision=precision,
                         preferred_element_type=preferred_element_type, **kwargs)


def attend(embed, query: jax.Array) -> jax.Array:
  """`embed.attend(query)` (query [..., D] against the table [V, D]) accumulated in float32."""
  table = embed.embedding[...]
  dtype = embed.dtype or jnp.result_type(query, table)
  return _matmul(query.astype(dtype), table.astype(dtype), 1)
