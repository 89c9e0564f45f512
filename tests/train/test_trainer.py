"""The trainer set-up shared by the loop and bench: one optimizer and step per stage."""

import demo
import jax
import numpy as np

from wikiart_jax import factory
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
