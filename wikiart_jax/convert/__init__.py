"""Public pretrained weights (Hugging Face safetensors) -> our Flax NNX models, and back.

    load_vit / load_clip / load_gpt2 / load_git(source)  'hf:<id>' or a local folder
    load_timm_vit(source)                                a timm ViT / CLIP / DINOv2 checkpoint
    backbone_config_overrides, init_backbone_from        (the factory's: HF or timm)
    load_partial(model, source, include=[...])           only the listed key prefixes
    export_vit(backbone, folder)                         back to a transformers folder

Every load is strict: a missing, unexpected or mis-shaped key raises a
`CheckpointError` naming it. Nothing here imports torch.
"""

from typing import Sequence

from flax import nnx

from wikiart_jax.convert import clip, git, gpt2, hub, vit
from wikiart_jax.convert.clip import load_clip
from wikiart_jax.convert.export import export_vit
from wikiart_jax.convert.git import load_git
from wikiart_jax.convert.gpt2 import load_gpt2
from wikiart_jax.convert.hub import resolve
from wikiart_jax.convert.backbone import backbone_config_overrides, init_backbone_from
from wikiart_jax.convert.timm import load_timm_vit
from wikiart_jax.convert.vit import load_vit
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.clip import CLIP
from wikiart_jax.models.git import GitForCausalLM
from wikiart_jax.models.gpt2 import GPT2LMHeadModel
from wikiart_jax.models.vit import ViT

__all__ = ['CheckpointError', 'backbone_config_overrides', 'export_vit', 'init_backbone_from',
           'load_clip', 'load_git', 'load_gpt2', 'load_partial', 'load_timm_vit',
           'load_vit', 'resolve']


def load_partial(model: nnx.Module, source: str, *, include: Sequence[str]) -> list[str]:
  """Loads only the checkpoint keys starting with one of `include` into `model`.

  Keys are the checkpoint's own (e.g. 'transformer.h.0.' for GPT-2,
  'vision_model.' for CLIP, 'encoder.layer.0.' for a ViT tower); every key
  under those prefixes must exist and fit, the other parameters stay as they are.

  Returns:
    The checkpoint keys that were loaded.
  """
  if not include:
    raise CheckpointError('load_partial needs at least one key prefix in include')
  folder = hub.resolve(source)
  loaders = ((GPT2LMHeadModel, gpt2.load_weights), (CLIP, clip.load_weights),
             (GitForCausalLM, git.load_weights), (ViT, vit.load_into_vit))
  for cls, load in loaders:
    if isinstance(model, cls):
      return load(model, folder, include=list(include))
  raise TypeError(f'no checkpoint converter for {type(model).__name__}')
