"""Staged unfreezing: parsing the stages, and the group of every parameter in each."""

import jax
import ml_collections
import pytest
from flax import nnx

from wikiart_jax.train import stages


def train_config(**overrides):
  """The config.train fields the optimizer and the stages read."""
  config = ml_collections.ConfigDict(dict(
      num_steps=100, warmup_steps=10, learning_rate=1e-2, weight_decay=0.1,
      grad_clip_norm=1.0, backbone_learning_rate=1e-3, layer_decay=1.0,
      stages='', stage_unit='step', stage_warmup_steps=0, adam_mu_dtype=''))
  config.update(overrides)
  return config


class NamedLikeTheClassifier(nnx.Module):
  """Named like the classifier: backbone/layers/<i>/..., backbone/layernorm, heads/..."""

  def __init__(self):
    rngs = nnx.Rngs(0)
    self.backbone = nnx.Dict(
        embeddings=nnx.Linear(3, 4, rngs=rngs),
        layers=nnx.List([nnx.Linear(4, 4, rngs=rngs) for _ in range(3)]),
        layernorm=nnx.LayerNorm(4, rngs=rngs))
    self.heads = nnx.Dict(style=nnx.Linear(4, 2, rngs=rngs))

  def __call__(self, x):
    x = self.backbone['embeddings'](x)
    for layer in self.backbone['layers']:
      x = jax.nn.relu(layer(x))
    return self.heads['style'](self.backbone['layernorm'](x))


def test_stage_parsing_and_errors():
  config = train_config(stages='0:heads, 30:last2, 60:all')
  assert stages.parse(config) == [stages.Stage(0, 30, 0), stages.Stage(30, 60, 2),
                                  stages.Stage(60, 100, -1)]
  assert stages.parse(train_config(stages='0:heads,2:last1', stage_unit='epoch'),
                      steps_per_epoch=7)[1].start == 14
  assert stages.index_at(stages.parse(config), 45) == 1
  for bad in ('5:heads', '0:heads, 0:all', '0:top3'):
    with pytest.raises(ValueError, match='train.stages'):
      stages.parse(train_config(stages=bad))


def test_groups_follow_the_stage():
  _, params = nnx.split(NamedLikeTheClassifier(), nnx.Param)
  names = lambda labels: {stages.path_name(p): v for p, v in
                          jax.tree_util.tree_flatten_with_path(labels)[0]}
  heads_only = names(stages.labels(params, stages.Stage(0, 10, 0), 3))
  assert set(heads_only.values()) == {'heads', 'frozen'}
  assert heads_only['heads/style/kernel'] == 'heads'
  last1 = names(stages.labels(params, stages.Stage(0, 10, 1), 3))
  assert last1['backbone/layers/2/kernel'] == 'backbone'
  assert last1['backbone/layernorm/scale'] == 'backbone'
  assert last1['backbone/layers/1/kernel'] == 'frozen'
  assert last1['backbone/embeddings/kernel'] == 'frozen'
  decayed = names(stages.labels(params, stages.Stage(0, 10, -1), 3, layer_decay=0.5))
  assert decayed['backbone/layers/0/kernel'] == 'backbone_0'
  assert stages.learning_rate_scale('backbone_0', 3, 0.5) == 0.25
  assert stages.learning_rate_scale(decayed['backbone/embeddings/kernel'], 3, 0.5) == 0.125
