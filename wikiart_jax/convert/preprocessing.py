"""The pixel statistics and resize filter a checkpoint was trained with.

transformers folders say it in `preprocessor_config.json` (`image_mean`,
`image_std`, `resample` as a PIL filter number), timm folders in config.json's
`pretrained_cfg` (`mean`, `std`, `interpolation`). A folder without either gets
its family's processor defaults (transformers' ViTImageProcessor: 0.5 / 0.5
bilinear; CLIP, GIT and BLIP-2 towers: OpenAI CLIP's statistics, bicubic).
"""

from __future__ import annotations

import json
import os
from typing import Any

from wikiart_jax.convert import hub
from wikiart_jax.convert import timm as convert_timm
from wikiart_jax.core import CheckpointError
from wikiart_jax.data.augment import Normalization

HALF = Normalization((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 'bilinear')
OPENAI_CLIP = Normalization((0.48145466, 0.4578275, 0.40821073),
                            (0.26862954, 0.26130258, 0.27577711), 'bicubic')
# BLIP-2's BlipImageProcessor defaults to OpenAI CLIP's statistics, bicubic.
_DEFAULTS = {'vit': HALF, 'clip': OPENAI_CLIP, 'clip_vision_model': OPENAI_CLIP,
             'git': OPENAI_CLIP, 'blip-2': OPENAI_CLIP}
# PIL's filter numbers, as transformers stores `resample`.
_RESAMPLE = {2: 'bilinear', 3: 'bicubic'}


def _from_processor(path: str) -> Normalization:
  try:
    with open(path, encoding='utf-8') as f:
      cfg: dict[str, Any] = json.load(f)
    interpolation = _RESAMPLE.get(int(cfg.get('resample', 2)), 'bicubic')
    return Normalization(tuple(cfg['image_mean']), tuple(cfg['image_std']), interpolation)
  except (OSError, ValueError, KeyError, TypeError) as e:
    raise CheckpointError(f'cannot read the image statistics in {path}: {e}') from e


def normalization_of(source: str) -> Normalization:
  """The normalisation a checkpoint ('hf:<id>' or a folder) expects of its inputs."""
  folder = hub.resolve(source)
  hf = hub.read_config(folder)
  if convert_timm.is_timm(hf):
    cfg = hf.get('pretrained_cfg') or {}
    if 'mean' not in cfg or 'std' not in cfg:
      raise CheckpointError(f'{folder}/config.json: pretrained_cfg has no mean / std')
    interpolation = cfg.get('interpolation', 'bicubic')
    return Normalization(tuple(cfg['mean']), tuple(cfg['std']),
                         interpolation if interpolation in ('bilinear', 'bicubic') else 'bicubic')
  processor = os.path.join(folder, 'preprocessor_config.json')
  if os.path.isfile(processor):
    return _from_processor(processor)
  model_type = hf.get('model_type')
  if model_type not in _DEFAULTS:
    raise CheckpointError(f'{folder}: no preprocessor_config.json and no default image '
                          f'statistics for model_type {model_type!r}')
  return _DEFAULTS[model_type]
