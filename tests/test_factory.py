"""The factory: a run's model from its config and checkpoints, never writing the config."""

import common
import demo
import numpy as np
import pytest
import torch
import transformers
from flax import nnx

from wikiart_jax import factory
from wikiart_jax.data import metadata

VIT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
           image_size=16, patch_size=4)


@pytest.fixture(scope='module')
def hf_vit(tmp_path_factory):
  folder = tmp_path_factory.mktemp('vit')
  torch.manual_seed(0)
  model = transformers.ViTModel(transformers.ViTConfig(**VIT), add_pooling_layer=False).eval()
  model.save_pretrained(folder)
  return str(folder), model


def _config(init_from=''):
  config = demo.get_config('tiny')
  config.data.image_size = 16
  config.init_from = init_from
  return config


def _vocab():
  return metadata.Vocabularies.build([('claude-monet', 'Claude Monet'), ('jan-steen', None)])


def test_the_checkpoint_decides_the_backbone_and_the_config_stays_as_it_was(hf_vit):
  folder, ref = hf_vit
  config = _config(folder)
  before = config.to_dict()
  model = factory.build_model(config, _vocab())
  assert config.to_dict() == before  # nothing written into the caller's config
  cfg = model.backbone.config
  assert (cfg.hidden_size, cfg.num_layers, cfg.mlp_dim, cfg.patch_size) == (32, 2, 48, 4)
  images = np.random.default_rng(0).normal(size=(2, 3, 16, 16)).astype(np.float32)
  with torch.no_grad():
    want = ref(torch.tensor(images)).last_hidden_state.numpy()
  np.testing.assert_allclose(model.backbone(images.transpose(0, 2, 3, 1)).tokens, want,
                             atol=1e-4)
  # The heads start fresh (zero-initialised) whatever the checkpoint holds.
  assert not np.asarray(model.heads['style'].output.kernel[...]).any()
  assert model.captioner is None


def test_model_config_is_a_copy_with_the_checkpoint_architecture(hf_vit):
  folder, _ = hf_vit
  config = _config(folder)
  model_cfg = factory.model_config(config)
  assert model_cfg.hidden_size == 32 and model_cfg.num_layers == 2
  assert config.model.hidden_size is None and config.model.variant == 'tiny'
  assert factory.model_config(config, backbone_from='').hidden_size is None


def test_backbone_from_empty_builds_the_configs_own_sizes(hf_vit):
  folder, _ = hf_vit
  config = _config('/no/such/folder')  # never read
  model = factory.build_model(config, _vocab(), backbone_from='')
  assert model.backbone.config.hidden_size == 64  # demo's 'tiny' variant
  model = factory.build_model(_config(folder), _vocab(), backbone_from='')
  assert model.backbone.config.num_layers == 4


def test_a_captioner_needs_its_tokenizer_or_its_vocabulary_size(tmp_path):
  config = demo.get_config('tiny_caption')
  with pytest.raises(ValueError, match='needs the workdir'):
    factory.build_model(config, _vocab())
  sized = nnx.eval_shape(lambda: factory.build_model(config, _vocab(), caption_vocab_size=77))
  assert sized.captioner.vocab_size == 77
  built = factory.build_model(config, _vocab(), str(tmp_path))
  tokenizer = factory.caption_tokenizer(config, _vocab(), str(tmp_path))
  assert built.captioner.vocab_size == len(tokenizer)
  assert (tmp_path / 'caption_tokenizer' / 'tokenizer.json').exists()


def test_unknown_captioner_is_named():
  config = common.get_config()
  config.model.captioner = 'lstm'
  with pytest.raises(ValueError, match='captioner must be one of'):
    factory.build_captioner(config.model, 8, 10, rngs=nnx.Rngs(0))
  config.model.captioner = 'none'
  assert factory.build_captioner(config.model, 8, 10, rngs=nnx.Rngs(0)) is None
