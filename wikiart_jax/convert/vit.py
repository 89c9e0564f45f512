"""ViT-family image towers (HF ViT, CLIP vision, GIT vision) -> models.vit.ViT.

convert/backbone.py routes a classifier's backbone here (or to convert/timm.py
for timm checkpoints). Keys are accepted both as
written in hub files (encoder.layer.{i}.attention.attention.query) and as
transformers v5 names them in memory (layers.{i}.attention.q_proj).
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from flax import nnx
import jax
import numpy as np

from wikiart_jax.convert import assign, hub
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.vit import ViT, ViTConfig

_ACTIVATIONS = {'gelu': 'gelu', 'quick_gelu': 'quick_gelu', 'gelu_new': 'gelu_tanh',
                'gelu_pytorch_tanh': 'gelu_tanh'}
# model_type -> (where the vision config sits, key prefix of the tower, family).
_TOWERS = {
    'vit': (None, '', 'vit'),
    'clip': ('vision_config', 'vision_model.', 'clip'),
    'clip_vision_model': (None, 'vision_model.', 'clip'),
    'git': ('vision_config', 'git.image_encoder.vision_model.', 'git'),
}
# transformers v5 in-memory ViT names -> the names hub files use.
_V5_VIT_NAMES = (
    (r'^layers\.(\d+)\.attention\.(q|k|v)_proj\.',
     lambda m: f'encoder.layer.{m[1]}.attention.attention.'
               f'{dict(q="query", k="key", v="value")[m[2]]}.'),
    (r'^layers\.(\d+)\.attention\.o_proj\.', r'encoder.layer.\1.attention.output.dense.'),
    (r'^layers\.(\d+)\.mlp\.fc1\.', r'encoder.layer.\1.intermediate.dense.'),
    (r'^layers\.(\d+)\.mlp\.fc2\.', r'encoder.layer.\1.output.dense.'),
    (r'^layers\.(\d+)\.', r'encoder.layer.\1.'),
)


def _tower(hf: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
  """(vision config dict, key prefix, family) of a checkpoint config."""
  model_type = hf.get('model_type')
  if model_type not in _TOWERS:
    raise CheckpointError(f'model_type {model_type!r} has no ViT image tower; '
                              f'expected one of {sorted(_TOWERS)}')
  sub, prefix, family = _TOWERS[model_type]
  return (hf.get(sub) or {}) if sub else hf, prefix, family


def config_fields(hf: dict[str, Any]) -> dict[str, Any]:
  """The ViTConfig fields (= config.model fields) implied by a checkpoint config."""
  vision, _, family = _tower(hf)
  act = vision.get('hidden_act', 'gelu' if family == 'vit' else 'quick_gelu')
  if act not in _ACTIVATIONS:
    raise CheckpointError(f'vision hidden_act {act!r} is not supported')
  if family == 'vit' and not vision.get('qkv_bias', True):
    raise CheckpointError('ViT checkpoints with qkv_bias=False are not supported')
  defaults = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                  intermediate_size=3072, patch_size=16 if family == 'vit' else 32,
                  image_size=224, layer_norm_eps=1e-12 if family == 'vit' else 1e-5)
  get = lambda k: vision.get(k, defaults[k])
  return dict(
      image_size=get('image_size'), patch_size=get('patch_size'),
      hidden_size=get('hidden_size'), num_layers=get('num_hidden_layers'),
      num_heads=get('num_attention_heads'), mlp_dim=get('intermediate_size'),
      layer_norm_eps=get('layer_norm_eps'), activation=_ACTIVATIONS[act],
      pre_layernorm=family != 'vit', patch_bias=family == 'vit',
      # CLIP normalises only the CLS token; GIT feeds every normalised token to its decoder.
      final_norm='cls' if family == 'clip' else 'all')


def mapping(cfg: ViTConfig, family: str, prefix: str = '') -> assign.Mapping:
  """Checkpoint key (hub-file names) -> (ViT parameter path, transform)."""
  m: assign.Mapping = {}
  emb = prefix + 'embeddings.'
  if family == 'vit':
    m[emb + 'cls_token'] = (('embeddings', 'cls_token'), assign.keep)
    m[emb + 'position_embeddings'] = (('embeddings', 'position_embeddings'), assign.keep)
    assign.add_linear(m, emb + 'patch_embeddings.projection', ('embeddings', 'patch_embeddings'),
                      bias=cfg.patch_bias, transform=assign.conv)
    block = prefix + 'encoder.layer.{}.'
    names = dict(layernorm_before='layernorm_before', layernorm_after='layernorm_after',
                 query='attention.attention.query', key='attention.attention.key',
                 value='attention.attention.value', output='attention.output.dense',
                 fc1='intermediate.dense', fc2='output.dense')
    final = prefix + 'layernorm'
  else:
    m[emb + 'class_embedding'] = (('embeddings', 'cls_token'), assign.add_two_axes)
    m[emb + 'position_embedding.weight'] = (('embeddings', 'position_embeddings'),
                                            assign.add_axis)
    assign.add_linear(m, emb + 'patch_embedding', ('embeddings', 'patch_embeddings'),
                      bias=cfg.patch_bias, transform=assign.conv)
    block = prefix + 'encoder.layers.{}.'
    names = dict(layernorm_before='layer_norm1', layernorm_after='layer_norm2',
                 query='self_attn.q_proj', key='self_attn.k_proj', value='self_attn.v_proj',
                 output='self_attn.out_proj', fc1='mlp.fc1', fc2='mlp.fc2')
    final = prefix + 'post_layernorm'
  if cfg.pre_layernorm:
    assign.add_norm(m, prefix + 'pre_layrnorm', ('pre_layernorm',))
  for i in range(cfg.num_layers):
    b, p = block.format(i), ('layers', i)
    assign.add_norm(m, b + names['layernorm_before'], p + ('layernorm_before',))
    assign.add_norm(m, b + names['layernorm_after'], p + ('layernorm_after',))
    for ours in ('query', 'key', 'value', 'output'):
      assign.add_linear(m, b + names[ours], p + ('attention', ours))
    assign.add_linear(m, b + names['fc1'], p + ('mlp', 'fc1'))
    assign.add_linear(m, b + names['fc2'], p + ('mlp', 'fc2'))
  assign.add_norm(m, final, ('layernorm',))
  if cfg.pooler == 'tanh':
    if family != 'vit':
      raise CheckpointError(f'a {family} image tower has no tanh pooler: use pooler="none"')
    assign.add_linear(m, prefix + 'pooler.dense', ('pooler',))
  return m


def normalize_keys(tensors: dict[str, np.ndarray], family: str) -> dict[str, np.ndarray]:
  """Hub-file names for v5 names; drops the `vit.` prefix of ViTFor* heads' files."""
  if family != 'vit':
    return tensors
  out = {}
  for key, value in tensors.items():
    key = key.removeprefix('vit.')
    for pattern, repl in _V5_VIT_NAMES:
      key, hits = re.subn(pattern, repl, key)
      if hits:
        break
    out[key] = value
  return out


