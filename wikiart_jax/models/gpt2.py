"""GPT-2 language model (Flax NNX) with optional prefix embeddings and a static KV cache.

Submodule names follow Hugging Face's `GPT2LMHeadModel` (wte, wpe, h.{i}.ln_1,
attn.c_attn, ...) so converting a checkpoint is a rename. The cache is a
fixed-size pytree (`KVCache`) so decoding compiles once under `jax.jit`: each
call writes its keys/values at `cache.index` and advances it. The cache, the
mask builder and the activations are shared with the GIT and CLIP text models.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable

import flax.struct
from flax import nnx
import jax
import jax.numpy as jnp

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    'gelu': functools.partial(jax.nn.gelu, approximate=False),
    'gelu_new': functools.partial(jax.nn.gelu, approximate=True),
    'gelu_pytorch_tanh': functools.partial(jax.nn.gelu, approximate=True),
    'gelu_tanh': functools.partial(jax.nn.gelu, approximate=True),
    'quick_gelu': lambda x: x * jax.nn.sigmoid(1.702 * x),
    'relu': jax.nn.relu,
}


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
  """Returns the activation called `name` (Hugging Face spelling)."""
  if name not in ACTIVATIONS:
    raise ValueError(f'Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}.')
  return ACTIVATIONS[name]


@flax.struct.dataclass
class KVCache:
  """Pre-allocated keys/values of every layer: a pytree that jit can carry.

  Attributes:
    keys: per layer, [B, S, heads, head_dim] with S the maximum length.
    values: same shapes as `keys`.
    valid: [B, S] bool, True where a slot holds a real (non-padding) token.
    index: int32 scalar, the number of slots already written.
    num_prefix: int32 scalar, leading slots holding a bidirectional prefix that
      takes no position ids (GIT's image tokens); 0 for GPT-2.
  """
  keys: tuple[jax.Array, ...]
  values: tuple[jax.Array, ...]
  valid: jax.Array
  index: jax.Array
  num_prefix: jax.Array

  @classmethod
  def create(cls, *, num_layers: int, batch_size: int, max_length: int, num_heads: int,
             head_dim: int, dtype='float32') -> 'KVCache':
    """Returns an empty cache of `max_length` slots."""
    shape = (batch_size, max_length, num_heads, head_dim)
    zeros = tuple(jnp.zeros(shape, dtype) for _ in range(num_layers))
    return cls(keys=zeros, values=zeros, valid=jnp.zeros((batch_size, max_length), bool),
               index=jnp.zeros((), jnp.int32), num_prefix=jnp.zeros((), jnp.int32))


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
  """Masked softmax attention over [B, T, heads, head_dim]; appends to the cache if given."""
  if layer_cache is not None:
    at = (0, index, 0, 0)
    k = jax.lax.dynamic_update_slice(layer_cache[0], k.astype(layer_cache[0].dtype), at)
    v = jax.lax.dynamic_update_slice(layer_cache[1], v.astype(layer_cache[1].dtype), at)
    layer_cache = (k, v)
    k, v = k.astype(q.dtype), v.astype(q.dtype)
  out = jax.nn.dot_product_attention(q, k, v, mask=mask)
  return out, layer_cache


@dataclasses.dataclass(frozen=True)
class GPT2Config:
  """Sizes of a GPT-2 model (field names as in the checkpoint's config.json)."""
  vocab_size: int = 50257
  n_positions: int = 1024
  n_embd: int = 768
  n_layer: int = 12
  n_head: int = 12
  n_inner: int | None = None  # None = 4 * n_embd
  activation_function: str = 'gelu_new'
  layer_norm_epsilon: float = 1e-5
  tie_word_embeddings: bool = True
  dropout: float = 0.0
  dtype: str = 'float32'  # compute dtype; parameters are float32


class GPT2Attention(nnx.Module):
  """Causal self-attention with the fused c_attn projection of GPT-2."""

  def __init__(self, cfg: GPT2Config, *, rngs: nnx.Rngs):
    self.num_heads = cfg.n_head
    linear = functools.partial(nnx.Linear, dtype=cfg.dtype, rngs=rngs)
    self.c_attn = linear(cfg.n_embd, 3 * cfg.n_embd)
    self.c_proj = linear(cfg.n_embd, cfg.n_embd)

  def __call__(self, x, mask, layer_cache, index):
    b, t, d = x.shape
    q, k, v = jnp.split(self.c_attn(x), 3, axis=-1)
    q, k, v = (a.reshape(b, t, self.num_heads, d // self.num_heads) for a in (q, k, v))
    out, layer_cache = attend(q, k, v, mask, layer_cache, index)
    return self.c_proj(out.reshape(b, t, d)), layer_cache


class GPT2MLP(nnx.Module):
  """Position-wise feed-forward block (c_fc -> activation -> c_proj)."""

  def __init__(self, cfg: GPT2Config, *, rngs: nnx.Rngs):
    inner = cfg.n_inner or 4 * cfg.n_embd
    self.c_fc = nnx.Linear(cfg.n_embd, inner, dtype=cfg.dtype, rngs=rngs)
    self.c_proj = nnx.Linear(inner, cfg.n_embd, dtype=cfg.dtype, rngs=rngs)
    self.act = activation(cfg.activation_function)

  def __call__(self, x):
    return self.c_proj(self.act(self.c_fc(x)))


class GPT2Block(nnx.Module):
  """Pre-LayerNorm transformer block."""

  def __init__(self, cfg: GPT2Config, *, rngs: nnx.Rngs):
    norm = functools.partial(nnx.LayerNorm, cfg.n_embd, epsilon=cfg.layer_norm_epsilon,
                             dtype=cfg.dtype, use_fast_variance=False, rngs=rngs)
    self.ln_1 = norm()
    self.attn = GPT2Attention(cfg, rngs=rngs)
    self.ln_2 = norm()
    self.mlp = GPT2MLP(cfg, rngs=rngs)
    self.drop = nnx.Dropout(cfg.dropout)

  def __call__(self, x, mask, layer_cache, index, deterministic, rngs):
    h, layer_cache = self.attn(self.ln_1(x), mask, layer_cache, index)
    x = x + self.drop(h, deterministic=deterministic, rngs=rngs)
    x = x + self.drop(self.mlp(self.ln_2(x)), deterministic=deterministic, rngs=rngs)
    return x, layer_cache


class GPT2LMHeadModel(nnx.Module):
  """GPT-2 with a language-model head tied to the token embeddings (unless untied)."""

  def __init__(self, cfg: GPT2Config, *, rngs: nnx.Rngs):
    self.config = cfg
    self.wte = nnx.Embed(cfg.vocab_size, cfg.n_embd, dtype=cfg.dtype, rngs=rngs)
    self.wpe = nnx.Embed(cfg.n_positions, cfg.n_embd, dtype=cfg.dtype, rngs=rngs)
    self.drop = nnx.Dropout(cfg.dropout)
    self.h = nnx.List([GPT2Block(cfg, rngs=rngs) for _ in range(cfg.n_layer)])
    self.ln_f = nnx.LayerNorm(cfg.n_embd, epsilon=cfg.layer_norm_epsilon, dtype=cfg.dtype,
                              use_fast_variance=False, rngs=rngs)
    self.lm_head = (None if cfg.tie_word_embeddings else
                    nnx.Linear(cfg.n_embd, cfg.vocab_size, use_bias=False, dtype=cfg.dtype,
                               rngs=rngs))

  def init_cache(self, batch_size: int, max_length: int, dtype=None) -> KVCache:
    """Returns an empty cache for `max_length` positions (prefix included)."""
    cfg = self.config
    return KVCache.create(num_layers=cfg.n_layer, batch_size=batch_size, max_length=max_length,
                          num_heads=cfg.n_head, head_dim=cfg.n_embd // cfg.n_head,
                          dtype=dtype or cfg.dtype)

  def __call__(self, input_ids: jax.Array, *, attention_mask: jax.Array | None = None,
               prefix_embeds: jax.Array | None = None, cache: KVCache | None = None,
               positions: jax.Array | None = None, deterministic: bool = True,
               rngs: nnx.Rngs | None = None) -> tuple[jax.Array, KVCache | None]:
    """Runs the model on new tokens, optionally after a prefix and/or a cache.

    Args:
      input_ids: [B, T] int token ids (T may be 0 when only a prefix is fed).
      attention_mask: [B, T], 1 for real tokens, 0 for padding; None = all real.
      prefix_embeds: [B, P, n_embd] embeddings placed before the tokens (e.g. a
        projected image); they take positions like tokens and are attended causally.
      cache: a `KVCache` to append to; None = a plain forward pass.
      positions: [B, P + T] position ids; default: slots `cache.index` onward.
      deterministic: disables dropout when True.
      rngs: dropout keys (only read when `deterministic` is False).

    Returns:
      (logits [B, P + T, vocab] float32, the updated cache or None).
    """
    x = self.wte(input_ids)
    valid = (jnp.ones(input_ids.shape, bool) if attention_mask is None
             else attention_mask.astype(bool))
    if prefix_embeds is not None:
      x = jnp.concatenate([prefix_embeds.astype(x.dtype), x], axis=1)
      valid = jnp.concatenate([jnp.ones(prefix_embeds.shape[:2], bool), valid], axis=1)
    index = 0 if cache is None else cache.index
    if positions is None:
      positions = index + jnp.arange(x.shape[1])[None]
    if x.shape[1] > self.config.n_positions:
      raise ValueError(f'Sequence of {x.shape[1]} exceeds n_positions={self.config.n_positions}.')
    x = self.drop(x + self.wpe(positions), deterministic=deterministic, rngs=rngs)

    mask, new_valid = attention_mask_for(valid, cache)
    keys, values = [], []
    for i, block in enumerate(self.h):
      layer_cache = None if cache is None else (cache.keys[i], cache.values[i])
      x, layer_cache = block(x, mask, layer_cache, index, deterministic, rngs)
      if layer_cache is not None:
        keys.append(layer_cache[0])
        values.append(layer_cache[1])
    x = self.ln_f(x)
    logits = self.wte.attend(x) if self.lm_head is None else self.lm_head(x)
    if cache is not None:
      cache = cache.replace(keys=tuple(keys), values=tuple(values), valid=new_valid,
                            index=cache.index + x.shape[1])
    return logits.astype(jnp.float32), cache
