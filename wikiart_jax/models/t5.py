"""T5 / Flan-T5 encoder-decoder (Flax NNX), as transformers' `T5ForConditionalGeneration`.

RMS LayerNorm (scale only, statistics in float32), relative position buckets
shared from the first block of each stack (bidirectional in the encoder, causal
in the decoder), unscaled dot-product attention, a gated-GELU (Flan-T5) or ReLU
feed-forward, an LM head (untied in Flan-T5; T5 1.0 also scales the decoder
output by d_model**-0.5). The encoder may be fed a prefix of embeddings before the tokens
(BLIP-2's projected query outputs).

Generation runs the encoder once: `prefill` encodes the prompt, computes every
decoder layer's cross-attention keys and values once into a `T5Cache`, and feeds
the decoder start token; `decode_step` appends to the decoder's own static
`KVCache` (models/kv_cache.py), the interface inference/generate.py calls.

Parameter paths and their checkpoint keys (`E.` = `encoder.block.{i}.layer.`,
`D.` = `decoder.block.{i}.layer.`):

  shared                                      <- shared
  encoder/blocks/{i}/self_attention/{q,k,v,o} <- E.0.SelfAttention.{q,k,v,o}
  .../self_attention/relative_attention_bias  <- (block 0) ....relative_attention_bias
  encoder/blocks/{i}/self_norm, mlp_norm      <- E.0.layer_norm, E.1.layer_norm
  encoder/blocks/{i}/mlp/{wi_0,wi_1,wo} | {wi,wo} <- E.1.DenseReluDense....
  decoder/blocks/{i}/cross_attention, cross_norm  <- D.1.EncDecAttention, D.1.layer_norm
  decoder/blocks/{i}/mlp, mlp_norm            <- D.2.DenseReluDense, D.2.layer_norm
  {encoder,decoder}/final_layer_norm          <- {encoder,decoder}.final_layer_norm
  lm_head                                     <- lm_head (untied only)
"""

from __future__ import annotations

import dataclasses
import functools
import math

import flax.struct
from flax import nnx
import jax
import jax.numpy as jnp

from wikiart_jax.models import remat as remat_lib
from wikiart_jax.models import wide_accumulation
from wikiart_jax.models.activations import activation
from wikiart_jax.models.kv_cache import KVCache, attention_mask_for, cached_attention


@dataclasses.dataclass(frozen=True)
class T5Config:
  """T5 sizes (defaults: Flan-T5-XL's)."""
  vocab_size: int = 32128
  d_model: int = 2048
  d_kv: int = 64
  d_ff: int = 5120
  num_layers: int = 24
  num_decoder_layers: int = 24
  num_heads: int = 32
  relative_attention_num_buckets: int = 32
  relative_attention_max_distance: int = 128
  feed_forward: str = 'gated-gelu'  # transformers' feed_forward_proj: gated-<act> | <act>
  layer_norm_eps: float = 1e-6
  tie_word_embeddings: bool = False  # the LM head is `shared` (no lm_head of its own)
  scale_decoder_outputs: bool = False  # decoder output x d_model**-0.5 before the head (T5 1.0)
  decoder_start_token_id: int = 0
  dropout: float = 0.0
  dtype: str = 'float32'  # compute dtype
  param_dtype: str = 'float32'  # storage (bfloat16 for a frozen LM)
  remat: str = 'none'  # none | full | dots (models/remat.py), in a training pass

  @property
  def gated(self) -> bool:
    return self.feed_forward.startswith('gated-')

  @property
  def activation(self) -> str:
    act = self.feed_forward.split('-')[-1]
    return 'gelu_new' if act == 'gelu' and self.gated else act  # transformers' rule


@flax.struct.dataclass
class T5Cache:
  """What decoding carries: the decoder's self-attention cache, and the encoder's
  cross-attention keys/values of every decoder layer (computed once) with its mask."""
  self_attention: KVCache
  cross_keys: tuple[jax.Array, ...]
  cross_values: tuple[jax.Array, ...]
  encoder_valid: jax.Array  # [B, S] bool


