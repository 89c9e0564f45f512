"""ViT: our backbone on converted weights equals transformers' ViTModel; backbone hooks."""

import json

import common
import jax.numpy as jnp
import numpy as np
import pytest
import safetensors.numpy
import torch
import transformers
from flax import nnx

from wikiart_jax import factory
from wikiart_jax.convert import backbone as convert_backbone
from wikiart_jax.convert import vit as convert_vit
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.classifier import ArtClassifier

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
            image_size=16, patch_size=4, layer_norm_eps=1e-12)


def _save(tmp_path, **overrides):
  torch.manual_seed(0)
  model = transformers.ViTModel(transformers.ViTConfig(**{**TINY, **overrides})).eval()
  model.save_pretrained(tmp_path)
  return model


def _images(batch=2, size=16, seed=0):
  return np.random.default_rng(seed).normal(size=(batch, 3, size, size)).astype(np.float32)


def test_hidden_states_and_pooled_match_transformers(tmp_path):
  ref = _save(tmp_path)
  ours, fields = convert_vit.load_vit(str(tmp_path), pooler='tanh')
  assert fields['num_layers'] == 2 and fields['patch_bias'] and fields['final_norm'] == 'all'
  images = _images()
  with torch.no_grad():
    want = ref(torch.tensor(images), output_hidden_states=True)
  out = nnx.jit(lambda m, x: m(x, return_hidden_states=True))(
      ours, jnp.asarray(images.transpose(0, 2, 3, 1)))
  np.testing.assert_allclose(out.tokens, want.last_hidden_state.numpy(), atol=1e-4, rtol=0)
  np.testing.assert_allclose(out.pooled, want.pooler_output.numpy(), atol=1e-4, rtol=0)
  assert out.attention is None
  assert len(out.hidden_states) == len(want.hidden_states) == 3
  for got, exp in zip(out.hidden_states, want.hidden_states):
    np.testing.assert_allclose(got, exp.numpy(), atol=1e-4, rtol=0)


def test_v5_in_memory_names_are_accepted(tmp_path):
  ref = _save(tmp_path)
  # transformers v5 names its modules layers.{i}.attention.q_proj...: a file written
  # straight from state_dict() uses them.
  state = {k: v.numpy() for k, v in ref.state_dict().items()}
  assert any(k.startswith('layers.0.attention.q_proj') for k in state)
  safetensors.numpy.save_file(state, tmp_path / 'model.safetensors')
  ours, _ = convert_vit.load_vit(str(tmp_path), pooler='tanh')
  images = _images()
  with torch.no_grad():
    want = ref(torch.tensor(images)).pooler_output.numpy()
  got = nnx.jit(lambda m, x: m(x).pooled)(ours, jnp.asarray(images.transpose(0, 2, 3, 1)))
  np.testing.assert_allclose(got, want, atol=1e-4)


def test_backbone_overrides_and_init_backbone_from(tmp_path):
  ref = _save(tmp_path)
  # The path the factory takes: overrides onto a copy of config.model, then the backbone.
  overrides = convert_backbone.backbone_config_overrides(str(tmp_path))
  assert overrides == dict(patch_size=4, hidden_size=32, num_layers=2, num_heads=4, mlp_dim=48,
                           layer_norm_eps=1e-12, activation='gelu', pre_layernorm=False,
                           patch_bias=True, final_norm='all')
  config = common.get_config()
  config.data.image_size = 16
  config.model.dtype = 'float32'
  for key, value in overrides.items():
    config.model[key] = value
  clf = ArtClassifier(config.model, {'style': 27, 'genre': 10}, rngs=nnx.Rngs(7))
  head_before = np.asarray(clf.heads['style'].output.kernel[...]).copy()
  convert_backbone.init_backbone_from(clf, str(tmp_path))
  np.testing.assert_array_equal(clf.heads['style'].output.kernel[...], head_before)
  images = _images()
  with torch.no_grad():
    want = ref(torch.tensor(images)).last_hidden_state.numpy()
  np.testing.assert_allclose(clf.backbone(jnp.asarray(images.transpose(0, 2, 3, 1))).tokens,
                             want, atol=1e-4)

  config.model.mlp_dim = 64
  clf = ArtClassifier(config.model, {'style': 27}, rngs=nnx.Rngs(0))
  with pytest.raises(CheckpointError, match=r'intermediate\.dense\.bias.*mlp/fc1/bias is \(64,\)'):
    convert_backbone.init_backbone_from(clf, str(tmp_path))


def test_position_embeddings_follow_the_image_size(tmp_path):
  ref = _save(tmp_path)  # 16 px / patch 4: a 4x4 grid
  config = common.get_config()
  config.data.image_size = 32  # an 8x8 grid
  config.model.dtype = 'float32'
  vit = ArtClassifier(factory.model_config(config, backbone_from=str(tmp_path)),
                      {'style': 27}, rngs=nnx.Rngs(0)).backbone
  convert_vit.load_into_vit(vit, str(tmp_path))
  table = vit.embeddings.position_embeddings[...]
  want = ref.embeddings.position_embeddings.detach().numpy()
  assert table.shape == (1, 65, 32)
  np.testing.assert_array_equal(table[:, 0], want[:, 0])  # CLS position kept
  # Resampling a constant grid gives the same constant: bicubic weights sum to one.
  flat = np.concatenate([want[:, :1], np.full((1, 16, 32), 0.5, np.float32)], axis=1)
  resized = convert_vit.resize_position_embeddings(
      {'embeddings.position_embeddings': flat}, 'vit', vit.config)
  np.testing.assert_allclose(resized['embeddings.position_embeddings'][0, 1:], 0.5, atol=1e-6)


def test_unknown_model_type_is_named(tmp_path):
  _save(tmp_path)
  cfg = json.loads((tmp_path / 'config.json').read_text())
  cfg['model_type'] = 'bert'
  (tmp_path / 'config.json').write_text(json.dumps(cfg))
  with pytest.raises(CheckpointError, match="model_type 'bert'"):
    convert_vit.load_vit(str(tmp_path))


def test_missing_folder_and_files_are_named(tmp_path):
  with pytest.raises(CheckpointError, match='does not exist'):
    convert_vit.load_vit(str(tmp_path / 'nope'))
  (tmp_path / 'config.json').write_text('{}')
  with pytest.raises(CheckpointError, match='no \\*\\.safetensors'):
    convert_vit.load_vit(str(tmp_path))
