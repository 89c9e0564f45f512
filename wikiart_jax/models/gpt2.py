"""GPT-2 language model (Flax NNX) with optional prefix embeddings and a static KV cache.

Submodule names follow Hugging Face's `GPT2LMHeadModel` (wte, wpe, h.{i}.ln_1,
attn.c_attn, ...) so converting a checkpoint is a rename. Decoding appends to the
static `KVCache` of models/kv_cache.py, shared with the GIT and CLIP text models.
"""

from __future__ import annotations

import dataclasses
import functools

from flax import nnx
import jax
import jax.numpy as jnp

from wikiart_jax.models.activations import activation
from wikiart_jax.models.kv_cache import KVCache, attend, attention_mask_for, run_layers


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

  def init_cache(self, batch_size: int, context_length: int, text_length: int,
                 dtype=None) -> KVCache:
    """An empty cache for a prefix of `context_length` embeddings and `text_length`
    tokens; both take positions, which must fit in n_positions."""
    cfg = self.config
    if context_length + text_length > cfg.n_positions:
      # Positions past the table would embed as garbage instead of failing.
      raise ValueError(f'prefix + prompt + max_new_tokens = {context_length + text_length} '
                       f"exceeds the model's {cfg.n_positions} positions")
    return KVCache.create(num_layers=cfg.n_layer, batch_size=batch_size,
                          max_length=context_length + text_length, num_heads=cfg.n_head,
                          head_dim=cfg.n_embd // cfg.n_head, dtype=dtype or cfg.dtype)

  def prefill(self, input_ids: jax.Array, cache: KVCache, *, context: jax.Array | None = None,
              attention_mask: jax.Array | None = None) -> tuple[jax.Array, KVCache]:
    """Feeds the prefix `context` [B, P, n_embd] (if any) and the prompt [B, T].

    A left-padded prompt (`attention_mask` 0 on the leading pads) gets position
    ids that count only its real tokens, as transformers' generate does.

    Returns:
      (logits [B, 1, vocab] at the prompt's last position, all that decoding reads;
      the cache).
    """
    if attention_mask is not None:
      pads = input_ids.shape[1] - jnp.sum(attention_mask, axis=1).astype(jnp.int32)
      cache = cache.replace(position_offset=pads)
    return self(input_ids, attention_mask=attention_mask, prefix_embeds=context, cache=cache,
                last_logits_only=True)

  def decode_step(self, input_ids: jax.Array, cache: KVCache) -> tuple[jax.Array, KVCache]:
    """Appends [B, T] tokens (T = 1 when decoding): (logits [B, T, vocab], cache)."""
    return self(input_ids, cache=cache)

  def __call__(self, input_ids: jax.Array, *, attention_mask: jax.Array | None = None,
               prefix_embeds: jax.Array | None = None, cache: KVCache | None = None,
               positions: jax.Array | None = None, deterministic: bool = True,
               rngs: nnx.Rngs | None = None,
               text_logits_only: bool = False,
               last_logits_only: bool = False) -> tuple[jax.Array, KVCache | None]:
    """Runs the model on new tokens, optionally after a prefix and/or a cache.

    Args:
      input_ids: [B, T] int token ids (T may be 0 when only a prefix is fed).
      attention_mask: [B, T], 1 for real tokens, 0 for padding; None = all real.
      prefix_embeds: [B, P, n_embd] embeddings placed before the tokens (e.g. a
        projected image); they take positions like tokens and are attended causally.
      cache: a `KVCache` to append to; None = a plain forward pass.
      positions: [B, P + T] position ids; default: slots `cache.index` onward,
        less the cache's `position_offset` (never below 0).
      deterministic: disables dropout when True.
      rngs: dropout keys (only read when `deterministic` is False).
      text_logits_only: skip the LM head on the prefix positions (unused when captioning).
      last_logits_only: the LM head on the last position alone (a prompt's prefill:
        the head is the model's largest matrix, and only its last row is read).

    Returns:
      (logits [B, P + T, vocab] float32, [B, T, vocab] with `text_logits_only`, or
      [B, 1, vocab] with `last_logits_only`; the updated cache or None).
    """
    x = self.wte(input_ids)
    valid = (jnp.ones(input_ids.shape, bool) if attention_mask is None
             else attention_mask.astype(bool))
    if prefix_embeds is not None:
      x = jnp.concatenate([prefix_embeds.astype(x.dtype), x], axis=1)
      valid = jnp.concatenate([jnp.ones(prefix_embeds.shape[:2], bool), valid], axis=1)
    if positions is None:
      positions = jnp.arange(x.shape[1])[None]
      if cache is not None:
        positions = jnp.maximum(cache.index + positions - cache.position_offset[:, None], 0)
    if x.shape[1] > self.config.n_positions:
      raise ValueError(f'Sequence of {x.shape[1]} exceeds n_positions={self.config.n_positions}.')
    x = self.drop(x + self.wpe(positions), deterministic=deterministic, rngs=rngs)

    mask, new_valid = attention_mask_for(valid, cache)
    x, cache = run_layers(self.h, x, mask, cache, new_valid, deterministic, rngs)
    if last_logits_only:
      x = x[:, -1:]
    elif text_logits_only:
      x = x[:, x.shape[1] - input_ids.shape[1]:]
    x = self.ln_f(x)
    logits = self._tied_logits(x) if self.lm_head is None else self.lm_head(x)
    return logits.astype(jnp.float32), cache

  def _tied_logits(self, x: jax.Array) -> jax.Array:
    """x [..., n_embd] against the token table as stored ([vocab, n_embd]).

    Not `wte.attend` (x @ table.T): at batch 1, XLA's CPU backend fused that
    transpose into the decoding loop and copied the whole table (154 MB for GPT-2
    small) at every token; contracting the stored layout directly reads it once.
    """
    x, table = self.wte.promote_dtype((x, self.wte.embedding[...]), dtype=self.wte.dtype)
    return jnp.einsum('...d,vd->...v', x, table)