def relative_position_bucket(relative: jax.Array, *, bidirectional: bool, num_buckets: int,
                             max_distance: int) -> jax.Array:
  """T5's bucket of each (key - query) distance: exact below num_buckets/4 (or /2
  causal), then logarithmic up to `max_distance`."""
  bucket = jnp.zeros_like(relative)
  if bidirectional:
    num_buckets //= 2
    bucket = (relative > 0).astype(relative.dtype) * num_buckets
    distance = jnp.abs(relative)
  else:
    distance = -jnp.minimum(relative, 0)
  max_exact = num_buckets // 2
  log_ratio = jnp.log(jnp.maximum(distance, 1).astype(jnp.float32) / max_exact)
  large = max_exact + (log_ratio / math.log(max_distance / max_exact)
                       * (num_buckets - max_exact)).astype(relative.dtype)
  large = jnp.minimum(large, num_buckets - 1)
  return bucket + jnp.where(distance < max_exact, distance, large)


class T5Attention(nnx.Module):
  """Unscaled multi-head attention without biases; the first block of a stack
  also holds the relative position bias table."""

  def __init__(self, cfg: T5Config, *, relative_bias: bool, rngs: nnx.Rngs):
    inner = cfg.num_heads * cfg.d_kv
    linear = functools.partial(nnx.Linear, use_bias=False, dtype=cfg.dtype,
                               param_dtype=cfg.param_dtype,
                               dot_general=wide_accumulation.dot_general, rngs=rngs)
    self.num_heads, self.d_kv = cfg.num_heads, cfg.d_kv
    self.q, self.k, self.v = linear(cfg.d_model, inner), linear(cfg.d_model, inner), \
        linear(cfg.d_model, inner)
    self.o = linear(inner, cfg.d_model)
    self.relative_attention_bias = (
        nnx.Embed(cfg.relative_attention_num_buckets, cfg.num_heads, dtype=cfg.dtype,
                  param_dtype=cfg.param_dtype, rngs=rngs) if relative_bias else None)

  def heads(self, x):
    return x.reshape(x.shape[:2] + (self.num_heads, self.d_kv))

  def position_bias(self, cfg: T5Config, query_slots, key_slots, bidirectional: bool):
    """[1, heads, T, S] bias of query slots [T] attending to key slots [S]."""
    bucket = relative_position_bucket(
        key_slots[None, :] - query_slots[:, None], bidirectional=bidirectional,
        num_buckets=cfg.relative_attention_num_buckets,
        max_distance=cfg.relative_attention_max_distance)
    return self.relative_attention_bias(bucket).transpose(2, 0, 1)[None]

  def __call__(self, x, k, v, *, bias, mask, head_major=False):
    """x [B, T, D]; k, v [B, S, heads, d_kv] (a cache's: [B, heads, S, d_kv], head_major);
    bias [1|B, heads, T, S]; mask [B, 1, T, S]."""
    q = self.heads(self.q(x))
    k, v = k.astype(q.dtype), v.astype(q.dtype)
    bias = None if bias is None else bias.astype(q.dtype)
    if head_major:  # the decoder's self-attention cache, read in its own layout
      out = cached_attention(q, k, v, mask, bias=bias, scale=1.0)
    else:
      out = jax.nn.dot_product_attention(q, k, v, bias=bias, mask=mask, scale=1.0)
    return self.o(out.reshape(x.shape[:2] + (-1,)))


