"""OPT language model (Flax NNX), as transformers' `OPTForCausalLM` with pre-LayerNorm.

Learned positions with OPT's offset of 2 (rows 0 and 1 are never a real
position; padding reads row 1), pre-LayerNorm decoder layers with biased
projections and a ReLU feed-forward, a final LayerNorm, and the LM head tied to
the token embeddings. Position ids count the real tokens (a padded slot has
none), as transformers derives them from the attention mask, so a prefix of
embeddings (BLIP-2's query outputs) and a left-padded prompt take the positions
transformers gives them. Decoding appends to the static `KVCache`
(models/kv_cache.py) through the text models' `init_cache` / `prefill` /
`decode_step`.

Parameter paths and their checkpoint keys (`D.` = `model.decoder.`, `L.` = `D.layers.{i}.`):

  embed_tokens, embed_positions    <- D.embed_tokens, D.embed_positions
  layers/{i}/self_attn_layer_norm  <- L.self_attn_layer_norm
  layers/{i}/{q,k,v,out}_proj      <- L.self_attn.{q,k,v,out}_proj
  layers/{i}/final_layer_norm      <- L.final_layer_norm
  layers/{i}/fc1, fc2              <- L.fc1, L.fc2
  final_layer_norm                 <- D.final_layer_norm
  lm_head                          <- lm_head (only when untied)
"""

from __future__ import annotations

import dataclasses
import functools

from flax import nnx
import jax
import jax.numpy as jnp

from wikiart_jax.models import wide_accumulation
from wikiart_jax.models.activations import activation
from wikiart_jax.models.kv_cache import KVCache, attend, attention_mask_for, run_layers

POSITION_OFFSET = 2  # OPT's learned position table starts its real positions at row 2


@dataclasses.dataclass(frozen=True)
class OPTConfig:
  """OPT sizes (field names ours; convert/opt.py reads the checkpoint's config.json)."""
  vocab_size: int = 50272
  hidden_size: int = 2560
  num_layers: int = 32
  num_heads: int = 32
  ffn_dim: int = 10240
  max_position_embeddings: int = 2048
  activation: str = 'relu'
  layer_norm_eps: float = 1e-5
  tie_word_embeddings: bool = True
  dropout: float = 0.0
  dtype: str = 'float32'  # compute dtype
  param_dtype: str = 'float32'  # storage (bfloat16 for a frozen LM)
  remat: str = 'none'  # none | full | dots (models/remat.py), in a training pass


