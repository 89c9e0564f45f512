"""The activations by their Hugging Face names: the same functions as transformers' PyTorch ones."""

import numpy as np
import pytest
import torch
from transformers.activations import ACT2FN

from wikiart_jax.models.activations import ACTIVATIONS, activation


@pytest.mark.parametrize('name', sorted(ACTIVATIONS))
def test_each_activation_equals_transformers(name):
  assert name in ACT2FN or name == 'gelu_tanh'
  x = np.linspace(-6.0, 6.0, 241, dtype=np.float32)
  # 'gelu_tanh' (timm's and some configs' spelling) is not in ACT2FN: torch's tanh GELU.
  reference = (ACT2FN[name] if name in ACT2FN
               else lambda t: torch.nn.functional.gelu(t, approximate='tanh'))
  want = reference(torch.from_numpy(x)).numpy()
  np.testing.assert_allclose(activation(name)(x), want, rtol=1e-5, atol=1e-6)


def test_an_unknown_name_lists_the_known_ones():
  with pytest.raises(ValueError, match=r"Unknown activation 'swish2'; expected one of \['gelu'"):
    activation('swish2')