class T5FeedForward(nnx.Module):
  """wo(act(wi_0 x) * wi_1 x) when gated, else wo(act(wi x))."""

  def __init__(self, cfg: T5Config, *, rngs: nnx.Rngs):
    linear = functools.partial(nnx.Linear, use_bias=False, dtype=cfg.dtype,
                               param_dtype=cfg.param_dtype,
                               dot_general=wide_accumulation.dot_general, rngs=rngs)
    if cfg.gated:
      self.wi_0, self.wi_1, self.wi = linear(cfg.d_model, cfg.d_ff), \
          linear(cfg.d_model, cfg.d_ff), None
    else:
      self.wi_0 = self.wi_1 = None
      self.wi = linear(cfg.d_model, cfg.d_ff)
    self.wo = linear(cfg.d_ff, cfg.d_model)
    self.act = activation(cfg.activation)
    self.drop = nnx.Dropout(cfg.dropout)

  def __call__(self, x, deterministic, rngs):
    h = self.act(self.wi_0(x)) * self.wi_1(x) if self.wi is None else self.act(self.wi(x))
    return self.wo(self.drop(h, deterministic=deterministic, rngs=rngs))


class T5Block(nnx.Module):
  """Pre-norm residual sub-layers: self-attention, (decoder) cross-attention, feed-forward."""

  def __init__(self, cfg: T5Config, *, decoder: bool, relative_bias: bool, rngs: nnx.Rngs):
    norm = functools.partial(nnx.RMSNorm, cfg.d_model, epsilon=cfg.layer_norm_eps,
                             dtype=cfg.dtype, param_dtype=cfg.param_dtype, rngs=rngs)
    self.self_norm = norm()
    self.self_attention = T5Attention(cfg, relative_bias=relative_bias, rngs=rngs)
    self.cross_norm = norm() if decoder else None
    self.cross_attention = T5Attention(cfg, relative_bias=False, rngs=rngs) if decoder else None
    self.mlp_norm = norm()
    self.mlp = T5FeedForward(cfg, rngs=rngs)
    self.drop = nnx.Dropout(cfg.dropout)

  def __call__(self, x, *, bias, mask, layer_cache=None, index=0, cross=None,
               deterministic=True, rngs=None):
    """One block; `layer_cache` (keys, values) is appended to at `index`; `cross`
    is (keys, values, mask) of the encoder. Returns (x, layer_cache)."""
    drop = functools.partial(self.drop, deterministic=deterministic, rngs=rngs)
    attn = self.self_attention
    h = self.self_norm(x)
    k, v = attn.heads(attn.k(h)), attn.heads(attn.v(h))
    if layer_cache is not None:  # head-major, as models/kv_cache.py keeps it
      at = (0, 0, index, 0)
      head_major = lambda a, like: jnp.swapaxes(a, 1, 2).astype(like.dtype)
      k = jax.lax.dynamic_update_slice(layer_cache[0], head_major(k, layer_cache[0]), at)
      v = jax.lax.dynamic_update_slice(layer_cache[1], head_major(v, layer_cache[1]), at)
      layer_cache = (k, v)
    x = x + drop(attn(h, k, v, bias=bias, mask=mask, head_major=layer_cache is not None))
    if self.cross_attention is not None:
      cross_k, cross_v, cross_mask = cross
      x = x + drop(self.cross_attention(self.cross_norm(x), cross_k, cross_v, bias=None,
                                        mask=cross_mask))
    x = x + drop(self.mlp(self.mlp_norm(x), deterministic, rngs))
    return x, layer_cache


