"""Write a trained ViT backbone back as a Hugging Face folder (config.json + model.safetensors).

An HF-ViT-style backbone becomes a `ViTModel` checkpoint, a CLIP-style one (fine-
tuned from CLIP) a `CLIPVisionModel` checkpoint, both in the key names hub files
use, so transformers loads them and `convert.vit.load_vit` reads them back
bit-for-bit. Tensors are written with `safetensors.numpy`: no torch needed.
"""

from __future__ import annotations

import json
import os
from typing import Any

from safetensors.numpy import save_file

from wikiart_jax.convert import assign
from wikiart_jax.convert import vit as convert_vit
from wikiart_jax.models.vit import ViT, ViTConfig

_HF_ACTIVATIONS = {'gelu': 'gelu', 'gelu_tanh': 'gelu_pytorch_tanh', 'quick_gelu': 'quick_gelu'}
_VIT_STYLE = dict(pre_layernorm=False, patch_bias=True, final_norm='all')
_CLIP_STYLE = dict(pre_layernorm=True, patch_bias=False, final_norm='cls', pooler='none')


def _family(cfg: ViTConfig) -> str:
  """'vit' or 'clip': the transformers class that computes what this backbone computes."""
  for family, style in (('vit', _VIT_STYLE), ('clip', _CLIP_STYLE)):
    if all(getattr(cfg, k) == v for k, v in style.items()):
      return family
  raise ValueError(
      'cannot export this backbone: neither HF ViT '
      f'({_VIT_STYLE}) nor CLIP vision ({_CLIP_STYLE}); got pre_layernorm='
      f'{cfg.pre_layernorm}, patch_bias={cfg.patch_bias}, final_norm={cfg.final_norm!r}, '
      f'pooler={cfg.pooler!r}')


def hf_config(cfg: ViTConfig) -> dict[str, Any]:
  """The config.json of the equivalent transformers model."""
  family = _family(cfg)
  common = dict(hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_layers,
                num_attention_heads=cfg.num_heads, intermediate_size=cfg.mlp_dim,
                hidden_act=_HF_ACTIVATIONS[cfg.activation], layer_norm_eps=cfg.layer_norm_eps,
                image_size=cfg.image_size, patch_size=cfg.patch_size, num_channels=3)
  if family == 'vit':
    return dict(model_type='vit', architectures=['ViTModel'], qkv_bias=True,
                hidden_dropout_prob=cfg.dropout, attention_probs_dropout_prob=0.0, **common)
  return dict(model_type='clip_vision_model', architectures=['CLIPVisionModel'],
              attention_dropout=0.0, **common)


def export_vit(backbone: ViT, folder: str | os.PathLike) -> str:
  """Writes `backbone` to `folder` (created) and returns the folder path.

  With pooler='none' an HF ViT export has no pooler weights: transformers'
  ViTModel then initialises its (unused by us) pooler randomly and warns.
  """
  cfg = backbone.config
  family = _family(cfg)
  prefix = '' if family == 'vit' else 'vision_model.'
  tensors = assign.export_tensors(backbone, convert_vit.mapping(cfg, family, prefix))
  folder = os.fspath(folder)
  os.makedirs(folder, exist_ok=True)
  with open(os.path.join(folder, 'config.json'), 'w') as f:
    json.dump(hf_config(cfg), f, indent=2, sort_keys=True)
  # transformers refuses safetensors files without a 'format' entry.
  save_file(tensors, os.path.join(folder, 'model.safetensors'), metadata={'format': 'pt'})
  return folder
