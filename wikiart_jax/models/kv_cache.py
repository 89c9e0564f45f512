"""Static key/value cache and the masked attention that appends to it.

Shared by the text models (GPT-2, GIT, CLIP's text tower). The cache is a
fixed-size pytree so decoding compiles once under `jax.jit`: each call writes
its keys/values at `cache.index` and advances it. Without a cache the same
functions give a plain causal forward pass (CLIP's text tower, teacher forcing).

Every model that generates text (GPT-2, GIT, the captioners) offers the same
three methods, which `inference/generate.py` calls without asking which model
it has:

  init_cache(batch_size, context_length, text_length) -> KVCache
  prefill(input_ids, cache, *, context=None, attention_mask=None) -> (logits, cache)
  decode_step(input_ids, cache) -> (logits, cache)

`context` is what the model is conditioned on (GIT's projected image tokens,
a captioner's `condition(...)`); only a bare GPT-2 takes a left-padded prompt
(`attention_mask`). `prefill` may return the logits of the prompt's last
position alone ([B, 1, vocab]): generation reads nothing else, and the LM head
is the largest matrix of a small decoder.
"""

from __future__ import annotations

import math

import flax.struct
import jax
import jax.numpy as jnp


@flax.struct.dataclass
class KVCache:
  """Pre-allocated keys/values of every layer: a pytree that jit can carry.

  Attributes:
    keys: per layer, [B, heads, S, head_dim] with S the maximum length: head-major,
      the layout both attention products read, so a decoding step appends its
      slot and never transposes the whole cache (XLA did, every step, for the
      token-major [B, S, heads, head_dim]: 8x the weights' traffic at GIT-base batch 8).
    values: same shapes as `keys`.
    valid: [B, S] bool, True where a slot holds a real (non-padding) token.
    index: int32 scalar, the number of slots already written.
    num_prefix: int32 scalar, leading slots holding a bidirectional prefix that
      takes no position ids (GIT's image tokens); 0 for GPT-2.
    position_offset: int32 [B], per row the slots before its first real token
      (a left-padded prompt): a slot's position id is its index minus this, so
      decoding needs no positions of its own. 0 for unpadded prompts.
  """
  keys: tuple[jax.Array, ...]
  values: tuple[jax.Array, ...]
  valid: jax.Array
  index: jax.Array
  num_prefix: jax.Array
  position_offset: jax.Array

  @classmethod
  def create(cls, *, num_layers: int, batch_size: int, max_length: int, num_heads: int,
             head_dim: int, dtype='float32') -> 'KVCache':
    """Returns an empty cache of `max_length` slots."""
    shape = (batch_size, num_heads, max_length, head_dim)
    zeros = tuple(jnp.zeros(shape, dtype) for _ in range(num_layers))
    return cls(keys=zeros, values=zeros, valid=jnp.zeros((batch_size, max_length), bool),
               index=jnp.zeros((), jnp.int32), num_prefix=jnp.zeros((), jnp.int32),
               position_offset=jnp.zeros((batch_size,), jnp.int32))


def attention_mask_for(token_valid: jax.Array, cache: KVCache | None, *,
                       bidirectional: int = 0) -> tuple[jax.Array, jax.Array | None]:
  """Builds the [B, 1, T, S] boolean attention mask for T new tokens.

  Args:
    token_valid: [B, T] bool, False on padding tokens of this call.
    cache: the cache the call appends to, or None (keys = the T new tokens).
    bidirectional: the first `bidirectional` slots (e.g. GIT's image tokens)
      see each other fully; everything else is causal.

  Returns:
    (mask, valid) where `valid` is the cache's updated slot validity (or None).
  """
  t = token_valid.shape[1]
  if cache is None:
    start, valid, key_valid = 0, None, token_valid
    key_slots = jnp.arange(t)
  else:
    start = cache.index
    valid = jax.lax.dynamic_update_slice(cache.valid, token_valid, (0, start))
    key_valid = valid
    key_slots = jnp.arange(valid.shape[1])
  query_slots = start + jnp.arange(t)
  visible = key_slots[None, :] <= query_slots[:, None]
  both_prefix = (key_slots[None, :] < bidirectional) & (query_slots[:, None] < bidirectional)
  mask = (visible | both_prefix)[None, None] & key_valid[:, None, None, :]
  return mask, valid


