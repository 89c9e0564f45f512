"""Attention rollout against hand-computed values and an explicit-loop reference."""

import jax
import numpy as np
import pytest
from flax import nnx

from wikiart_jax.inference import rollout
from wikiart_jax.models import classifier
from wikiart_jax.models import parts as parts_lib


def test_two_layers_by_hand():
  # Layer 1, two heads; their mean is [[1, 0], [.5, .5]].
  # + I -> [[2, 0], [.5, 1.5]]; rows / sums -> [[1, 0], [.25, .75]].
  layer1 = np.array([[[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 0.0]]]])
  # Layer 2, one head [[0, 1], [1, 0]]; + I -> all ones; rows / 2 -> all .5.
  layer2 = np.array([[[[0.0, 1.0], [1.0, 0.0]]]])
  # A2' @ A1' = [[.5 + .125, .375], ...]; the other order would give all .5.
  expected = np.array([[[0.625, 0.375], [0.625, 0.375]]])
  got = rollout.rollout([layer1, layer2])
  np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6)


def _loop_reference(attentions):
  """Abnar & Zuidema rollout with explicit loops (no shared code with the module)."""
  batch, heads, n, _ = attentions[0].shape
  out = np.zeros((batch, n, n))
  for b in range(batch):
    joint = np.eye(n)
    for layer in attentions:
      a = np.zeros((n, n))
      for h in range(heads):
        a += layer[b, h] / heads
      for i in range(n):
        a[i, i] += 1.0
      for i in range(n):
        a[i] /= a[i].sum()
      new = np.zeros((n, n))
      for i in range(n):
        for j in range(n):
          new[i, j] = np.dot(a[i], joint[:, j])
      joint = new
    out[b] = joint
  return out


def _random_attention(rng, shape):
  logits = rng.normal(size=shape) * 2.0
  e = np.exp(logits - logits.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def test_three_layers_against_loops_and_patch_map():
  rng = np.random.default_rng(0)
  layers = [_random_attention(rng, (2, 3, 5, 5)) for _ in range(3)]
  rolled = np.asarray(rollout.rollout([x.astype(np.float32) for x in layers]))
  reference = _loop_reference(layers)
  np.testing.assert_allclose(rolled, reference, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(rolled.sum(-1), 1.0, rtol=1e-5)

  maps = np.asarray(rollout.cls_patch_map(rolled))
  assert maps.shape == (2, 2, 2)
  for b in range(2):
    row = reference[b, 0, 1:]
    scaled = (row - row.min()) / (row.max() - row.min())
    np.testing.assert_allclose(maps[b], scaled.reshape(2, 2), rtol=1e-4, atol=1e-5)


def test_bad_shapes_are_one_line_errors():
  with pytest.raises(ValueError, match='at least one layer'):
    rollout.rollout([])
  with pytest.raises(ValueError, match=r'\[B,heads,N,N\]'):
    rollout.rollout([np.ones((1, 4, 4))])
  with pytest.raises(ValueError, match='square grid'):
    rollout.cls_patch_map(np.ones((1, 4, 4)))


def test_overlay_and_colorize():
  ramp_ends = rollout.colorize(np.array([[0.0, 1.0]]))
  np.testing.assert_array_equal(ramp_ends[0, 0], rollout._RAMP[0])
  np.testing.assert_array_equal(ramp_ends[0, 1], rollout._RAMP[-1])
  # A 60x40 image: the overlay covers its centre 40x40 square.
  rgb = np.zeros((40, 60, 3), np.uint8)
  rgb[:, 10:50] = 200  # the centre crop is uniform grey 200
  heat = np.array([[0.0, 1.0], [0.0, 1.0]], np.float32)
  out = rollout.overlay(rgb, heat, size=32, alpha=0.5)
  assert out.shape == (32, 32, 3) and out.dtype == np.uint8
  left = (200 + rollout._RAMP[0]) / 2
  right = (200 + rollout._RAMP[-1]) / 2
  np.testing.assert_allclose(out[16, 0], left, atol=1)
  np.testing.assert_allclose(out[16, -1], right, atol=1)


def test_rollout_fn_on_a_two_layer_vit():
  from demo import get_config  # configs/ is on sys.path (tests/conftest.py)
  model_config = get_config('tiny').model
  model_config.num_layers = 2
  model = classifier.ArtClassifier(model_config, {'style': 27, 'artist': 7, 'genre': 10},
                                   rngs=nnx.Rngs(params=0))
  size = model_config.image_size
  parts = parts_lib.split(model)
  images = jax.random.normal(jax.random.key(1), (2, size, size, 3))
  maps = rollout.make_rollout_fn(parts)(parts.params, images)

  _, aux = model(images, return_attention=True)  # eager, outside jit
  assert len(aux['attention']) == 2
  reference = _loop_reference([np.asarray(a, np.float64) for a in aux['attention']])
  row = reference[:, 0, 1:]
  lo, hi = row.min(-1, keepdims=True), row.max(-1, keepdims=True)
  grid = size // model.backbone.config.patch_size
  want = ((row - lo) / (hi - lo)).reshape(2, grid, grid)
  assert maps.shape == (2, grid, grid)
  np.testing.assert_allclose(np.asarray(maps), want, atol=1e-4)
