"""Optimizer: per-stage schedules, and frozen leaves that really stay frozen."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from test_stages import NamedLikeTheClassifier
from test_stages import train_config as _train_config
from wikiart_jax.train import optimizer
from wikiart_jax.train import stages


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


def test_frozen_leaves_bit_identical_and_stateless():
  model = NamedLikeTheClassifier()
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


def test_each_group_steps_at_its_own_learning_rate():
  # One AdamW step from a fresh state moves every parameter with a nonzero gradient
  # by its group's rate (m / sqrt(v) = sign(g) at the first step; no decay here).
  model = NamedLikeTheClassifier()
  graphdef, params = nnx.split(model, nnx.Param)
  config = _train_config(warmup_steps=0, weight_decay=0.0, learning_rate=1e-2,
                         backbone_learning_rate=1e-3, layer_decay=0.5, grad_clip_norm=0.0)
  stage = stages.Stage(0, 100, -1)
  tx = optimizer.make_optimizer(config, params, stage, num_layers=3)
  x = jax.random.normal(jax.random.key(1), (16, 3))
  grads = jax.grad(lambda p: jnp.mean(nnx.merge(graphdef, p)(x) ** 2))(params)
  updates, _ = tx.update(grads, tx.init(params), params)
  labels = stages.labels(params, stage, 3, layer_decay=0.5)
  flat = lambda tree: {stages.path_name(p): v for p, v in
                       jax.tree_util.tree_flatten_with_path(tree)[0]}
  want = {'heads': 1e-2, 'backbone_2': 1e-3, 'backbone_1': 5e-4, 'backbone_0': 2.5e-4,
          'backbone_embed': 1.25e-4}
  seen = set()
  for name, group in flat(labels).items():
    step = np.abs(np.asarray(flat(updates)[name]))
    moved = np.abs(np.asarray(flat(grads)[name])) > 1e-6
    np.testing.assert_allclose(step[moved], want[group], rtol=1e-3, err_msg=name)
    seen.add(group)
  assert seen == set(want)  # the final norm trains at the last block's rate
