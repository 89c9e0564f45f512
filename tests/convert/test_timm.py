"""timm checkpoints -> our ViT: timm's own outputs on its own fixtures, and the real key lists.

The fixtures in ../shared/timm-fixtures were written by timm itself (see their
README); the tests skip where ../shared is absent.
"""

import json
import os

import demo
import numpy as np
import pytest
from flax import nnx

from conftest import ROOT
from wikiart_jax import factory
from wikiart_jax.convert import assign
from wikiart_jax.convert import backbone as convert_backbone
from wikiart_jax.convert import timm as convert_timm
from wikiart_jax.core import CheckpointError
from wikiart_jax.models.vit import ViT, ViTConfig

FIXTURES = os.path.join(os.path.dirname(ROOT), 'shared', 'timm-fixtures')
ARCHS = ('vit_base_patch16_224', 'vit_base_patch16_clip_224', 'vit_small_patch14_dinov2')
needs_fixtures = pytest.mark.skipif(not os.path.isdir(FIXTURES),
                                    reason='../shared/timm-fixtures is absent')


@needs_fixtures
@pytest.mark.parametrize('arch', ARCHS)
def test_tokens_and_pooled_equal_timms(arch):
  folder = os.path.join(FIXTURES, arch)
  reference = np.load(os.path.join(folder, 'reference.npz'))
  vit, fields = convert_timm.load_timm_vit(folder)
  out = nnx.jit(lambda m, x: m(x))(vit, reference['pixels_nhwc'])
  np.testing.assert_allclose(out.tokens, reference['tokens'], atol=1e-4, rtol=0)
  np.testing.assert_allclose(out.pooled, reference['pooled'], atol=1e-4, rtol=0)
  assert fields['layer_scale'] == arch.endswith('dinov2')
  assert fields['pre_layernorm'] == ('_clip_' in arch)
  assert fields['patch_bias'] == ('_clip_' not in arch)
  assert fields['layer_norm_eps'] == (1e-5 if '_clip_' in arch else 1e-6)


@needs_fixtures
def test_a_classifier_starts_from_a_timm_folder_with_its_architecture():
  folder = os.path.join(FIXTURES, 'vit_small_patch14_dinov2')
  config = demo.get_config('tiny')
  config.init_from = folder
  config.data.image_size = 28
  model = factory.build_model(config, _vocab())
  assert model.backbone.config.layer_scale and model.backbone.config.patch_size == 14
  reference = np.load(os.path.join(folder, 'reference.npz'))
  np.testing.assert_allclose(model.backbone(reference['pixels_nhwc']).pooled,
                             reference['pooled'], atol=1e-4)
  assert config.model.patch_size is None  # the experiment config was not written


def _vocab():
  from wikiart_jax.data import metadata  # pylint: disable=g-import-not-at-top
  return metadata.Vocabularies.build([('a-b', None)])


# How each transform changes a shape (the real checkpoints are key lists, no weights).
_SHAPES = {assign.keep: lambda s: tuple(s), assign.linear: lambda s: tuple(s[::-1]),
           assign.conv: lambda s: (s[2], s[3], s[1], s[0])}


def _split_qkv_shapes(keys: dict) -> dict:
  out = {}
  for key, shape in keys.items():
    if '.attn.qkv.' in key:
      for name in 'qkv':
        out[key.replace('.qkv.', f'.{name}.')] = [shape[0] // 3, *shape[1:]]
    else:
      out[key] = shape
  return out


@needs_fixtures
@pytest.mark.parametrize('arch', ['vit_base_patch16_224', 'vit_base_patch16_clip_224',
                                  'vit_large_patch14_clip_224', 'vit_base_patch14_dinov2',
                                  'vit_large_patch14_dinov2'])
def test_real_size_key_lists_map_completely(arch):
  with open(os.path.join(FIXTURES, 'real_size_keys.json'), encoding='utf-8') as f:
    keys = json.load(f)[arch]
  cfg = ViTConfig(**convert_timm.config_fields({'architecture': arch}))
  vit = nnx.eval_shape(lambda: ViT(cfg, rngs=nnx.Rngs(0)))
  params = {tuple(p): v.shape for p, v in nnx.to_flat_state(nnx.state(vit, nnx.Param))}
  tensors = {k: v for k, v in _split_qkv_shapes(keys).items() if not k.startswith('head.')}
  mapping = convert_timm.mapping(cfg)
  assert set(tensors) == set(mapping), set(tensors) ^ set(mapping)  # no key left over
  assert {path for path, _ in mapping.values()} == set(params)  # every parameter written
  for key, (path, transform) in mapping.items():
    assert _SHAPES[transform](tensors[key]) == tuple(params[path]), key


def test_registers_take_no_position_and_leave_the_output():
  fields = convert_timm.config_fields({'architecture': 'vit_base_patch14_reg4_dinov2',
                                       'model_args': dict(img_size=28, embed_dim=32, depth=1,
                                                          num_heads=2)})
  assert fields['registers'] == 4 and not fields['position_on_class']
  cfg = ViTConfig(**fields)
  vit = ViT(cfg, rngs=nnx.Rngs(0))
  assert vit.embeddings.position_embeddings.shape == (1, 4, 32)  # the 2x2 patches only
  out = vit(np.zeros((1, 28, 28, 3), np.float32), return_attention=True)
  assert out.tokens.shape == (1, 5, 32)  # CLS + 4 patches: the registers are dropped
  assert out.attention[0].shape == (1, 2, 9, 9)  # inside the blocks: CLS, 4 registers, 4
  assert cfg.sequence_length == 9


def test_position_table_is_resampled_to_the_image_size():
  table = np.random.default_rng(0).normal(size=(1, 1 + 16, 8)).astype(np.float32)
  table[0, 1:] = 0.25  # a constant grid resamples to the same constant
  resized = convert_timm.convert_vit.resample_positions(table, 1, 6)
  assert resized.shape == (1, 37, 8)
  np.testing.assert_array_equal(resized[0, 0], table[0, 0])
  np.testing.assert_allclose(resized[0, 1:], 0.25, atol=1e-6)
  assert convert_timm.convert_vit.resample_positions(table, 1, 4) is table


@pytest.mark.parametrize('architecture, message', [
    ('vit_giant_patch14_dinov2', 'not supported'),
    ('resnet50', 'not supported'),
])
def test_unsupported_architectures_are_named(architecture, message):
  with pytest.raises(CheckpointError, match=message):
    convert_timm.config_fields({'architecture': architecture})
  assert convert_timm.is_timm({'architecture': architecture})
  assert not convert_timm.is_timm({'model_type': 'vit'})


def test_average_pooling_is_refused():
  with pytest.raises(CheckpointError, match="global_pool='token'"):
    convert_timm.config_fields({'architecture': 'vit_base_patch16_224',
                                'model_args': {'global_pool': 'avg'}})


@needs_fixtures
def test_backbone_dispatch_reads_timm_and_hugging_face_alike():
  fields = convert_backbone.config_fields(os.path.join(FIXTURES, 'vit_base_patch16_224'))
  assert fields['image_size'] == 32 and fields['hidden_size'] == 64
  assert fields['final_norm'] == 'all' and not fields['layer_scale']
