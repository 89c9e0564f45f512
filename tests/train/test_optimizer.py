"""Optimizer: per-stage schedules, and frozen leaves that really stay frozen."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest
from flax import nnx

from wikiart_jax.train import optimizer
from wikiart_jax.train import stages


def _train_config(**overrides):
  config = ml_collections.ConfigDict(dict(
      num_steps=100, warmup_steps=10, learning_rate=1e-2, weight_decay=0.1,
      grad_clip_norm=1.0, backbone_learning_rate=1e-3, layer_decay=1.0,
      stages='', stage_unit='step', stage_warmup_steps=0, adam_mu_dtype=''))
  config.update(overrides)
  return config


class _Model(nnx.Module):
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


def test_schedule_warms_up_then_decays_to_zero():
  schedule = optimizer.make_schedule(_train_config())
  assert float(schedule(0)) == 0.0
  np.testing.assert_allclose(float(schedule(5)), 5e-3, rtol=1e-6)
  np.testing.assert_allclose(float(schedule(10)), 1e-2, rtol=1e-6)
  # Half-way through the cosine part the rate is half the peak.
  np.testing.assert_allclose(float(schedule(55)), 5e-3, rtol=1e-5)
  assert float(schedule(100)) == pytest.approx(0.0, abs=1e-9)


def test_later_stage_schedule_counts_from_the_stage_start():
  # optax calls it with the new optimizer state's own count: 0 at the stage start.
  stage = stages.Stage(start=40, end=100, blocks=2)
  schedule = optimizer.make_schedule(_train_config(stage_warmup_steps=0), stage, peak=1e-3)
  np.testing.assert_allclose(float(schedule(0)), 1e-3, rtol=1e-6)
  np.testing.assert_allclose(float(schedule(30)), 5e-4, rtol=1e-5)
  assert float(schedule(60)) == pytest.approx(0.0, abs=1e-12)


def test_stage_parsing_and_errors():
  config = _train_config(stages='0:heads, 30:last2, 60:all')
  assert stages.parse(config) == [stages.Stage(0, 30, 0), stages.Stage(30, 60, 2),
                                  stages.Stage(60, 100, -1)]
  assert stages.parse(_train_config(stages='0:heads,2:last1', stage_unit='epoch'),
                      steps_per_epoch=7)[1].start == 14
  assert stages.index_at(stages.parse(config), 45) == 1
  for bad in ('5:heads', '0:heads, 0:all', '0:top3'):
    with pytest.raises(ValueError, match='train.stages'):
      stages.parse(_train_config(stages=bad))


def test_groups_follow_the_stage():
  _, params = nnx.split(_Model(), nnx.Param)
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


def test_frozen_leaves_bit_identical_and_stateless():
  model = _Model()
  graphdef, params = nnx.split(model, nnx.Param)
  stage = stages.Stage(0, 100, 1)
  tx = optimizer.make_optimizer(_train_config(), params, stage, num_layers=3)
  opt_state = tx.init(params)
  labels = stages.labels(params, stage, 3)
  trainable = stages.trainable_mask(labels)
  n_train = sum(x.size for x, t in zip(jax.tree.leaves(params), jax.tree.leaves(trainable)) if t)
  n_all = sum(x.size for x in jax.tree.leaves(params))
  # Adam keeps mu and nu for the trainable leaves only.
  n_state = sum(x.size for x in jax.tree.leaves(opt_state) if x.ndim > 0)
  assert n_state == 2 * n_train < 2 * n_all

  x = jax.random.normal(jax.random.key(0), (8, 3))

  def loss(p):
    p = jax.tree.map(lambda v, t: v if t else jax.lax.stop_gradient(v), p, trainable)
    return jnp.mean(nnx.merge(graphdef, p)(x) ** 2)

  start = jax.tree.map(np.array, params)
  for _ in range(3):
    grads = jax.grad(loss)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
  for before, after, t in zip(jax.tree.leaves(start), jax.tree.leaves(params),
                              jax.tree.leaves(trainable)):
    if t:
      assert not np.array_equal(before, np.asarray(after))
    else:
      np.testing.assert_array_equal(before, np.asarray(after))  # bit-identical
