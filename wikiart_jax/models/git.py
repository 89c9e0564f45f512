"""GIT (Generative Image-to-text Transformer, Flax NNX), as transformers' GitForCausalLM.

Image -> our ViT (CLIP-style, LayerNorm on every token) -> visual projection
(Linear + LayerNorm) -> image tokens; a BERT-style post-LayerNorm decoder runs
over [image tokens; text tokens]: image tokens see each other fully, text tokens
see every image token and the text before them. Text positions start at 0 after
the image. Decoding uses the same static `KVCache` as GPT-2; the image tokens
occupy the first cache slots (`cache.num_prefix`).
"""

from __future__ import annotations

import dataclasses
import functools

from flax import nnx
import jax
import jax.numpy as jnp

from wikiart_jax.models.activations import activation
from wikiart_jax.models.kv_cache import (KVCache, attend, attention_mask_for, refuse_padding,
                                        run_layers)
from wikiart_jax.models.vit import ViT, ViTConfig


@dataclasses.dataclass(frozen=True)
class GitConfig:
  """GIT sizes (defaults: git-base's text decoder); `vision` is the image tower."""
  vision: ViTConfig
  vocab_size: int = 30522
  hidden_size: int = 768
  num_layers: int = 6
  num_heads: int = 12
  mlp_dim: int = 3072
  activation: str = 'gelu'
  layer_norm_eps: float = 1e-12
  max_position_embeddings: int = 1024
  dropout: float = 0.0
  dtype: str = 'float32'


def _norm(features: int, eps: float, dtype: str, rngs: nnx.Rngs) -> nnx.LayerNorm:
  return nnx.LayerNorm(features, epsilon=eps, dtype=dtype, use_fast_variance=False, rngs=rngs)


class GitEmbeddings(nnx.Module):
  """Word plus position embeddings, then LayerNorm (text tokens only)."""

  def __init__(self, cfg: GitConfig, *, rngs: nnx.Rngs):
    self.word_embeddings = nnx.Embed(cfg.vocab_size, cfg.hidden_size, dtype=cfg.dtype, rngs=rngs)
    self.position_embeddings = nnx.Embed(cfg.max_position_embeddings, cfg.hidden_size,
                                         dtype=cfg.dtype, rngs=rngs)
    self.layer_norm = _norm(cfg.hidden_size, cfg.layer_norm_eps, cfg.dtype, rngs)

  def __call__(self, input_ids, positions):
    return self.layer_norm(self.word_embeddings(input_ids) + self.position_embeddings(positions))


class GitVisualProjection(nnx.Module):
  """Vision width -> text width, then LayerNorm (with the vision tower's epsilon)."""

  def __init__(self, cfg: GitConfig, *, rngs: nnx.Rngs):
    self.dense = nnx.Linear(cfg.vision.hidden_size, cfg.hidden_size, dtype=cfg.dtype, rngs=rngs)
    self.layer_norm = _norm(cfg.hidden_size, cfg.vision.layer_norm_eps, cfg.dtype, rngs)

  def __call__(self, x):
    return self.layer_norm(self.dense(x))


