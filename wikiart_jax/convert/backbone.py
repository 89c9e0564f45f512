"""A classifier's backbone from any image tower we read: Hugging Face (ViT, CLIP, GIT,
BLIP-2) or timm.

`backbone_config_overrides(source)` gives the config.model fields a checkpoint
implies (its architecture wins over the experiment config), and
`init_backbone_from(classifier, source)` loads its weights into a classifier's
backbone (the heads stay fresh). The checkpoint's config.json says which reader
applies: timm's names an `architecture`, transformers' a `model_type`.
"""

from __future__ import annotations

from typing import Any

from flax import nnx

from wikiart_jax.convert import blip2 as convert_blip2
from wikiart_jax.convert import hub
from wikiart_jax.convert import timm as convert_timm
from wikiart_jax.convert import vit as convert_vit
from wikiart_jax.models.vit import ViT


def config_fields(source: str) -> dict[str, Any]:
  """Every ViTConfig field the checkpoint implies, its own image size included."""
  hf = hub.read_config(hub.resolve(source))
  if convert_timm.is_timm(hf):
    return convert_timm.config_fields(hf)
  if hf.get('model_type') == convert_blip2.MODEL_TYPE:
    return convert_blip2.vision_fields(hf)
  return convert_vit.config_fields(hf)


def backbone_config_overrides(source: str) -> dict[str, Any]:
  """config.model overrides for a checkpoint (image_size excluded: the data owns it)."""
  fields = config_fields(source)
  fields.pop('image_size')
  return fields


def init_backbone_from(classifier: nnx.Module, source: str) -> None:
  """Replaces `classifier.backbone`'s parameters in place; shapes are validated.

  Build the classifier with `backbone_config_overrides(source)` applied to
  config.model first; a mismatch raises a CheckpointError naming the key.
  """
  backbone = getattr(classifier, 'backbone', None)
  if not isinstance(backbone, ViT):
    raise TypeError(f'{type(classifier).__name__} has no ViT .backbone to initialise')
  load_into(backbone, source)


def load_into(vit: ViT, source: str) -> None:
  """Loads a checkpoint's image tower (Hugging Face or timm) into `vit`, strictly."""
  hf = hub.read_config(hub.resolve(source))
  if convert_timm.is_timm(hf):
    convert_timm.load_into_vit(vit, source)
  elif hf.get('model_type') == convert_blip2.MODEL_TYPE:
    convert_blip2.load_vision_into(vit, source)
  else:
    convert_vit.load_into_vit(vit, source)
