"""The heads: zero-initialised linear / MLP heads, the pooled tag head, the hierarchical style head."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import common  # configs/common.py
from wikiart_jax.models import heads as heads_lib

from conftest import randomize as _randomize

# The 27 styles in an order unrelated to the families, as a vocabulary would be.
STYLE_NAMES = sorted(s for members in common.STYLE_FAMILIES.values() for s in members)


def test_a_new_head_predicts_the_uniform_distribution_or_its_prior_in_float32():
  head = heads_lib.MLPHead(8, 5, hidden=16, dropout=0.5, rngs=nnx.Rngs(0))
  x = jax.random.normal(jax.random.key(0), (3, 8), jnp.bfloat16)
  logits = head(x)
  assert logits.dtype == jnp.float32 and logits.shape == (3, 5)
  np.testing.assert_array_equal(logits, 0.0)  # zero-initialised output: uniform softmax
  prior = heads_lib.MLPHead(8, 4, bias_init=-2.0, rngs=nnx.Rngs(0))
  assert prior.hidden is None
  np.testing.assert_array_equal(prior(x), -2.0)


def test_the_hidden_layer_is_linear_gelu_dropout_linear():
  head = heads_lib.MLPHead(8, 3, hidden=6, dropout=0.5, rngs=nnx.Rngs(0))
  _randomize(head)
  x = np.asarray(jax.random.normal(jax.random.key(1), (4, 8)), np.float64)
  kernel = lambda layer: np.asarray(layer.kernel[...], np.float64)
  bias = lambda layer: np.asarray(layer.bias[...], np.float64)
  hidden = x @ kernel(head.hidden) + bias(head.hidden)
  gelu = 0.5 * hidden * (1 + np.vectorize(math.erf)(hidden / np.sqrt(2)))
  want = gelu @ kernel(head.output) + bias(head.output)
  np.testing.assert_allclose(head(x.astype(np.float32)), want, rtol=1e-5, atol=1e-5)
  # Dropout acts only when asked, with the caller's key.
  noisy = head(x.astype(np.float32), deterministic=False, rngs=nnx.Rngs(dropout=3))
  assert not np.allclose(noisy, want, atol=1e-3)


def test_a_head_without_classes_is_refused():
  with pytest.raises(ValueError, match='at least one class, got 0'):
    heads_lib.MLPHead(8, 0, rngs=nnx.Rngs(0))


def test_family_index_maps_the_vocabulary_order():
  families, style_to_family = heads_lib.style_family_index(
      STYLE_NAMES, common.STYLE_FAMILIES)
  assert families == list(common.STYLE_FAMILIES)
  for name, f in zip(STYLE_NAMES, style_to_family):
    assert name in common.STYLE_FAMILIES[families[f]]


@pytest.mark.parametrize('families, match', [
    ({'a': ['x', 'y'], 'b': ['z', 'nope']}, "'nope' of family 'b' is not in"),
    ({'a': ['x', 'y'], 'b': ['y', 'z']}, "'y' is in two families"),
    ({'a': ['x', 'y']}, r"in no family.*\['z'\]"),
    ({'a': ['x', 'y', 'z'], 'b': []}, "'b' has no style"),
])
def test_family_index_errors(families, match):
  with pytest.raises(ValueError, match=match):
    heads_lib.style_family_index(['x', 'y', 'z'], families)


def test_hierarchical_gradients_are_finite():
  head = heads_lib.HierarchicalStyleHead(8, STYLE_NAMES, common.STYLE_FAMILIES,
                                         rngs=nnx.Rngs(0))
  _randomize(head, scale=30.0)  # saturated softmaxes
  x = jax.random.normal(jax.random.key(1), (4, 8))
  grads = nnx.grad(lambda h: h(x)[0][:, 3].sum())(head)
  assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))


def test_pooled_tag_head_is_a_log_sum_exp_over_the_tokens():
  head = heads_lib.PooledTagHead(8, 3, bias_init=-1.0, sharpness=5.0, rngs=nnx.Rngs(0))
  _randomize(head.scores)
  tokens = jax.random.normal(jax.random.key(2), (2, 6, 8))
  scores = np.asarray(head.scores(tokens), np.float64)  # [2, 6, 3]
  want = np.log(np.mean(np.exp(5.0 * scores), axis=1)) / 5.0 - 1.0
  np.testing.assert_allclose(head(tokens), want, rtol=1e-5, atol=1e-6)
  # One token that sees a tag strongly raises it, as a maximum would.
  tokens = jnp.zeros((1, 6, 8)).at[0, 3].set(10.0 * head.scores.output.kernel[...][:, 0])
  logits = head(tokens)
  assert logits[0, 0] > logits[0, 1] + 1.0