class T5Stack(nnx.Module):
  """The encoder's or the decoder's blocks and final RMS norm."""

  def __init__(self, cfg: T5Config, *, decoder: bool, rngs: nnx.Rngs):
    count = cfg.num_decoder_layers if decoder else cfg.num_layers
    self.config = cfg
    self.decoder = decoder
    self.blocks = nnx.List([T5Block(cfg, decoder=decoder, relative_bias=i == 0, rngs=rngs)
                            for i in range(count)])
    self.final_layer_norm = nnx.RMSNorm(cfg.d_model, epsilon=cfg.layer_norm_eps,
                                        dtype=cfg.dtype, param_dtype=cfg.param_dtype, rngs=rngs)
    self.drop = nnx.Dropout(cfg.dropout)

  def __call__(self, x, valid, *, cache: KVCache | None = None, cross=None,
               deterministic=True, rngs=None):
    """x [B, T, D] embeddings of T new slots, valid [B, T]; returns (hidden, cache)."""
    drop = functools.partial(self.drop, deterministic=deterministic, rngs=rngs)
    start = 0 if cache is None else cache.index
    if self.decoder:
      mask, new_valid = attention_mask_for(valid, cache)
    else:  # bidirectional: every real token sees every real token
      mask, new_valid = valid[:, None, None, :], None
    key_slots = jnp.arange(mask.shape[-1])
    bias = self.blocks[0].self_attention.position_bias(
        self.config, start + jnp.arange(x.shape[1]), key_slots, bidirectional=not self.decoder)
    x = drop(x)
    if cache is None and self.config.remat != 'none':
      run = nnx.remat(lambda block, x, bias, mask, cross, rngs: block(
          x, bias=bias, mask=mask, cross=cross, deterministic=deterministic, rngs=rngs)[0],
                      policy=remat_lib.POLICIES[self.config.remat])
      for i, block in enumerate(self.blocks):
        layer_cross = None if cross is None else (cross[0][i], cross[1][i], cross[2])
        x = run(block, x, bias, mask, layer_cross, rngs)
      return drop(self.final_layer_norm(x)), None
    keys, values = [], []
    for i, block in enumerate(self.blocks):
      layer_cache = None if cache is None else (cache.keys[i], cache.values[i])
      x, layer_cache = block(x, bias=bias, mask=mask, layer_cache=layer_cache, index=start,
                             cross=None if cross is None else (cross[0][i], cross[1][i],
                                                               cross[2]),
                             deterministic=deterministic, rngs=rngs)
      if layer_cache is not None:
        keys.append(layer_cache[0])
        values.append(layer_cache[1])
    if cache is not None:
      cache = cache.replace(keys=tuple(keys), values=tuple(values), valid=new_valid,
                            index=cache.index + x.shape[1])
    return drop(self.final_layer_norm(x)), cache