class OPTDecoderLayer(nnx.Module):
  """x + attn(LN(x)), then x + fc2(act(fc1(LN(x))))."""

  def __init__(self, cfg: OPTConfig, *, rngs: nnx.Rngs):
    d = cfg.hidden_size
    linear = functools.partial(nnx.Linear, dtype=cfg.dtype, param_dtype=cfg.param_dtype,
                               dot_general=wide_accumulation.dot_general, rngs=rngs)
    norm = functools.partial(nnx.LayerNorm, d, epsilon=cfg.layer_norm_eps, dtype=cfg.dtype,
                             param_dtype=cfg.param_dtype, use_fast_variance=False, rngs=rngs)
    self.num_heads = cfg.num_heads
    self.self_attn_layer_norm = norm()
    self.q_proj, self.k_proj, self.v_proj = linear(d, d), linear(d, d), linear(d, d)
    self.out_proj = linear(d, d)
    self.final_layer_norm = norm()
    self.fc1 = linear(d, cfg.ffn_dim)
    self.fc2 = linear(cfg.ffn_dim, d)
    self.act = activation(cfg.activation)
    self.drop = nnx.Dropout(cfg.dropout)

  def __call__(self, x, mask, layer_cache, index, deterministic, rngs):
    b, t, d = x.shape
    h = self.self_attn_layer_norm(x)
    heads = lambda a: a.reshape(b, t, self.num_heads, d // self.num_heads)
    h, layer_cache = attend(heads(self.q_proj(h)), heads(self.k_proj(h)),
                            heads(self.v_proj(h)), mask, layer_cache, index)
    x = x + self.drop(self.out_proj(h.reshape(b, t, d)), deterministic=deterministic, rngs=rngs)
    h = self.fc2(self.act(self.fc1(self.final_layer_norm(x))))
    return x + self.drop(h, deterministic=deterministic, rngs=rngs), layer_cache


class OPTForCausalLM(nnx.Module):
  """OPT decoder and LM head; accepts a prefix of embeddings before the tokens."""

  def __init__(self, cfg: OPTConfig, *, rngs: nnx.Rngs):
    self.config = cfg
    embed = functools.partial(nnx.Embed, features=cfg.hidden_size, dtype=cfg.dtype,
                              param_dtype=cfg.param_dtype, rngs=rngs)
    self.embed_tokens = embed(cfg.vocab_size)
    self.embed_positions = embed(cfg.max_position_embeddings + POSITION_OFFSET)
    self.layers = nnx.List([OPTDecoderLayer(cfg, rngs=rngs) for _ in range(cfg.num_layers)])
    self.final_layer_norm = nnx.LayerNorm(
        cfg.hidden_size, epsilon=cfg.layer_norm_eps, dtype=cfg.dtype,
        param_dtype=cfg.param_dtype, use_fast_variance=False, rngs=rngs)
    self.lm_head = (None if cfg.tie_word_embeddings else
                    nnx.Linear(cfg.hidden_size, cfg.vocab_size, use_bias=False, dtype=cfg.dtype,
                               param_dtype=cfg.param_dtype,
                               dot_general=wide_accumulation.dot_general, rngs=rngs))

  def embed(self, input_ids: jax.Array) -> jax.Array:
    """Token embeddings [B, T, hidden] (what a prefix is concatenated with)."""
    return self.embed_tokens(input_ids)

  def check_length(self, length: int) -> None:
    """Refuses a sequence (prefix + text) longer than the position table."""
    if length > self.config.max_position_embeddings:
      # A position past the table would read another row, silently.
      raise ValueError(f'OPT sequence of {length} positions (prefix + prompt + new tokens) '
                       f'exceeds max_position_embeddings={self.config.max_position_embeddings}')

  def init_cache(self, batch_size: int, context_length: int, text_length: int,
                 dtype=None) -> KVCache:
    """An empty cache for a prefix of `context_length` embeddings and `text_length` tokens."""
    cfg = self.config
    self.check_length(context_length + text_length)
    return KVCache.create(num_layers=cfg.num_layers, batch_size=batch_size,
                          max_length=context_length + text_length, num_heads=cfg.num_heads,
                          head_dim=cfg.hidden_size // cfg.num_heads, dtype=dtype or cfg.dtype)

  def prefill(self, input_ids: jax.Array, cache: KVCache, *, context: jax.Array | None = None,
              attention_mask: jax.Array | None = None) -> tuple[jax.Array, KVCache]:
    """Feeds the prefix `context` [B, P, hidden] (if any) and the prompt [B, T]
    (`attention_mask` 0 on left padding): (logits [B, T, vocab], cache)."""
    return self(input_ids, prefix_embeds=context, attention_mask=attention_mask, cache=cache,
                text_logits_only=True)

  def decode_step(self, input_ids: jax.Array, cache: KVCache) -> tuple[jax.Array, KVCache]:
    """Appends [B, T] tokens (T = 1 when decoding): (logits [B, T, vocab], cache)."""
    return self(input_ids, cache=cache)

  def __call__(self, input_ids: jax.Array, *, prefix_embeds: jax.Array | None = None,
               attention_mask: jax.Array | None = None, cache: KVCache | None = None,
               deterministic: bool = True, rngs: nnx.Rngs | None = None,
               text_logits_only: bool = False) -> tuple[jax.Array, KVCache | None]:
    """Runs the model on new tokens, optionally after a prefix and/or a cache.

    Args:
      input_ids: [B, T] token ids.
      prefix_embeds: [B, P, hidden] embeddings before the tokens (always real).
      attention_mask: [B, T], 0 on padding tokens; None = all real.
      cache: a `KVCache` to append to; None = a plain forward pass.
      deterministic: disables dropout when True.
      rngs: dropout keys.
      text_logits_only: skip the LM head on the prefix positions.

    Returns:
      (logits float32 [B, P + T, vocab], or [B, T, vocab] with `text_logits_only`;
      the cache or None).
    """
    x = self.embed_tokens(input_ids)
    valid = (jnp.ones(input_ids.shape, bool) if attention_mask is None
             else attention_mask.astype(bool))
    if prefix_embeds is not None:
      x = jnp.concatenate([prefix_embeds.astype(x.dtype), x], axis=1)
      valid = jnp.concatenate([jnp.ones(prefix_embeds.shape[:2], bool), valid], axis=1)
    if cache is None:
      self.check_length(x.shape[1])
    # A slot's position is the number of real slots before it; padding reads row 1.
    seen = 0 if cache is None else jnp.sum(cache.valid, axis=1, keepdims=True)
    positions = jnp.where(valid, seen + jnp.cumsum(valid, axis=1) - 1, -1) + POSITION_OFFSET
    x = x + self.embed_positions(positions)  # no dropout here in OPT

    mask, new_valid = attention_mask_for(valid, cache)
    x, cache = run_layers(self.layers, x, mask, cache, new_valid, deterministic, rngs,
                          remat=self.config.remat)
    if text_logits_only:
      x = x[:, x.shape[1] - input_ids.shape[1]:]
    x = self.final_layer_norm(x)
    logits = (wide_accumulation.attend(self.embed_tokens, x) if self.lm_head is None
              else self.lm_head(x))
    return logits.astype(jnp.float32), cache
