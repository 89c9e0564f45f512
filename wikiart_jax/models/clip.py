"""CLIP (Flax NNX): a causal text transformer, our ViT as the image tower, projections.

The vision tower IS `models.vit.ViT` configured CLIP-style (pre-LayerNorm,
quick GELU, no patch bias, post-LayerNorm on the CLS token only), so a CLIP
checkpoint's image tower can also start a classifier. Text submodule names
follow Hugging Face's CLIPTextTransformer (embeddings.token_embedding,
layers.{i}.self_attn.q_proj, final_layer_norm, ...).
"""

from __future__ import annotations

import dataclasses
import functools

from flax import nnx
import jax
import jax.numpy as jnp

from wikiart_jax.models.activations import activation
from wikiart_jax.models.kv_cache import attend, attention_mask_for
from wikiart_jax.models.vit import ViT, ViTConfig


@dataclasses.dataclass(frozen=True)
class CLIPTextConfig:
  """Sizes of the text tower (defaults: ViT-B/32's)."""
  vocab_size: int = 49408
  max_position_embeddings: int = 77
  hidden_size: int = 512
  num_layers: int = 12
  num_heads: int = 8
  mlp_dim: int = 2048
  activation: str = 'quick_gelu'
  layer_norm_eps: float = 1e-5
  # 2 in checkpoints written before transformers#24773: pool at argmax(input_ids).
  eos_token_id: int = 2
  dtype: str = 'float32'


@dataclasses.dataclass(frozen=True)
class CLIPConfig:
  """A CLIP model: both towers and the shared embedding width."""
  text: CLIPTextConfig
  vision: ViTConfig
  projection_dim: int = 512
  logit_scale_init: float = 2.6592


def _norm(cfg: CLIPTextConfig, rngs):
  return nnx.LayerNorm(cfg.hidden_size, epsilon=cfg.layer_norm_eps, dtype=cfg.dtype,
                       use_fast_variance=False, rngs=rngs)


class CLIPTextEmbeddings(nnx.Module):
  """Token plus learned position embeddings."""

  def __init__(self, cfg: CLIPTextConfig, *, rngs: nnx.Rngs):
    self.token_embedding = nnx.Embed(cfg.vocab_size, cfg.hidden_size, dtype=cfg.dtype, rngs=rngs)
    self.position_embedding = nnx.Embed(cfg.max_position_embeddings, cfg.hidden_size,
                                        dtype=cfg.dtype, rngs=rngs)

  def __call__(self, input_ids):
    return self.token_embedding(input_ids) + self.position_embedding(
        jnp.arange(input_ids.shape[1])[None])


class CLIPAttention(nnx.Module):
  """Multi-head self-attention with separate q/k/v projections."""

  def __init__(self, cfg: CLIPTextConfig, *, rngs: nnx.Rngs):
    linear = functools.partial(nnx.Linear, cfg.hidden_size, cfg.hidden_size, dtype=cfg.dtype,
                               rngs=rngs)
    self.num_heads = cfg.num_heads
    self.q_proj, self.k_proj, self.v_proj, self.out_proj = linear(), linear(), linear(), linear()

  def __call__(self, x, mask):
    b, t, d = x.shape
    split = lambda a: a.reshape(b, t, self.num_heads, d // self.num_heads)
    out, _ = attend(split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x)), mask,
                    None, 0)
    return self.out_proj(out.reshape(b, t, d))


class CLIPMLP(nnx.Module):
  """fc1 -> activation -> fc2."""

  def __init__(self, cfg: CLIPTextConfig, *, rngs: nnx.Rngs):
    self.fc1 = nnx.Linear(cfg.hidden_size, cfg.mlp_dim, dtype=cfg.dtype, rngs=rngs)
    self.fc2 = nnx.Linear(cfg.mlp_dim, cfg.hidden_size, dtype=cfg.dtype, rngs=rngs)
    self.act = activation(cfg.activation)

  def __call__(self, x):
    return self.fc2(self.act(self.fc1(x)))


