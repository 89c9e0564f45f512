"""A checkpoint's own pixel statistics: as transformers' processors and timm's pretrained_cfg say."""

import json
import os

import numpy as np
import pytest
import torch
import transformers

from conftest import ROOT
from wikiart_jax.convert import preprocessing
from wikiart_jax.core import CheckpointError
from wikiart_jax.data import augment

VIT = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
           image_size=16, patch_size=8)
FIXTURES = os.path.join(os.path.dirname(ROOT), 'shared', 'timm-fixtures')


def _save_vit(folder, processor=None):
  torch.manual_seed(0)
  transformers.ViTModel(transformers.ViTConfig(**VIT)).save_pretrained(folder)
  if processor is not None:
    processor.save_pretrained(folder)


@pytest.mark.parametrize('processor', [
    transformers.ViTImageProcessor(),  # google/vit-*: 0.5 / 0.5, bilinear
    transformers.CLIPImageProcessor(),  # OpenAI CLIP's statistics, bicubic
    transformers.ViTImageProcessor(image_mean=[0.1, 0.2, 0.3], image_std=[0.4, 0.5, 0.6],
                                   resample=3),
])
def test_statistics_are_the_processors_own(tmp_path, processor):
  _save_vit(tmp_path, processor)
  loaded = transformers.AutoImageProcessor.from_pretrained(tmp_path)
  norm = preprocessing.normalization_of(str(tmp_path))
  np.testing.assert_allclose(norm.mean, loaded.image_mean)
  np.testing.assert_allclose(norm.std, loaded.image_std)
  assert norm.interpolation == {2: 'bilinear', 3: 'bicubic'}[int(loaded.resample)]


def test_a_folder_without_a_processor_gets_its_familys_defaults(tmp_path):
  _save_vit(tmp_path)
  assert preprocessing.normalization_of(str(tmp_path)) == preprocessing.HALF
  cfg = json.loads((tmp_path / 'config.json').read_text())
  cfg['model_type'] = 'bert'
  (tmp_path / 'config.json').write_text(json.dumps(cfg))
  with pytest.raises(CheckpointError, match="no default image statistics for model_type 'bert'"):
    preprocessing.normalization_of(str(tmp_path))


@pytest.mark.skipif(not os.path.isdir(FIXTURES), reason='../shared/timm-fixtures is absent')
@pytest.mark.parametrize('arch', ['vit_base_patch16_224', 'vit_base_patch16_clip_224',
                                  'vit_small_patch14_dinov2'])
def test_timm_statistics_come_from_pretrained_cfg(arch):
  folder = os.path.join(FIXTURES, arch)
  reference = np.load(os.path.join(folder, 'reference.npz'))
  norm = preprocessing.normalization_of(folder)
  np.testing.assert_allclose(norm.mean, reference['mean'], rtol=1e-6)
  np.testing.assert_allclose(norm.std, reference['std'], rtol=1e-6)
  assert norm.interpolation == 'bicubic'


def test_normalisation_round_trips_and_checks_itself():
  norm = augment.Normalization((0.1, 0.2, 0.3), (0.4, 0.5, 0.6), 'bicubic')
  assert augment.Normalization.from_dict(norm.to_dict()) == norm
  x = np.full((2, 2, 3), 255.0, np.float32)
  np.testing.assert_allclose(augment.normalize(x, norm)[0, 0], [2.25, 1.6, 7 / 6], rtol=1e-6)
  with pytest.raises(ValueError, match='interpolation'):
    augment.Normalization((0.5,) * 3, (0.5,) * 3, 'nearest')
  with pytest.raises(ValueError, match='positive'):
    augment.Normalization((0.5,) * 3, (0.0, 1.0, 1.0))
