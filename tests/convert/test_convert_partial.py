"""load_partial: only the listed key prefixes are loaded, strictly; others are untouched."""

import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file
import torch
import transformers
from flax import nnx

from wikiart_jax import convert
from wikiart_jax.convert import clip as convert_clip
from wikiart_jax.models.clip import CLIP
from wikiart_jax.models.vit import ViT, ViTConfig

VISION = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
              image_size=8, patch_size=4)


@pytest.fixture(scope='module')
def clip_folder(tmp_path_factory):
  folder = tmp_path_factory.mktemp('clip')
  torch.manual_seed(0)
  model = transformers.CLIPModel(transformers.CLIPConfig(
      text_config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=32, vocab_size=40, max_position_embeddings=8),
      vision_config=VISION, projection_dim=8))
  model.save_pretrained(folder)
  return folder, model


def test_partial_clip_vision_only(clip_folder):
  folder, ref = clip_folder
  hf = convert.hub.read_config(str(folder))
  ours = CLIP(convert_clip.config_from_hf(hf), rngs=nnx.Rngs(1))
  text_before = np.asarray(ours.text_model.final_layer_norm.bias[...]).copy()
  loaded = convert.load_partial(ours, str(folder), include=['vision_model.'])
  assert loaded and all(k.startswith('vision_model.') for k in loaded)
  np.testing.assert_array_equal(ours.text_model.final_layer_norm.bias[...], text_before)
  np.testing.assert_array_equal(
      ours.vision_model.layers[1].mlp.fc2.kernel[...],
      ref.vision_model.encoder.layers[1].mlp.fc2.weight.detach().numpy().T)


def test_partial_vit_tower_one_block(clip_folder):
  folder, ref = clip_folder
  fields = convert.vit.config_fields(convert.hub.read_config(str(folder)))
  ours = ViT(ViTConfig(**fields), rngs=nnx.Rngs(2))
  untouched = np.asarray(ours.layers[1].attention.query.kernel[...]).copy()
  convert.load_partial(ours, str(folder), include=['encoder.layers.0.'])
  np.testing.assert_array_equal(
      ours.layers[0].attention.query.kernel[...],
      ref.vision_model.encoder.layers[0].self_attn.q_proj.weight.detach().numpy().T)
  np.testing.assert_array_equal(ours.layers[1].attention.query.kernel[...], untouched)


def test_partial_needs_prefixes_and_a_known_model(clip_folder):
  folder, _ = clip_folder
  ours = CLIP(convert_clip.config_from_hf(convert.hub.read_config(str(folder))),
              rngs=nnx.Rngs(1))
  with pytest.raises(convert.CheckpointError, match='at least one key prefix'):
    convert.load_partial(ours, str(folder), include=[])
  with pytest.raises(TypeError, match='no checkpoint converter for Linear'):
    convert.load_partial(nnx.Linear(2, 2, rngs=nnx.Rngs(0)), str(folder), include=['x'])


def test_full_load_refuses_a_vision_only_checkpoint(clip_folder, tmp_path):
  # A CLIP checkpoint without its text tower is not silently half-loaded.
  folder, _ = clip_folder
  shutil.copy(folder / 'config.json', tmp_path / 'config.json')
  tensors = {k: v for k, v in load_file(folder / 'model.safetensors').items()
             if not k.startswith('text_model.')}
  save_file(tensors, tmp_path / 'model.safetensors')
  with pytest.raises(convert.CheckpointError, match="missing checkpoint key 'text_model"):
    convert.load_clip(str(tmp_path))