class T5ForConditionalGeneration(nnx.Module):
  """Shared embedding, encoder, decoder and LM head."""

  def __init__(self, cfg: T5Config, *, rngs: nnx.Rngs):
    self.config = cfg
    self.shared = nnx.Embed(cfg.vocab_size, cfg.d_model, dtype=cfg.dtype,
                            param_dtype=cfg.param_dtype, rngs=rngs)
    self.encoder = T5Stack(cfg, decoder=False, rngs=rngs)
    self.decoder = T5Stack(cfg, decoder=True, rngs=rngs)
    self.lm_head = (None if cfg.tie_word_embeddings else
                    nnx.Linear(cfg.d_model, cfg.vocab_size, use_bias=False, dtype=cfg.dtype,
                               param_dtype=cfg.param_dtype,
                               dot_general=wide_accumulation.dot_general, rngs=rngs))

  def embed(self, input_ids: jax.Array) -> jax.Array:
    return self.shared(input_ids)

  def encode(self, input_ids, *, prefix_embeds=None, attention_mask=None, deterministic=True,
             rngs=None) -> tuple[jax.Array, jax.Array]:
    """[prefix; tokens] through the encoder: (hidden [B, P + T, D], valid [B, P + T])."""
    x = self.shared(input_ids)
    valid = (jnp.ones(input_ids.shape, bool) if attention_mask is None
             else attention_mask.astype(bool))
    if prefix_embeds is not None:
      x = jnp.concatenate([prefix_embeds.astype(x.dtype), x], axis=1)
      valid = jnp.concatenate([jnp.ones(prefix_embeds.shape[:2], bool), valid], axis=1)
    hidden, _ = self.encoder(x, valid, deterministic=deterministic, rngs=rngs)
    return hidden, valid

  def cross_keys_values(self, encoded) -> tuple[tuple, tuple]:
    """Every decoder layer's cross-attention keys and values of the encoder output."""
    keys, values = [], []
    for block in self.decoder.blocks:
      attn = block.cross_attention
      keys.append(attn.heads(attn.k(encoded)))
      values.append(attn.heads(attn.v(encoded)))
    return tuple(keys), tuple(values)

  def decode(self, decoder_input_ids, cross: tuple, *, decoder_attention_mask=None,
             cache: KVCache | None = None, deterministic=True, rngs=None):
    """Decoder logits [B, T, vocab] float32 of new tokens; `cross` = (keys, values, valid)."""
    valid = (jnp.ones(decoder_input_ids.shape, bool) if decoder_attention_mask is None
             else decoder_attention_mask.astype(bool))
    keys, values, encoder_valid = cross
    x, cache = self.decoder(self.shared(decoder_input_ids), valid, cache=cache,
                            cross=(keys, values, encoder_valid[:, None, None, :]),
                            deterministic=deterministic, rngs=rngs)
    if self.config.scale_decoder_outputs:
      x = x * self.config.d_model ** -0.5
    logits = (wide_accumulation.attend(self.shared, x) if self.lm_head is None
              else self.lm_head(x))
    return logits.astype(jnp.float32), cache

  def __call__(self, input_ids, decoder_input_ids=None, *, prefix_embeds=None,
               attention_mask=None, decoder_attention_mask=None, cache: T5Cache | None = None,
               deterministic=True, rngs=None) -> tuple[jax.Array, T5Cache | None]:
    """Every use goes through here (a quantizer or LoRA intercepting the call sees all):

      no cache:              teacher forcing, the encoder on [prefix; input_ids], the
                             decoder on `decoder_input_ids`;
      a cache and input_ids: prefill, the encoder run once and the decoder start token fed;
      a cache, no input_ids: a decoding step on `decoder_input_ids`.

    Returns:
      (decoder logits [B, T_dec, vocab] float32, the cache or None).
    """
    if cache is not None and input_ids is None:
      logits, self_cache = self.decode(
          decoder_input_ids, (cache.cross_keys, cache.cross_values, cache.encoder_valid),
          cache=cache.self_attention)
      return logits, cache.replace(self_attention=self_cache)
    encoded, valid = self.encode(input_ids, prefix_embeds=prefix_embeds,
                                 attention_mask=attention_mask, deterministic=deterministic,
                                 rngs=rngs)
    keys, values = self.cross_keys_values(encoded)
    if cache is None:
      logits, _ = self.decode(decoder_input_ids, (keys, values, valid),
                              decoder_attention_mask=decoder_attention_mask,
                              deterministic=deterministic, rngs=rngs)
      return logits, None
    cache = T5Cache(self_attention=cache.self_attention, cross_keys=keys, cross_values=values,
                    encoder_valid=valid)
    start = jnp.full((input_ids.shape[0], 1), self.config.decoder_start_token_id, jnp.int32)
    return self(None, start, cache=cache)

  def init_cache(self, batch_size: int, context_length: int, text_length: int,
                 dtype=None) -> T5Cache:
    """The decoder's cache (start token and up to `text_length` - 1 generated tokens);
    the encoder's keys/values are filled by `prefill`."""
    del context_length  # the encoder's length is known when prefill encodes
    cfg = self.config
    self_cache = KVCache.create(num_layers=cfg.num_decoder_layers, batch_size=batch_size,
                                max_length=text_length, num_heads=cfg.num_heads,
                                head_dim=cfg.d_kv, dtype=dtype or cfg.dtype)
    return T5Cache(self_attention=self_cache, cross_keys=(), cross_values=(),
                   encoder_valid=jnp.zeros((batch_size, 0), bool))

  def prefill(self, input_ids: jax.Array, cache: T5Cache, *, context: jax.Array | None = None,
              attention_mask: jax.Array | None = None) -> tuple[jax.Array, T5Cache]:
    """Encodes [context; prompt] once and feeds the decoder start token:
    (logits [B, 1, vocab], cache)."""
    return self(input_ids, cache=cache, prefix_embeds=context, attention_mask=attention_mask)

  def decode_step(self, input_ids: jax.Array, cache: T5Cache) -> tuple[jax.Array, T5Cache]:
    """Appends [B, T] decoder tokens: (logits [B, T, vocab], cache)."""
    return self(None, input_ids, cache=cache)
