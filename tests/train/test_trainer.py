"""The trainer set-up shared by the loop and bench: one optimizer and step per stage."""

import demo
import jax
import numpy as np

from wikiart_jax import factory
from wikiart_jax.core import PERIOD
from wikiart_jax.data import metadata
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding
from wikiart_jax.train import trainer as trainer_lib

VOCAB = metadata.Vocabularies.build([(f'artist-{i}', None) for i in range(5)])


def _with_adam_state(state) -> int:
  """Parameters that have an Adam first moment: those the stage trains."""
  return sum(x.size for path, x in jax.tree_util.tree_leaves_with_path(state.opt_state)
             if any(getattr(k, 'name', None) == 'mu' for k in path))


def test_each_stage_has_its_optimizer_state_and_its_step():
  config = demo.get_config('tiny')
  config.model.num_layers = 2
  config.data.image_size = 16
  config.train.stages = '0:heads, 2:all'
  model = factory.build_model(config, VOCAB)
  parts = parts_lib.split(model)
  trainer = trainer_lib.Trainer(config, parts, sharding.make_mesh(), num_layers=2)
  assert [(s.start, s.blocks) for s in trainer.stages] == [(0, 0), (2, -1)]
  trainer.enter(0)
  state = trainer.init_state(parts.params)
  heads = sum(x.size for x in jax.tree.leaves(parts_lib.split(model.heads).params))
  everything = sum(x.size for x in jax.tree.leaves(parts.params))
  assert _with_adam_state(state) == heads
  assert 'stage 1/2 from step 0: training the heads' in trainer.describe()
  batch = {'image': np.zeros((4, 16, 16, 3), np.float32),
           **{t: np.zeros(4, np.int32) for t in ('style', 'artist', 'genre', 'year', 'period')}}
  state, _ = trainer.step_fn(state, sharding.to_global(batch, sharding.make_mesh()))
  trainer.enter(1)
  state = trainer.reset_optimizer(state)
  assert _with_adam_state(state) == everything and int(state.step) == 1
  assert 'training every parameter' in trainer.describe()
  state, _ = trainer.step_fn(state, sharding.to_global(batch, sharding.make_mesh()))
  assert int(state.step) == 2


def test_a_blip2_step_trains_the_q_former_and_lora_around_a_frozen_int8_lm(tmp_path):
  """BLIP-2 with LoRA and int8 (qwix): only the adapters of the language model train;
  its int8 weights, never differentiated, and the frozen tower stay as they are."""
  import tiny_blip2  # pylint: disable=g-import-not-at-top
  tiny_blip2.save_blip2(tmp_path, 'opt')
  config = demo.get_config('tiny_caption')
  config.model.captioner = 'blip2'
  config.model.caption_decoder.init_from = str(tmp_path)
  config.model.caption_decoder.lora_rank = 2
  config.model.caption_decoder.int8 = True
  config.data.image_size = tiny_blip2.IMAGE_SIZE
  config.data.caption.max_len = 12
  config.train.stages = '0:heads'
  config.train.warmup_steps = 0  # the first step moves what trains
  model = factory.build_model(config, VOCAB, str(tmp_path / 'run'))
  parts = parts_lib.split(model)
  trainer = trainer_lib.Trainer(config, parts, sharding.make_mesh(), num_layers=2)
  trainer.enter(0)
  before = {n: np.asarray(v) for n, v in _named(parts.params).items()}
  state = trainer.init_state(parts.params)
  rng = np.random.default_rng(0)
  batch = {'image': rng.normal(size=(4, 28, 28, 3)).astype(np.float32),
           'caption_tokens': rng.integers(3, 200, (4, 12)).astype(np.int32),
           'caption_mask': np.ones((4, 12), np.int32),
           **{t: np.zeros(4, np.int32) for t in ('style', 'artist', 'genre', 'year', PERIOD)}}
  state, metrics = trainer.step_fn(state, sharding.to_global(batch, sharding.make_mesh()))
  assert np.isfinite(float(metrics.compute()['caption_loss']))
  after = _named(state.params)
  lm = 'captioner/decoder/language_model/'
  int8 = [n for n in after if n.startswith(lm) and after[n].dtype == np.int8]
  lora = [n for n in after if '_lora_b' in n]
  assert int8 and lora
  for name in int8 + [n for n in after if n.startswith('backbone/')]:
    np.testing.assert_array_equal(after[name], before[name], err_msg=name)
  for name in lora + ['captioner/decoder/query_tokens']:
    assert not np.array_equal(after[name], before[name]), name


def _named(params) -> dict:
  from wikiart_jax.train import stages  # pylint: disable=g-import-not-at-top
  return {stages.path_name(p): np.asarray(v)
          for p, v in jax.tree_util.tree_flatten_with_path(params)[0]}
