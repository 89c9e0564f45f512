"""Vision Transformer backbone (Flax NNX) laid out like Hugging Face ViT and CLIP vision.

One module covers both families through `ViTConfig` options: HF ViTModel (patch bias,
exact GELU, final LayerNorm on every token, optional tanh pooler, eps 1e-12) and
CLIPVisionModel (no patch bias, pre-LayerNorm, quick GELU, post-LayerNorm on the CLS
token only, eps 1e-5). Images are NHWC; parameters are float32, compute runs in
`config.dtype`, softmax and LayerNorm statistics in float32.

Parameter paths and their Hugging Face sources, as `ours <- HF ViTModel <- CLIPVisionModel`
(ViT: transformers v5 names, [hub files written before v5]; `L.` = ViT `layers.{i}.`
[`encoder.layer.{i}.`], CLIP `encoder.layers.{i}.`). A converter renames and transposes:
Linear weight [out,in] -> kernel [in,out]; Conv [O,I,kh,kw] -> kernel [kh,kw,I,O];
LayerNorm weight -> scale.

  embeddings/cls_token [1,1,D]  <- embeddings.cls_token  <- embeddings.class_embedding [D]
  embeddings/position_embeddings [1,N,D]  <- embeddings.position_embeddings
                                <- embeddings.position_embedding.weight [N,D]
  embeddings/patch_embeddings/{kernel,bias}  <- embeddings.patch_embeddings.projection
                                <- embeddings.patch_embedding (no bias: patch_bias=False)
  pre_layernorm                 <- (none)  <- pre_layrnorm
  layers/{i}/layernorm_before   <- L.layernorm_before  <- L.layer_norm1
  layers/{i}/attention/query    <- L.attention.q_proj [L.attention.attention.query]
                                <- L.self_attn.q_proj  (key, value: k_proj, v_proj likewise)
  layers/{i}/attention/output   <- L.attention.o_proj [L.attention.output.dense]
                                <- L.self_attn.out_proj
  layers/{i}/layernorm_after    <- L.layernorm_after  <- L.layer_norm2
  layers/{i}/mlp/fc1            <- L.mlp.fc1 [L.intermediate.dense]  <- L.mlp.fc1
  layers/{i}/mlp/fc2            <- L.mlp.fc2 [L.output.dense]  <- L.mlp.fc2
  layernorm                     <- layernorm  <- post_layernorm
  pooler/{kernel,bias}          <- pooler.dense  <- (none)

timm's ViTs (convert/timm.py) add two options: `layer_scale` (DINOv2's LayerScale,
layers/{i}/attention_scale and mlp_scale) and `registers` (register tokens after
CLS, embeddings/registers; with `position_on_class=False` the position table
covers the patches only, as timm's no_embed_class). Registers are dropped from
the output tokens.

Attention-probability dropout is not implemented (HF ViT and CLIP default it to 0);
`dropout` applies where HF applies `hidden_dropout_prob`: embeddings, attention output
and MLP output.
"""

import dataclasses
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
from flax import nnx

from wikiart_jax.models import activations
from wikiart_jax.models import attention as attention_lib
from wikiart_jax.models import fused_qkv
from wikiart_jax.models import remat as remat_lib

# variant -> (patch_size, hidden_size, num_layers, num_heads, mlp_dim).
_SIZES = {
    'Ti': (192, 12, 3, 768),
    'S': (384, 12, 6, 1536),
    'B': (768, 12, 12, 3072),
    'L': (1024, 24, 16, 4096),
    'H': (1280, 32, 16, 5120),
}
_TINY = (4, 64, 4, 4, 128)
# The activations of HF ViT and CLIP vision (names as in models/activations.py).
_ACTIVATIONS = ('gelu', 'gelu_tanh', 'quick_gelu')
_INIT = nnx.initializers.truncated_normal(stddev=0.02)  # HF ViT's initializer_range


def variant_sizes(variant: str) -> tuple[int, int, int, int, int]:
  """Returns (patch, hidden, layers, heads, mlp) for 'tiny' or '<Ti|S|B|L|H>/<patch>'."""
  if variant == 'tiny':
    return _TINY
  name, _, patch = variant.partition('/')
  if name not in _SIZES or not patch.isdigit():
    raise ValueError(
        f"unknown model.variant {variant!r}: use 'tiny' or <Ti|S|B|L|H>/<patch>, e.g. 'B/16'")
  return (int(patch),) + _SIZES[name]


