"""Activation functions by their Hugging Face names, shared by every model here."""

import functools
from typing import Callable

import jax

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    'gelu': functools.partial(jax.nn.gelu, approximate=False),
    'gelu_new': functools.partial(jax.nn.gelu, approximate=True),
    'gelu_pytorch_tanh': functools.partial(jax.nn.gelu, approximate=True),
    'gelu_tanh': functools.partial(jax.nn.gelu, approximate=True),
    'quick_gelu': lambda x: x * jax.nn.sigmoid(1.702 * x),
    'relu': jax.nn.relu,
}


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
  """Returns the activation called `name` (Hugging Face spelling)."""
  if name not in ACTIVATIONS:
    raise ValueError(f'Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}.')
  return ACTIVATIONS[name]