class GitLayer(nnx.Module):
  """Post-LayerNorm BERT layer: x = LN(x + attn(x)); x = LN(x + mlp(x))."""

  def __init__(self, cfg: GitConfig, *, rngs: nnx.Rngs):
    d = cfg.hidden_size
    linear = functools.partial(nnx.Linear, dtype=cfg.dtype, rngs=rngs)
    self.num_heads = cfg.num_heads
    self.query, self.key, self.value = linear(d, d), linear(d, d), linear(d, d)
    self.attention_output = linear(d, d)
    self.attention_norm = _norm(d, cfg.layer_norm_eps, cfg.dtype, rngs)
    self.intermediate = linear(d, cfg.mlp_dim)
    self.output = linear(cfg.mlp_dim, d)
    self.output_norm = _norm(d, cfg.layer_norm_eps, cfg.dtype, rngs)
    self.act = activation(cfg.activation)
    self.drop = nnx.Dropout(cfg.dropout)

  def __call__(self, x, mask, layer_cache, index, deterministic, rngs):
    b, t, d = x.shape
    split = lambda a: a.reshape(b, t, self.num_heads, d // self.num_heads)
    h, layer_cache = attend(split(self.query(x)), split(self.key(x)), split(self.value(x)),
                            mask, layer_cache, index)
    h = self.drop(self.attention_output(h.reshape(b, t, d)), deterministic=deterministic,
                  rngs=rngs)
    x = self.attention_norm(x + h)
    h = self.drop(self.output(self.act(self.intermediate(x))), deterministic=deterministic,
                  rngs=rngs)
    return self.output_norm(x + h), layer_cache


class GitForCausalLM(nnx.Module):
  """Image encoder, visual projection, text decoder and LM head (`output`, with bias)."""

  def __init__(self, cfg: GitConfig, *, rngs: nnx.Rngs):
    if cfg.vision.final_norm != 'all':
      raise ValueError("GIT's image tower normalises every token: vision.final_norm='all'")
    self.config = cfg
    self.image_encoder = ViT(cfg.vision, rngs=rngs)
    self._init_decoder(cfg, rngs)

  def _init_decoder(self, cfg: GitConfig, rngs: nnx.Rngs) -> None:
    """Builds everything after the image tower (all that `GitDecoder` has)."""
    self.visual_projection = GitVisualProjection(cfg, rngs=rngs)
    self.embeddings = GitEmbeddings(cfg, rngs=rngs)
    self.drop = nnx.Dropout(cfg.dropout)
    self.layers = nnx.List([GitLayer(cfg, rngs=rngs) for _ in range(cfg.num_layers)])
    self.output = nnx.Linear(cfg.hidden_size, cfg.vocab_size, dtype=cfg.dtype, rngs=rngs)

  def encode_images(self, images: jax.Array) -> jax.Array:
    """Images [B, S, S, 3] -> projected image tokens [B, N, hidden] (the decoder's prefix)."""
    return self.visual_projection(self.image_encoder(images).tokens)

  def init_cache(self, batch_size: int, context_length: int, text_length: int,
                 dtype=None) -> KVCache:
    """An empty cache for `context_length` image tokens and `text_length` text tokens;
    only the text takes positions, which must fit in max_position_embeddings."""
    cfg = self.config
    if text_length > cfg.max_position_embeddings:
      raise ValueError(f'prompt + max_new_tokens = {text_length} exceeds the model\'s '
                       f'{cfg.max_position_embeddings} positions')
    return KVCache.create(num_layers=cfg.num_layers, batch_size=batch_size,
                          max_length=context_length + text_length, num_heads=cfg.num_heads,
                          head_dim=cfg.hidden_size // cfg.num_heads, dtype=dtype or cfg.dtype)

  def prefill(self, input_ids: jax.Array, cache: KVCache, *, context: jax.Array | None = None,
              attention_mask: jax.Array | None = None) -> tuple[jax.Array, KVCache]:
    """Feeds the image tokens `context` [B, N, hidden] (`encode_images`) and the prompt.

    Returns:
      (logits [B, 1, vocab] at the prompt's last position, all that decoding reads;
      the cache).
    """
    refuse_padding(attention_mask, 'GIT')
    if context is None:
      raise ValueError('GIT needs images or image_tokens (the projected image tokens)')
    return self(input_ids, prefix_embeds=context, cache=cache, last_logits_only=True)

  def decode_step(self, input_ids: jax.Array, cache: KVCache) -> tuple[jax.Array, KVCache]:
    """Appends [B, T] tokens (T = 1 when decoding): (logits [B, T, vocab], cache)."""
    return self(input_ids, cache=cache)

  def __call__(self, input_ids: jax.Array, *, images: jax.Array | None = None,
               prefix_embeds: jax.Array | None = None, attention_mask: jax.Array | None = None,
               cache: KVCache | None = None, positions: jax.Array | None = None,
               deterministic: bool = True, rngs: nnx.Rngs | None = None,
               text_logits_only: bool = False,
               last_logits_only: bool = False) -> tuple[jax.Array, KVCache | None]:
    """Runs the decoder on new text tokens, after the image on the first call.

    Args:
      input_ids: [B, T] token ids (T may be 0 to feed only the image).
      images: [B, S, S, 3] normalised pixels; encoded into the image prefix.
      prefix_embeds: [B, N, hidden] image tokens from `encode_images` (instead of
        `images`, e.g. to encode once and decode several captions).
      attention_mask: [B, T], 0 on padding text tokens; image tokens are always real.
      cache: a `KVCache` to append to, or None for a plain forward pass.
      positions: [B, T] text position ids; default: text tokens counted from 0.
      deterministic: disables dropout when True.
      rngs: dropout keys (read only when `deterministic` is False).
      text_logits_only: skip the LM head on the image tokens (nobody reads their
        logits when captioning; with a vocabulary-wide head that is most of its cost).
      last_logits_only: the LM head on the last position alone (a prompt's prefill).

    Returns:
      (logits [B, N + T, vocab] float32 over image then text tokens, [B, T, vocab]
      with `text_logits_only`, or [B, 1, vocab] with `last_logits_only`; the cache
      or None).
    """
    if input_ids.shape[1] > self.config.max_position_embeddings:
      # Out-of-range position ids would embed as NaN instead of failing.
      raise ValueError(f'Sequence of {input_ids.shape[1]} text tokens exceeds '
                       f'max_position_embeddings={self.config.max_position_embeddings}.')
    if images is not None:
      if prefix_embeds is not None:
        raise ValueError('pass images or prefix_embeds, not both')
      prefix_embeds = self.encode_images(images)
    text_start = 0 if cache is None else cache.index - cache.num_prefix
    if positions is None:
      positions = text_start + jnp.arange(input_ids.shape[1])[None]
    x = self.embeddings(input_ids, positions)
    valid = (jnp.ones(input_ids.shape, bool) if attention_mask is None
             else attention_mask.astype(bool))
    num_prefix = 0 if cache is None else cache.num_prefix
    if prefix_embeds is not None:
      x = jnp.concatenate([prefix_embeds.astype(x.dtype), x], axis=1)
      valid = jnp.concatenate([jnp.ones(prefix_embeds.shape[:2], bool), valid], axis=1)
      num_prefix = num_prefix + prefix_embeds.shape[1]
    x = self.drop(x, deterministic=deterministic, rngs=rngs)

    mask, new_valid = attention_mask_for(valid, cache, bidirectional=num_prefix)
    x, cache = run_layers(self.layers, x, mask, cache, new_valid, deterministic, rngs)
    if last_logits_only:
      x = x[:, -1:]
    elif text_logits_only:
      x = x[:, x.shape[1] - input_ids.shape[1]:]
    logits = self.output(x).astype(jnp.float32)
    if cache is not None:
      cache = cache.replace(num_prefix=jnp.asarray(num_prefix, jnp.int32))
    return logits, cache
