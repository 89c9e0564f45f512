"""Every experiment config loads and builds its model (abstractly, no hub access)."""

import glob
import importlib
import os

import jax
import pytest
from flax import nnx

from wikiart_jax import bench
from wikiart_jax.models import build

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, 'configs', '*.py'))
                 if not p.endswith('common.py'))


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_its_model(name, tmp_path):
  config = importlib.import_module(name).get_config()
  config.init_from = ''  # the architecture is spelt out; no hub here
  config.model.caption_decoder.init_from = ''
  model = nnx.eval_shape(lambda: build.build_model(
      config, bench.bench_vocab(), str(tmp_path),
      caption_vocab_size=int(config.bench.caption_vocab_size)))
  params = sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
  assert params > 0
  assert (model.captioner is None) == (config.model.captioner == 'none')


def test_the_big_configs_have_their_published_sizes():
  sizes = {}
  for name in ('vit_b16_multitask', 'vit_l14_clip_multitask', 'clip_l14_git_caption'):
    config = importlib.import_module(name).get_config()
    config.init_from = ''
    config.model.caption_decoder.init_from = ''
    model = nnx.eval_shape(lambda c=config: build.build_model(
        c, bench.bench_vocab(), caption_vocab_size=int(c.bench.caption_vocab_size)))
    sizes[name] = {part: sum(x.size for x in jax.tree.leaves(nnx.state(getattr(model, part),
                                                                        nnx.Param)))
                   for part in ('backbone', 'captioner') if getattr(model, part) is not None}
  assert round(sizes['vit_b16_multitask']['backbone'] / 1e6) == 86  # ViT-B/16 without pooler
  assert round(sizes['vit_l14_clip_multitask']['backbone'] / 1e6) == 303  # CLIP L/14 vision
  git = sizes['clip_l14_git_caption']
  assert git['backbone'] == sizes['vit_l14_clip_multitask']['backbone']
  # GIT-large's text side: 6 BERT layers of 768, 30,522 tokens in and out, 1,024 positions,
  # the visual projection from 1,024; its embedding and output are not tied in the files.
  layer = 4 * (768 * 768 + 768) + 2 * 768 * 3072 + 3072 + 768 + 4 * 768
  want = (6 * layer + 30522 * 768 + 1024 * 768 + 2 * 768 + 1024 * 768 + 768 + 2 * 768
          + 768 * 30522 + 30522)
  assert git['captioner'] == want
