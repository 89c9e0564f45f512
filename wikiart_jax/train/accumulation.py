"""Gradient accumulation: k micro-batches inside one jitted step, as a `lax.scan`.

As maxtext's gradient_accumulation.py: the batch [k*b, ...] is split into k
micro-batches, the loss and gradients of each are computed in turn (only one
micro-batch's activations live at a time) and summed. The caller normalises each
micro-batch's loss by the whole batch's label counts, so the sums equal the
whole batch's loss and gradient exactly.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp


def split_micro(batch: dict, accum: int) -> dict:
  """[k*b, ...] -> [k, b, ...], micro-batch i = rows i, i+k, ...

  Interleaving keeps every micro-batch spread over all devices (the batch axis
  is sharded in contiguous blocks), so the scan needs no resharding.
  """
  def split(x):
    if x.shape[0] % accum:
      raise ValueError(f'batch of {x.shape[0]} not divisible by grad_accum_steps={accum}')
    return x.reshape((x.shape[0] // accum, accum) + x.shape[1:]).swapaxes(0, 1)
  return jax.tree.map(split, batch)


def accumulate_gradients(loss_and_grad: Callable, params, batch: dict, accum: int,
                         key: jax.Array):
  """Sums `loss_and_grad` over `accum` micro-batches of `batch`.

  Args:
    loss_and_grad: (params, micro_batch, key) -> ((loss, (sums, rows)), grads), as
      `jax.value_and_grad(..., has_aux=True)` gives: `sums` are summed over the
      micro-batches like the loss and gradients, `rows` are per-example outputs
      [b, ...] put back together.
    params: the parameters to differentiate.
    batch: the whole batch, leading dimension k*b.
    accum: k; 1 calls `loss_and_grad` once on the whole batch with `key`.
    key: micro-batch i uses `fold_in(key, i)`.

  Returns:
    ((loss, (sums, rows [k*b, ...] in batch order)), grads).
  """
  if accum == 1:
    return loss_and_grad(params, batch, key)

  def body(carry, xs):
    micro, index = xs
    (loss, (sums, rows)), grads = loss_and_grad(params, micro, jax.random.fold_in(key, index))
    return jax.tree.map(jnp.add, carry, (grads, loss, sums)), rows

  micros = split_micro(batch, accum)
  first = jax.tree.map(lambda x: x[0], micros)
  (loss_shape, (sums_shape, _)), grads_shape = jax.eval_shape(loss_and_grad, params, first, key)
  zeros = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype),
                       (grads_shape, loss_shape, sums_shape))
  (grads, loss, sums), rows = jax.lax.scan(body, zeros, (micros, jnp.arange(accum)))
  # Back to [k*b, ...] in the original row order.
  rows = jax.tree.map(lambda x: x.swapaxes(0, 1).reshape((-1,) + x.shape[2:]), rows)
  return (loss, (sums, rows)), grads
