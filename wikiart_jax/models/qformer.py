"""BLIP-2's Querying Transformer (Flax NNX), as transformers' `Blip2QFormerModel`.

Learned query tokens (held by the BLIP-2 model, models/blip2.py) pass a
LayerNorm, then BERT-style post-LayerNorm layers: self-attention among the
queries, cross-attention to the image tokens in every `cross_attention_frequency`-th
layer (layer 0 included), and the query branch's own feed-forward
(`intermediate_query` / `output_query`). The text branch's feed-forward that some
checkpoints carry is not built: captioning never feeds text to the Q-Former.

Parameter paths and their checkpoint keys (`L.` = `qformer.encoder.layer.{i}.`):

  layernorm                              <- qformer.layernorm
  layers/{i}/attention/{query,key,value} <- L.attention.attention.{query,key,value}
  layers/{i}/attention/dense, norm       <- L.attention.output.dense, .LayerNorm
  layers/{i}/crossattention/...          <- L.crossattention... (key/value from the image width)
  layers/{i}/intermediate                <- L.intermediate_query.dense
  layers/{i}/output, output_norm         <- L.output_query.dense, .LayerNorm

Attention-probability dropout is not implemented (it would need the weights
materialised); hidden dropout is, where BERT applies it.
"""

from __future__ import annotations

import dataclasses
import functools

from flax import nnx
import jax
import jax.numpy as jnp

from wikiart_jax.models.activations import activation


@dataclasses.dataclass(frozen=True)
class QFormerConfig:
  """Q-Former sizes (defaults: the released BLIP-2 checkpoints')."""
  hidden_size: int = 768
  num_layers: int = 12
  num_heads: int = 12
  mlp_dim: int = 3072
  activation: str = 'gelu'
  layer_norm_eps: float = 1e-12
  cross_attention_frequency: int = 2
  encoder_hidden_size: int = 1408  # the image tokens' width
  dropout: float = 0.0
  dtype: str = 'float32'

  def __post_init__(self):
    if self.cross_attention_frequency < 1:
      raise ValueError('Q-Former cross_attention_frequency must be >= 1, got '
                       f'{self.cross_attention_frequency}')
    if self.hidden_size % self.num_heads:
      raise ValueError(f'Q-Former hidden_size {self.hidden_size} is not divisible by '
                       f'num_heads {self.num_heads}')


def _norm(cfg: QFormerConfig, rngs: nnx.Rngs) -> nnx.LayerNorm:
  return nnx.LayerNorm(cfg.hidden_size, epsilon=cfg.layer_norm_eps, dtype=cfg.dtype,
                       use_fast_variance=False, rngs=rngs)


class QFormerAttention(nnx.Module):
  """Multi-head attention, then dense + dropout + residual LayerNorm (BERT's output)."""

  def __init__(self, cfg: QFormerConfig, key_width: int, *, rngs: nnx.Rngs):
    d = cfg.hidden_size
    linear = functools.partial(nnx.Linear, dtype=cfg.dtype, rngs=rngs)
    self.num_heads = cfg.num_heads
    self.query = linear(d, d)
    self.key = linear(key_width, d)
    self.value = linear(key_width, d)
    self.dense = linear(d, d)
    self.norm = _norm(cfg, rngs)
    self.drop = nnx.Dropout(cfg.dropout)

  def __call__(self, x, keys_from, deterministic, rngs):
    heads = lambda a: a.reshape(a.shape[:2] + (self.num_heads, -1))
    q, k, v = heads(self.query(x)), heads(self.key(keys_from)), heads(self.value(keys_from))
    out = jax.nn.dot_product_attention(q, k, v).reshape(x.shape)
    return self.norm(x + self.drop(self.dense(out), deterministic=deterministic, rngs=rngs))


class QFormerLayer(nnx.Module):
  """Self-attention, cross-attention (in some layers), the query feed-forward."""

  def __init__(self, cfg: QFormerConfig, index: int, *, rngs: nnx.Rngs):
    self.attention = QFormerAttention(cfg, cfg.hidden_size, rngs=rngs)
    self.crossattention = (QFormerAttention(cfg, cfg.encoder_hidden_size, rngs=rngs)
                           if index % cfg.cross_attention_frequency == 0 else None)
    self.intermediate = nnx.Linear(cfg.hidden_size, cfg.mlp_dim, dtype=cfg.dtype, rngs=rngs)
    self.output = nnx.Linear(cfg.mlp_dim, cfg.hidden_size, dtype=cfg.dtype, rngs=rngs)
    self.output_norm = _norm(cfg, rngs)
    self.act = activation(cfg.activation)
    self.drop = nnx.Dropout(cfg.dropout)

  def __call__(self, x, image_tokens, deterministic, rngs):
    x = self.attention(x, x, deterministic, rngs)
    if self.crossattention is not None:
      x = self.crossattention(x, image_tokens, deterministic, rngs)
    h = self.output(self.act(self.intermediate(x)))
    return self.output_norm(x + self.drop(h, deterministic=deterministic, rngs=rngs))


class QFormer(nnx.Module):
  """Query embeddings [B, Q, D] and image tokens [B, N, E] -> query outputs [B, Q, D]."""

  def __init__(self, cfg: QFormerConfig, *, rngs: nnx.Rngs):
    self.config = cfg
    self.layernorm = _norm(cfg, rngs)
    self.drop = nnx.Dropout(cfg.dropout)
    self.layers = nnx.List([QFormerLayer(cfg, i, rngs=rngs) for i in range(cfg.num_layers)])

  def __call__(self, queries: jax.Array, image_tokens: jax.Array, *,
               deterministic: bool = True, rngs: nnx.Rngs | None = None) -> jax.Array:
    """Runs the Q-Former.

    Args:
      queries: [B, Q, D] the learned query tokens (broadcast to the batch).
      image_tokens: [B, N, E] the image tower's last hidden state (every token real).
      deterministic: disables dropout when True.
      rngs: dropout keys.
    """
    dtype = self.config.dtype
    x = self.drop(self.layernorm(queries.astype(dtype)), deterministic=deterministic, rngs=rngs)
    image_tokens = image_tokens.astype(dtype)
    for layer in self.layers:
      x = layer(x, image_tokens, deterministic, rngs)
    return x
