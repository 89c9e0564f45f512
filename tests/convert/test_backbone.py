"""The backbone reader picks the converter by the checkpoint's config.json: timm's names an
`architecture`, transformers' a `model_type`. (The converters themselves are checked against
transformers and timm in test_vit.py and test_timm.py.)"""

import json

import pytest
from flax import nnx

from wikiart_jax.convert import backbone
from wikiart_jax.convert import timm as convert_timm
from wikiart_jax.convert import vit as convert_vit
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.vit import ViT, ViTConfig


def _folder(tmp_path, name, config):
  folder = tmp_path / name
  folder.mkdir()
  (folder / 'config.json').write_text(json.dumps(config))
  (folder / 'model.safetensors').write_bytes(b'')  # never read: the readers are stand-ins
  return str(folder)


@pytest.fixture
def calls(monkeypatch):
  """Records which converter each call reached, instead of reading weights."""
  seen = []
  for module, name in ((convert_timm, 'timm'), (convert_vit, 'hf')):
    monkeypatch.setattr(module, 'load_into_vit',
                        lambda vit, source, name=name: seen.append((name, source)))
    monkeypatch.setattr(module, 'config_fields',
                        lambda hf, name=name: {'image_size': 16, 'read_by': name})
  return seen


def test_timm_and_transformers_folders_go_to_their_reader(tmp_path, calls):  # pylint: disable=redefined-outer-name
  timm = _folder(tmp_path, 'timm', {'architecture': 'vit_base_patch16_224'})
  hf = _folder(tmp_path, 'hf', {'model_type': 'vit', 'architecture': 'ignored'})
  assert backbone.config_fields(timm) == {'image_size': 16, 'read_by': 'timm'}
  # The image size is the data's to choose: the overrides leave it out.
  assert backbone.backbone_config_overrides(hf) == {'read_by': 'hf'}
  vit = ViT(ViTConfig(image_size=16, patch_size=8, hidden_size=8, num_layers=1, num_heads=2,
                      mlp_dim=8), rngs=nnx.Rngs(0))

  class Classifier(nnx.Module):
    def __init__(self):
      self.backbone = vit

  backbone.init_backbone_from(Classifier(), timm)
  backbone.load_into(vit, hf)
  assert calls == [('timm', timm), ('hf', hf)]


def test_a_model_without_a_vit_backbone_or_a_folder_without_config_is_named(tmp_path, calls):  # pylint: disable=redefined-outer-name
  with pytest.raises(TypeError, match='Linear has no ViT .backbone to initialise'):
    backbone.init_backbone_from(nnx.Linear(2, 2, rngs=nnx.Rngs(0)), str(tmp_path))
  with pytest.raises(CheckpointError, match='has no config.json'):
    backbone.config_fields(str(tmp_path))
  assert calls == []
