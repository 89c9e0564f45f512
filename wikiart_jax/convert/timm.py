"""timm ViT checkpoints (timm's hub layout) -> models.vit.ViT.

A timm folder holds `config.json` (`architecture`, `model_args`, `pretrained_cfg`)
and `model.safetensors` with timm's state dict (`cls_token`, `pos_embed`,
`patch_embed.proj`, `blocks.{i}.norm1`, `blocks.{i}.attn.qkv` with query, key
and value stacked on the output axis, `blocks.{i}.attn.proj`, `blocks.{i}.mlp.fc1/fc2`,
`norm`, `head`; CLIP towers add `norm_pre`; DINOv2 adds `blocks.{i}.ls1/ls2.gamma`
and, with registers, `reg_token`).

`model_args` hold only what `save_for_hf` was given; the rest comes from the
architecture's own defaults in timm, which `_family` writes down for the
families we read: the augreg ViTs (LayerNorm eps 1e-6, exact GELU), the CLIP
towers fine-tuned in timm (pre-norm, eps 1e-5, no patch bias, QuickGELU in the
`_quickgelu` variants) and DINOv2 (LayerScale; `_reg<K>_` register tokens that
take no position). Only the class-token pooling (`global_pool='token'`) is
read: pooled = the normalised CLS token, as timm's `forward_head(pre_logits=True)`.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from wikiart_jax.convert import assign, hub
from wikiart_jax.convert import vit as convert_vit
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.vit import ViT, ViTConfig

# timm's size names -> (embed_dim, depth, num_heads).
_SIZES = {'tiny': (192, 12, 3), 'small': (384, 12, 6), 'base': (768, 12, 12),
          'large': (1024, 24, 16), 'huge': (1280, 32, 16)}
_NAME = re.compile(r'^vit_(tiny|small|base|large|huge)_patch(\d+)_')


def is_timm(hf: dict[str, Any]) -> bool:
  """Whether a config.json is timm's (it names an architecture, not a model_type)."""
  return 'architecture' in hf and 'model_type' not in hf


def _family(architecture: str) -> dict[str, Any]:
  """The defaults timm's model function gives an architecture (beyond model_args)."""
  if not architecture.startswith('vit_') or 'giant' in architecture or 'siglip' in architecture:
    raise CheckpointError(f'timm architecture {architecture!r} is not supported; expected an '
                          'augreg ViT, a CLIP tower (vit_*_clip_*) or DINOv2 (vit_*_dinov2)')
  if '_clip_' in architecture:
    return dict(pre_norm=True, eps=1e-5, bias=False,
                act='quick_gelu' if '_quickgelu' in architecture else 'gelu')
  if architecture.endswith('_dinov2') or '_dinov2.' in architecture:
    registers = re.search(r'_reg(\d+)_', architecture)
    return dict(init_values=1e-5, img_size=518,
                reg_tokens=int(registers.group(1)) if registers else 0,
                no_embed_class=bool(registers))
  return {}


def config_fields(hf: dict[str, Any]) -> dict[str, Any]:
  """The ViTConfig fields (= config.model fields) a timm config implies."""
  architecture = str(hf['architecture'])
  family = _family(architecture)
  args = dict(hf.get('model_args') or {})
  named = _NAME.match(architecture)
  embed, depth, heads = _SIZES[named.group(1)] if named else (None, None, None)
  if args.get('global_pool', hf.get('global_pool', 'token')) != 'token':
    raise CheckpointError(f"{architecture}: only global_pool='token' is supported, got "
                          f"{args.get('global_pool', hf.get('global_pool'))!r}")
  if not args.get('class_token', True) or not args.get('qkv_bias', True):
    raise CheckpointError(f'{architecture}: ViTs without a class token or qkv bias are not '
                          'supported')
  act = args.get('act_layer', family.get('act', 'gelu'))
  if act not in ('gelu', 'quick_gelu'):
    raise CheckpointError(f'{architecture}: act_layer {act!r} is not supported')
  image = args.get('img_size', family.get('img_size', 224))
  image = image[0] if isinstance(image, (list, tuple)) else image
  width = args.get('embed_dim', embed)
  if width is None:
    raise CheckpointError(f'{architecture}: model_args give no embed_dim')
  pre_norm = bool(args.get('pre_norm', family.get('pre_norm', False)))
  return dict(
      image_size=int(image),
      patch_size=int(args.get('patch_size', int(named.group(2)) if named else 16)),
      hidden_size=int(width), num_layers=int(args.get('depth', depth)),
      num_heads=int(args.get('num_heads', heads)),
      mlp_dim=int(round(width * float(args.get('mlp_ratio', 4.0)))),
      layer_norm_eps=float(family.get('eps', 1e-6)), activation=act,
      pre_layernorm=pre_norm, patch_bias=bool(family.get('bias', not pre_norm)),
      final_norm='all', layer_scale=args.get('init_values', family.get('init_values')) is not None,
      registers=int(args.get('reg_tokens', family.get('reg_tokens', 0))),
      position_on_class=not args.get('no_embed_class', family.get('no_embed_class', False)))


