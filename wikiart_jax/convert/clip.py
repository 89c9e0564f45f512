"""CLIP checkpoints (CLIPModel safetensors) -> models.clip.CLIP.

The image tower goes onto our ViT through `convert.vit`; the text tower and the
two bias-free projections are renamed and transposed here.
"""

from __future__ import annotations

from typing import Any, Sequence

from wikiart_jax.convert import assign, hub, vit
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.clip import CLIP, CLIPConfig, CLIPTextConfig
from wikiart_jax.models.vit import ViTConfig

_IGNORE = (r'(^|\.)position_ids$',)


def config_from_hf(hf: dict[str, Any], *, dtype: str = 'float32') -> CLIPConfig:
  """Our CLIPConfig from a CLIPModel config.json dict."""
  if hf.get('model_type') != 'clip':
    raise CheckpointError(f"expected a CLIP checkpoint (model_type 'clip'), "
                              f"got {hf.get('model_type')!r}")
  t = hf.get('text_config') or {}
  act = t.get('hidden_act', 'quick_gelu')
  text = CLIPTextConfig(
      vocab_size=t.get('vocab_size', 49408),
      max_position_embeddings=t.get('max_position_embeddings', 77),
      hidden_size=t.get('hidden_size', 512), num_layers=t.get('num_hidden_layers', 12),
      num_heads=t.get('num_attention_heads', 8), mlp_dim=t.get('intermediate_size', 2048),
      activation=act, layer_norm_eps=t.get('layer_norm_eps', 1e-5),
      eos_token_id=t.get('eos_token_id', 2), dtype=dtype)
  vision = ViTConfig(**vit.config_fields(hf), dtype=dtype)
  return CLIPConfig(text=text, vision=vision, projection_dim=hf.get('projection_dim', 512),
                    logit_scale_init=hf.get('logit_scale_init_value', 2.6592))


def text_mapping(cfg: CLIPTextConfig) -> assign.Mapping:
  """Text-tower checkpoint keys -> (path under `text_model`, transform)."""
  m: assign.Mapping = {}
  t = 'text_model.'
  assign.add_embed(m, t + 'embeddings.token_embedding', ('embeddings', 'token_embedding'))
  assign.add_embed(m, t + 'embeddings.position_embedding', ('embeddings', 'position_embedding'))
  for i in range(cfg.num_layers):
    k, p = f'{t}encoder.layers.{i}.', ('layers', i)
    assign.add_norm(m, k + 'layer_norm1', p + ('layer_norm1',))
    assign.add_norm(m, k + 'layer_norm2', p + ('layer_norm2',))
    for proj in ('q_proj', 'k_proj', 'v_proj', 'out_proj'):
      assign.add_linear(m, k + 'self_attn.' + proj, p + ('self_attn', proj))
    assign.add_linear(m, k + 'mlp.fc1', p + ('mlp', 'fc1'))
    assign.add_linear(m, k + 'mlp.fc2', p + ('mlp', 'fc2'))
  assign.add_norm(m, t + 'final_layer_norm', ('final_layer_norm',))
  return m


def mapping(cfg: CLIPConfig) -> assign.Mapping:
  """Every CLIPModel checkpoint key -> (our parameter path, transform)."""
  m = assign.nest(text_mapping(cfg.text), ('text_model',))
  m.update(assign.nest(vit.mapping(cfg.vision, 'clip', 'vision_model.'), ('vision_model',)))
  assign.add_linear(m, 'text_projection', ('text_projection',), bias=False)
  assign.add_linear(m, 'visual_projection', ('visual_projection',), bias=False)
  m['logit_scale'] = (('logit_scale',), assign.keep)
  return m


def load_weights(model: CLIP, folder: str, *, include: Sequence[str] | None = None) -> list[str]:
  """Loads a checkpoint folder into an existing CLIP (all keys, or `include` prefixes)."""
  return assign.load_into(model, hub.read_tensors(folder), mapping(model.config),
                          include=include, ignore=_IGNORE)


def load_clip(source: str, *, dtype: str = 'float32') -> CLIP:
  """Builds our CLIP from a checkpoint ('hf:<id>' or folder) with its weights."""
  folder = hub.resolve(source)
  cfg = config_from_hf(hub.read_config(folder), dtype=dtype)
  model = assign.abstract(lambda rngs: CLIP(cfg, rngs=rngs))
  load_weights(model, folder)
  return model