def attend(q: jax.Array, k: jax.Array, v: jax.Array, mask: jax.Array,
           layer_cache: tuple[jax.Array, jax.Array] | None,
           index) -> tuple[jax.Array, tuple | None]:
  """Masked softmax attention over [B, T, heads, head_dim]; appends to the cache if given.

  Without a cache this is `jax.nn.dot_product_attention` (training, CLIP's text
  tower). With one, the T new keys/values are written head-major at `index` and
  the same XLA attention (float32 logits and softmax, the same large negative
  for masked slots) reads the cache in that layout.
  """
  if layer_cache is None:
    return jax.nn.dot_product_attention(q, k, v, mask=mask), None
  at = (0, 0, index, 0)
  head_major = lambda x, like: jnp.swapaxes(x, 1, 2).astype(like.dtype)
  k = jax.lax.dynamic_update_slice(layer_cache[0], head_major(k, layer_cache[0]), at)
  v = jax.lax.dynamic_update_slice(layer_cache[1], head_major(v, layer_cache[1]), at)
  return _cached_attention(q, k.astype(q.dtype), v.astype(q.dtype), mask), (k, v)


def _cached_attention(q: jax.Array, k: jax.Array, v: jax.Array, mask: jax.Array) -> jax.Array:
  """softmax(q k^T / sqrt(head_dim)) v for q [B, T, N, H] and a cache's k, v [B, N, S, H].

  The numerics of `jax.nn.dot_product_attention`'s XLA path (mask [B, 1, T, S]).
  """
  logits_dtype = jnp.promote_types(q.dtype, jnp.float32)
  logits = jnp.einsum('btnh,bnsh->bnts', q, k, preferred_element_type=logits_dtype)
  logits = logits * jnp.array(1.0 / math.sqrt(q.shape[-1]), logits_dtype)
  logits = jnp.where(mask, logits, _large_negative(logits_dtype))
  probs = jax.nn.softmax(logits.astype(jnp.float32), axis=-1).astype(v.dtype)
  return jnp.einsum('bnts,bnsh->btnh', probs, v)


def _large_negative(dtype) -> jax.Array:
  """What masked logits become: -0.7 x the dtype's max (capped to float32), as JAX's."""
  limit = min(float(jnp.finfo(dtype).max), float(jnp.finfo(jnp.float32).max))
  return jnp.asarray(-0.7 * limit, dtype)


def run_layers(layers, x: jax.Array, mask: jax.Array, cache: KVCache | None,
               new_valid: jax.Array | None, deterministic: bool,
               rngs) -> tuple[jax.Array, KVCache | None]:
  """Runs `layers` in order, each reading and appending to its slice of `cache`.

  Args:
    layers: blocks called as `layer(x, mask, layer_cache, index, deterministic,
      rngs) -> (x, layer_cache)`.
    x: [B, T, D] inputs of the T new slots.
    mask: from `attention_mask_for`.
    cache: the cache to append to, or None for a plain forward pass.
    new_valid: the cache's updated slot validity (`attention_mask_for`'s second output).
    deterministic: disables dropout when True.
    rngs: dropout keys.

  Returns:
    (outputs [B, T, D], the cache advanced by T slots, or None).
  """
  index = 0 if cache is None else cache.index
  keys, values = [], []
  for i, layer in enumerate(layers):
    layer_cache = None if cache is None else (cache.keys[i], cache.values[i])
    x, layer_cache = layer(x, mask, layer_cache, index, deterministic, rngs)
    if layer_cache is not None:
      keys.append(layer_cache[0])
      values.append(layer_cache[1])
  if cache is not None:
    cache = cache.replace(keys=tuple(keys), values=tuple(values), valid=new_valid,
                          index=cache.index + x.shape[1])
  return x, cache


def refuse_padding(attention_mask, model_name: str) -> None:
  """Image-conditioned prompts are BOS and a tag, never padded: say so if one is."""
  if attention_mask is not None:
    raise ValueError(f'{model_name} prompts cannot be padded (image prompts are BOS only); '
                     'only GPT-2 prompts may be padded')