def mapping(cfg: ViTConfig) -> assign.Mapping:
  """timm state-dict key (qkv already split by `split_qkv`) -> (ViT path, transform)."""
  m: assign.Mapping = {
      'cls_token': (('embeddings', 'cls_token'), assign.keep),
      'pos_embed': (('embeddings', 'position_embeddings'), assign.keep),
  }
  if cfg.registers:
    m['reg_token'] = (('embeddings', 'registers'), assign.keep)
  assign.add_linear(m, 'patch_embed.proj', ('embeddings', 'patch_embeddings'),
                    bias=cfg.patch_bias, transform=assign.conv)
  if cfg.pre_layernorm:
    assign.add_norm(m, 'norm_pre', ('pre_layernorm',))
  for i in range(cfg.num_layers):
    b, p = f'blocks.{i}.', ('layers', i)
    assign.add_norm(m, b + 'norm1', p + ('layernorm_before',))
    assign.add_norm(m, b + 'norm2', p + ('layernorm_after',))
    for name, ours in (('q', 'query'), ('k', 'key'), ('v', 'value'), ('proj', 'output')):
      assign.add_linear(m, b + 'attn.' + name, p + ('attention', ours))
    assign.add_linear(m, b + 'mlp.fc1', p + ('mlp', 'fc1'))
    assign.add_linear(m, b + 'mlp.fc2', p + ('mlp', 'fc2'))
    if cfg.layer_scale:
      m[b + 'ls1.gamma'] = (p + ('attention_scale',), assign.keep)
      m[b + 'ls2.gamma'] = (p + ('mlp_scale',), assign.keep)
  assign.add_norm(m, 'norm', ('layernorm',))
  return m


def split_qkv(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
  """`attn.qkv` [3D, D] (and its bias) -> `attn.q` / `attn.k` / `attn.v`, as our ViT has."""
  out = {}
  for key, value in tensors.items():
    match = re.fullmatch(r'(blocks\.\d+\.attn\.)qkv\.(weight|bias)', key)
    if not match:
      out[key] = value
      continue
    for name, part in zip('qkv', np.split(value, 3, axis=0)):
      out[f'{match.group(1)}{name}.{match.group(2)}'] = part
  return out


def tower_tensors(folder: str, cfg: ViTConfig) -> dict[str, np.ndarray]:
  """The backbone's tensors, qkv split, the position table at `cfg`'s grid; the
  classifier head (and fc_norm's identity) left out on purpose: our heads are fresh."""
  tensors = split_qkv(hub.read_tensors(folder))
  tensors = {k: v for k, v in tensors.items() if not k.startswith(('head.', 'fc_norm.'))}
  if 'pos_embed' in tensors:
    prefix = 1 if cfg.position_on_class else 0
    tensors['pos_embed'] = convert_vit.resample_positions(
        tensors['pos_embed'], prefix, cfg.image_size // cfg.patch_size)
  return tensors


def load_into_vit(vit: ViT, source: str) -> list[str]:
  """Loads a timm checkpoint into an existing ViT, strictly."""
  folder = hub.resolve(source)
  return assign.load_into(vit, tower_tensors(folder, vit.config), mapping(vit.config))


def load_timm_vit(source: str, *, dtype: str = 'float32',
                  image_size: int | None = None) -> tuple[ViT, dict[str, Any]]:
  """Builds our ViT from a timm checkpoint ('hf:timm/<name>' or a folder).

  Args:
    source: the checkpoint.
    dtype: compute dtype.
    image_size: the input size (the position table is resampled); None = the
      checkpoint's own.

  Returns:
    (the ViT, the config fields the checkpoint implies).
  """
  fields = config_fields(hub.read_config(hub.resolve(source)))
  cfg = ViTConfig(**{**fields, 'image_size': image_size or fields['image_size']}, dtype=dtype)
  vit = assign.abstract(lambda rngs: ViT(cfg, rngs=rngs))
  load_into_vit(vit, source)
  return vit, fields
