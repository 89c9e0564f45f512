"""A model's parts: split once, merged back with the same or other parameters."""

import jax
import numpy as np
from flax import nnx

from wikiart_jax.models import parts as parts_lib


class _WithBuffer(nnx.Module):
  def __init__(self):
    self.linear = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
    self.calls = nnx.Variable(np.zeros((), np.int32))  # not a parameter: goes to `rest`

  def __call__(self, x):
    return self.linear(x)


def test_split_puts_parameters_apart_and_merge_restores_the_model():
  model = _WithBuffer()
  parts = parts_lib.split(model)
  assert {'linear'} == set(parts.params.keys()) and 'calls' in parts.rest
  x = np.ones((1, 3), np.float32)
  np.testing.assert_array_equal(parts.merge()(x), model(x))
  doubled = jax.tree.map(lambda p: 2 * p, parts.params)
  np.testing.assert_allclose(parts.merge(doubled)(x), 2 * model(x))
  swapped = parts.with_params(doubled)
  assert swapped.graphdef is parts.graphdef and swapped.params is doubled
  np.testing.assert_allclose(swapped.merge()(x), 2 * model(x))