@dataclasses.dataclass(frozen=True)
class ViTConfig:
  """Architecture and numerics of the backbone (see the module docstring)."""
  image_size: int = 224
  patch_size: int = 16
  hidden_size: int = 768
  num_layers: int = 12
  num_heads: int = 12
  mlp_dim: int = 3072
  dropout: float = 0.0
  layer_norm_eps: float = 1e-12
  activation: str = 'gelu'  # gelu | quick_gelu | gelu_tanh
  pre_layernorm: bool = False
  patch_bias: bool = True
  final_norm: str = 'all'  # all | cls
  pooler: str = 'none'  # none | tanh | norm (the final norm again on CLS, as BLIP-2's tower)
  qkv: str = 'separate'  # separate | fused (one qkv projection, as BLIP-2's EVA tower)
  dtype: str = 'float32'  # compute dtype
  param_dtype: str = 'float32'
  attention: str = 'auto'  # auto | xla | cudnn
  remat: str = 'none'  # none | full | dots: what each block keeps for the backward pass
  layer_scale: bool = False  # a learned per-channel scale on each residual branch (DINOv2)
  registers: int = 0  # register tokens after CLS (DINOv2 reg4); dropped from the output
  position_on_class: bool = True  # False: the position table covers the patches only

  def __post_init__(self):
    if self.activation not in _ACTIVATIONS:
      raise ValueError(f'model.activation must be one of {sorted(_ACTIVATIONS)}, '
                       f'got {self.activation!r}')
    if self.final_norm not in ('all', 'cls'):
      raise ValueError(f"model.final_norm must be 'all' or 'cls', got {self.final_norm!r}")
    if self.pooler not in ('none', 'tanh', 'norm'):
      raise ValueError(f"model.pooler must be 'none', 'tanh' or 'norm', got {self.pooler!r}")
    if self.qkv not in ('separate', 'fused'):
      raise ValueError(f"model.qkv must be 'separate' or 'fused', got {self.qkv!r}")
    if self.hidden_size % self.num_heads:
      raise ValueError(f'model.hidden_size {self.hidden_size} is not divisible by '
                       f'model.num_heads {self.num_heads}')
    if self.image_size % self.patch_size:
      raise ValueError(f'model.image_size {self.image_size} is not divisible by '
                       f'model.patch_size {self.patch_size}')
    if not 0.0 <= self.dropout < 1.0:
      raise ValueError(f'model.dropout must be in [0, 1), got {self.dropout}')
    if self.registers < 0:
      raise ValueError(f'model.registers must be >= 0, got {self.registers}')
    remat_lib.check(self.remat)
    for field in ('dtype', 'param_dtype'):
      try:
        jnp.dtype(getattr(self, field))
      except TypeError:
        raise ValueError(f'model.{field} is not a dtype: {getattr(self, field)!r}') from None

  @classmethod
  def from_variant(cls, variant: str, **overrides: Any) -> 'ViTConfig':
    """Config of a named variant; keyword arguments that are not None override it."""
    patch, hidden, layers, heads, mlp = variant_sizes(variant)
    fields = dict(patch_size=patch, hidden_size=hidden, num_layers=layers,
                  num_heads=heads, mlp_dim=mlp)
    fields.update({k: v for k, v in overrides.items() if v is not None})
    return cls(**fields)

  @classmethod
  def from_config(cls, model_config: Any) -> 'ViTConfig':
    """Builds the config from `config.model`; explicit size fields override the variant."""
    names = [f.name for f in dataclasses.fields(cls) if f.name != 'param_dtype']
    overrides = {n: model_config[n] for n in names if n in model_config}
    return cls.from_variant(model_config['variant'], **overrides)

  @property
  def num_patches(self) -> int:
    return (self.image_size // self.patch_size) ** 2

  @property
  def num_tokens(self) -> int:
    """The output tokens: the patches plus the CLS token."""
    return self.num_patches + 1

  @property
  def sequence_length(self) -> int:
    """The tokens inside the blocks: CLS, the registers, the patches."""
    return self.num_tokens + self.registers


@flax.struct.dataclass
class BackboneOutput:
  """What the backbone computes for a batch.

  Attributes:
    pooled: [B, D] the CLS token after the final norm (and pooler, if any).
    tokens: [B, N, D] every token, CLS first: LayerNormed with final_norm='all',
      raw (CLIP's last_hidden_state) with 'cls'.
    hidden_states: with `return_hidden_states`, HF's `hidden_states`: the tokens
      entering the first block (after pre_layernorm), then every block's output
      (L + 1 arrays, registers included); else None.
    attention: with `return_attention`, every block's attention probabilities
      [B, heads, S, S] float32 over the S = `sequence_length` tokens inside the
      blocks (computed on the XLA path); else None.
  """
  pooled: jax.Array
  tokens: jax.Array
  hidden_states: tuple[jax.Array, ...] | None = None
  attention: tuple[jax.Array, ...] | None = None


def _linear(cfg: ViTConfig, din: int, dout: int, rngs: nnx.Rngs) -> nnx.Linear:
  return nnx.Linear(din, dout, dtype=cfg.dtype, param_dtype=cfg.param_dtype,
                    kernel_init=_INIT, rngs=rngs)


def _layernorm(cfg: ViTConfig, rngs: nnx.Rngs) -> nnx.LayerNorm:
  # use_fast_variance=False: E[x^2]-E[x]^2 loses precision on the large residual stream.
  return nnx.LayerNorm(cfg.hidden_size, epsilon=cfg.layer_norm_eps, dtype=cfg.dtype,
                       param_dtype=cfg.param_dtype, use_fast_variance=False, rngs=rngs)


class Embeddings(nnx.Module):
  """Patch projection, CLS token and learned position embeddings."""

  def __init__(self, cfg: ViTConfig, *, rngs: nnx.Rngs):
    p, d = cfg.patch_size, cfg.hidden_size
    self.patch_embeddings = nnx.Conv(
        3, d, kernel_size=(p, p), strides=(p, p), padding='VALID',
        use_bias=cfg.patch_bias, dtype=cfg.dtype, param_dtype=cfg.param_dtype,
        kernel_init=_INIT, rngs=rngs)
    self.cls_token = nnx.Param(_INIT(rngs.params(), (1, 1, d), cfg.param_dtype))
    rows = cfg.num_tokens if cfg.position_on_class else cfg.num_patches
    self.position_embeddings = nnx.Param(_INIT(rngs.params(), (1, rows, d), cfg.param_dtype))
    self.registers = (nnx.Param(_INIT(rngs.params(), (1, cfg.registers, d), cfg.param_dtype))
                      if cfg.registers else None)
    self.position_on_class = cfg.position_on_class
    self.dropout = nnx.Dropout(cfg.dropout)
    self.dtype = cfg.dtype

  def __call__(self, images, *, deterministic, rngs):
    x = self.patch_embeddings(images.astype(self.dtype))
    b, h, w, d = x.shape
    x = x.reshape(b, h * w, d)  # row-major patches, as HF's flatten(2)
    positions = self.position_embeddings[...].astype(self.dtype)
    cls = jnp.broadcast_to(self.cls_token[...].astype(self.dtype), (b, 1, d))
    if self.position_on_class:
      x = jnp.concatenate([cls, x], axis=1) + positions
    else:  # registers' layout (timm's no_embed_class): CLS and registers take no position
      x = jnp.concatenate([cls, x + positions], axis=1)
    if self.registers is not None:
      registers = jnp.broadcast_to(self.registers[...].astype(self.dtype),
                                   (b,) + self.registers.shape[1:])
      x = jnp.concatenate([x[:, :1], registers, x[:, 1:]], axis=1)
    return self.dropout(x, deterministic=deterministic, rngs=rngs)


class Attention(nnx.Module):
  """Multi-head self-attention with separate query/key/value projections."""

  def __init__(self, cfg: ViTConfig, *, rngs: nnx.Rngs):
    d = cfg.hidden_size
    self.num_heads = cfg.num_heads
    self.implementation = cfg.attention
    self.query = _linear(cfg, d, d, rngs)
    self.key = _linear(cfg, d, d, rngs)
    self.value = _linear(cfg, d, d, rngs)
    self.output = _linear(cfg, d, d, rngs)

  def __call__(self, x, *, return_weights=False):
    b, n, d = x.shape
    split = lambda t: t.reshape(b, n, self.num_heads, d // self.num_heads)
    q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
    weights = None
    if return_weights:
      out, weights = attention_lib.attention_with_weights(q, k, v)
    else:
      out = attention_lib.dot_product_attention(
          q, k, v, implementation=self.implementation)
    return self.output(out.reshape(b, n, d)), weights


class Mlp(nnx.Module):
  """fc1 -> activation -> fc2."""

  def __init__(self, cfg: ViTConfig, *, rngs: nnx.Rngs):
    self.fc1 = _linear(cfg, cfg.hidden_size, cfg.mlp_dim, rngs)
    self.fc2 = _linear(cfg, cfg.mlp_dim, cfg.hidden_size, rngs)
    self.activation = cfg.activation

  def __call__(self, x):
    return self.fc2(activations.activation(self.activation)(self.fc1(x)))


class Block(nnx.Module):
  """Pre-LayerNorm transformer block (HF ViTLayer / CLIPEncoderLayer)."""

  def __init__(self, cfg: ViTConfig, *, rngs: nnx.Rngs):
    self.layernorm_before = _layernorm(cfg, rngs)
    self.attention = (Attention(cfg, rngs=rngs) if cfg.qkv == 'separate' else
                      fused_qkv.FusedQKVAttention(
                          cfg.hidden_size, cfg.num_heads, implementation=cfg.attention,
                          dtype=cfg.dtype, param_dtype=cfg.param_dtype, kernel_init=_INIT,
                          rngs=rngs))
    self.layernorm_after = _layernorm(cfg, rngs)
    self.mlp = Mlp(cfg, rngs=rngs)
    self.dropout = nnx.Dropout(cfg.dropout)
    d = cfg.hidden_size
    # LayerScale (Touvron et al. 2021; DINOv2): timm's init_values start them at 1e-5.
    self.attention_scale = (nnx.Param(jnp.full((d,), 1e-5, cfg.param_dtype))
                            if cfg.layer_scale else None)
    self.mlp_scale = (nnx.Param(jnp.full((d,), 1e-5, cfg.param_dtype))
                      if cfg.layer_scale else None)

  def __call__(self, x, *, deterministic, rngs, return_weights=False):
    y, weights = self.attention(self.layernorm_before(x), return_weights=return_weights)
    if self.attention_scale is not None:
      y = y * self.attention_scale[...].astype(y.dtype)
    x = x + self.dropout(y, deterministic=deterministic, rngs=rngs)
    y = self.mlp(self.layernorm_after(x))
    if self.mlp_scale is not None:
      y = y * self.mlp_scale[...].astype(y.dtype)
    x = x + self.dropout(y, deterministic=deterministic, rngs=rngs)
    return x, weights


class ViT(nnx.Module):
  """The backbone: images [B,H,W,3] -> BackboneOutput(pooled [B,D], tokens [B,N,D])."""

  def __init__(self, config: ViTConfig, *, rngs: nnx.Rngs):
    self.config = config
    self.embeddings = Embeddings(config, rngs=rngs)
    self.pre_layernorm = _layernorm(config, rngs) if config.pre_layernorm else None
    self.layers = nnx.List([Block(config, rngs=rngs) for _ in range(config.num_layers)])
    self.layernorm = _layernorm(config, rngs)
    self.pooler = (_linear(config, config.hidden_size, config.hidden_size, rngs)
                   if config.pooler == 'tanh' else None)

  def __call__(self, images: jax.Array, *, deterministic: bool = True,
               rngs: nnx.Rngs | jax.Array | None = None,
               return_hidden_states: bool = False,
               return_attention: bool = False) -> BackboneOutput:
    """Runs the backbone.

    Args:
      images: float [B, S, S, 3] with S = config.image_size (normalised pixels).
      deterministic: False turns dropout on (needs `rngs`).
      rngs: an `nnx.Rngs` with a 'dropout' stream, or a PRNG key for it.
      return_hidden_states: also fill `hidden_states`.
      return_attention: also fill `attention`.

    Returns:
      a `BackboneOutput`, arrays in the compute dtype (attention in float32).
    """
    cfg = self.config
    if images.ndim != 4 or images.shape[1:] != (cfg.image_size, cfg.image_size, 3):
      raise ValueError(f'images must be [B,{cfg.image_size},{cfg.image_size},3] '
                       f'(model.image_size), got {tuple(images.shape)}')
    if not deterministic and cfg.dropout > 0 and rngs is None:
      raise ValueError('deterministic=False with model.dropout > 0 needs rngs')
    if rngs is not None and not isinstance(rngs, nnx.Rngs):
      rngs = nnx.Rngs(dropout=rngs)

    x = self.embeddings(images, deterministic=deterministic, rngs=rngs)
    if self.pre_layernorm is not None:
      x = self.pre_layernorm(x)
    hidden_states, attention = [x], []
    remat = cfg.remat != 'none' and not return_attention
    for block in self.layers:
      if remat:
        x, weights = _remat_block(block, x, deterministic, rngs, cfg.remat)
      else:
        x, weights = block(x, deterministic=deterministic, rngs=rngs,
                           return_weights=return_attention)
      hidden_states.append(x)
      attention.append(weights)

    if cfg.registers:  # scratch tokens (Darcet et al. 2024): not part of the output
      x = jnp.concatenate([x[:, :1], x[:, 1 + cfg.registers:]], axis=1)
    if cfg.final_norm == 'all':
      tokens = self.layernorm(x)
      cls = tokens[:, 0]
    else:
      tokens = x
      cls = self.layernorm(x[:, 0])
    if cfg.pooler == 'norm':  # transformers' Blip2VisionModel normalises CLS twice
      pooled = self.layernorm(cls)
    else:
      pooled = jnp.tanh(self.pooler(cls)) if self.pooler is not None else cls

    return BackboneOutput(
        pooled=pooled, tokens=tokens,
        hidden_states=tuple(hidden_states) if return_hidden_states else None,
        attention=tuple(attention) if return_attention else None)


def _remat_block(block: 'Block', x: jax.Array, deterministic: bool,
                 rngs: nnx.Rngs | None, remat: str):
  """Runs `block` under `nnx.remat` with the configured policy."""
  def run(block, x, rngs):
    return block(x, deterministic=deterministic, rngs=rngs, return_weights=False)
  return nnx.remat(run, policy=remat_lib.POLICIES[remat])(block, x, rngs)