class CLIPEncoderLayer(nnx.Module):
  """Pre-LayerNorm transformer block."""

  def __init__(self, cfg: CLIPTextConfig, *, rngs: nnx.Rngs):
    self.layer_norm1 = _norm(cfg, rngs)
    self.self_attn = CLIPAttention(cfg, rngs=rngs)
    self.layer_norm2 = _norm(cfg, rngs)
    self.mlp = CLIPMLP(cfg, rngs=rngs)

  def __call__(self, x, mask):
    x = x + self.self_attn(self.layer_norm1(x), mask)
    return x + self.mlp(self.layer_norm2(x))


class CLIPTextModel(nnx.Module):
  """The text tower: token ids -> (pooled at the end-of-text token, all tokens)."""

  def __init__(self, cfg: CLIPTextConfig, *, rngs: nnx.Rngs):
    self.config = cfg
    self.embeddings = CLIPTextEmbeddings(cfg, rngs=rngs)
    self.layers = nnx.List([CLIPEncoderLayer(cfg, rngs=rngs) for _ in range(cfg.num_layers)])
    self.final_layer_norm = _norm(cfg, rngs)

  def __call__(self, input_ids: jax.Array, attention_mask: jax.Array | None = None):
    """Returns (pooled [B, D], tokens [B, T, D]); padding keys are masked."""
    if input_ids.shape[1] > self.config.max_position_embeddings:
      raise ValueError(f'{input_ids.shape[1]} text tokens exceed '
                       f'max_position_embeddings={self.config.max_position_embeddings}')
    valid = (jnp.ones(input_ids.shape, bool) if attention_mask is None
             else attention_mask.astype(bool))
    mask, _ = attention_mask_for(valid, None)
    x = self.embeddings(input_ids)
    for layer in self.layers:
      x = layer(x, mask)
    x = self.final_layer_norm(x)
    if self.config.eos_token_id == 2:
      eos = jnp.argmax(input_ids, axis=-1)  # the EOT token has the largest id
    else:
      eos = jnp.argmax(input_ids == self.config.eos_token_id, axis=-1)
    return x[jnp.arange(x.shape[0]), eos], x


class CLIP(nnx.Module):
  """Both towers with their projections into the joint embedding space."""

  def __init__(self, cfg: CLIPConfig, *, rngs: nnx.Rngs):
    self.config = cfg
    self.text_model = CLIPTextModel(cfg.text, rngs=rngs)
    self.vision_model = ViT(cfg.vision, rngs=rngs)
    self.text_projection = nnx.Linear(cfg.text.hidden_size, cfg.projection_dim, use_bias=False,
                                      dtype=cfg.text.dtype, rngs=rngs)
    self.visual_projection = nnx.Linear(cfg.vision.hidden_size, cfg.projection_dim,
                                        use_bias=False, dtype=cfg.vision.dtype, rngs=rngs)
    self.logit_scale = nnx.Param(jnp.asarray(cfg.logit_scale_init, jnp.float32))

  def get_text_features(self, input_ids, attention_mask=None) -> jax.Array:
    """Projected (not normalised) text embeddings [B, projection_dim], float32."""
    pooled, _ = self.text_model(input_ids, attention_mask)
    return self.text_projection(pooled).astype(jnp.float32)

  def get_image_features(self, images) -> jax.Array:
    """Projected (not normalised) image embeddings [B, projection_dim], float32."""
    return self.visual_projection(self.vision_model(images).pooled).astype(jnp.float32)

  def __call__(self, images, input_ids, attention_mask=None) -> jax.Array:
    """Returns logits_per_image [B_img, B_txt]: scaled cosine similarities."""
    img = self.get_image_features(images)
    txt = self.get_text_features(input_ids, attention_mask)
    img = img / jnp.linalg.norm(img, axis=-1, keepdims=True)
    txt = txt / jnp.linalg.norm(txt, axis=-1, keepdims=True)
    return jnp.exp(self.logit_scale[...]) * img @ txt.T