def tower_tensors(folder: str, hf: dict[str, Any], cfg: ViTConfig) -> dict[str, np.ndarray]:
  """Only the image tower's tensors, prefix stripped, in hub-file names.

  The rest of a CLIP/GIT checkpoint (text tower, projections) and parts our
  config leaves out (HF ViT's pooler when pooler='none', an image-classification
  head) are dropped here on purpose; what remains is loaded strictly.
  """
  _, prefix, family = _tower(hf)
  tensors = normalize_keys(hub.read_tensors(folder), family)
  tower = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
  if family == 'vit':
    tower = {k: v for k, v in tower.items()
             if not k.startswith('classifier.')
             and not (cfg.pooler != 'tanh' and k.startswith('pooler.'))}
  return tower


def resample_positions(table: np.ndarray, prefix_rows: int, side: int) -> np.ndarray:
  """A position table resampled (bicubic) to a `side` x `side` patch grid.

  Lets a checkpoint trained at one image size start a run at another (the usual
  ViT fine-tuning recipe; DINOv2 is stored at 518 px). The first `prefix_rows`
  rows (the CLS position, when the table has one) are kept as they are. A table
  whose patch rows are not a square grid comes back unchanged, for the strict
  shape check to report.
  """
  rows = table.reshape(-1, table.shape[-1])
  old = int(round((rows.shape[0] - prefix_rows) ** 0.5))
  if old == side or old * old != rows.shape[0] - prefix_rows:
    return table
  grid = rows[prefix_rows:].reshape(old, old, -1)
  grid = np.asarray(jax.image.resize(grid, (side, side, grid.shape[-1]), 'bicubic'), rows.dtype)
  rows = np.concatenate([rows[:prefix_rows], grid.reshape(side * side, -1)])
  return rows.reshape((1,) * (table.ndim - 2) + rows.shape)


def resize_position_embeddings(tensors: dict[str, np.ndarray], family: str,
                               cfg: ViTConfig) -> dict[str, np.ndarray]:
  """The tower's tensors with the position table resampled to `cfg`'s patch grid."""
  key = ('embeddings.position_embeddings' if family == 'vit'
         else 'embeddings.position_embedding.weight')
  if key not in tensors:
    return tensors
  return {**tensors, key: resample_positions(tensors[key], 1, cfg.image_size // cfg.patch_size)}


def load_into_vit(vit: ViT, source: str, *, include: Sequence[str] | None = None) -> list[str]:
  """Loads the image tower of a checkpoint into an existing ViT.

  Strict unless `include` lists key prefixes (tower keys, e.g. 'encoder.layer.0.').
  """
  folder = hub.resolve(source)
  hf = hub.read_config(folder)
  _, _, family = _tower(hf)
  tensors = resize_position_embeddings(tower_tensors(folder, hf, vit.config), family, vit.config)
  return assign.load_into(vit, tensors, mapping(vit.config, family), include=include,
                          ignore=(r'(^|\.)position_ids$',))


def load_vit(source: str, *, dtype: str = 'float32',
             pooler: str = 'none') -> tuple[ViT, dict[str, Any]]:
  """Builds our ViT from a checkpoint's image tower.

  Returns:
    (the ViT, the config fields it implies, as from `config_fields`).
  """
  fields = config_fields(hub.read_config(hub.resolve(source)))
  cfg = ViTConfig(**fields, pooler=pooler, dtype=dtype)
  vit = assign.abstract(lambda rngs: ViT(cfg, rngs=rngs))
  load_into_vit(vit, source)
  return vit, fields
