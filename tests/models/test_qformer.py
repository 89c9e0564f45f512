"""The Q-Former's own behaviour (its outputs equal transformers' inside BLIP-2:
tests/convert/test_blip2.py): shapes, cross-attention layers, the image read."""

import jax
import numpy as np
import pytest
from flax import nnx

from wikiart_jax.models.qformer import QFormer, QFormerConfig

CFG = QFormerConfig(hidden_size=16, num_layers=3, num_heads=2, mlp_dim=24, encoder_hidden_size=12,
                    cross_attention_frequency=2)


@pytest.fixture(scope='module')
def qformer():
  return QFormer(CFG, rngs=nnx.Rngs(0))


def test_queries_out_one_per_query_reading_the_image(qformer):  # pylint: disable=redefined-outer-name
  queries = jax.random.normal(jax.random.key(1), (2, 4, CFG.hidden_size))
  image = jax.random.normal(jax.random.key(2), (2, 7, CFG.encoder_hidden_size))
  out = qformer(queries, image)
  assert out.shape == (2, 4, CFG.hidden_size)  # num_query_tokens x hidden, whatever N
  assert qformer(queries, image[:, :3]).shape == (2, 4, CFG.hidden_size)
  other = qformer(queries, image.at[1].set(image[1] * -1.0))
  np.testing.assert_allclose(other[0], out[0], atol=1e-6)  # rows stay apart
  assert not np.allclose(other[1], out[1], atol=1e-3)
  # Cross-attention: the image tokens' order does not matter.
  np.testing.assert_allclose(qformer(queries, image[:, ::-1]), out, atol=1e-5)


def test_cross_attention_every_frequency_th_layer(qformer):  # pylint: disable=redefined-outer-name
  assert [layer.crossattention is not None for layer in qformer.layers] == [True, False, True]
  assert qformer.layers[0].crossattention.key.kernel.shape == (CFG.encoder_hidden_size,
                                                               CFG.hidden_size)


def test_bad_sizes_are_refused():
  with pytest.raises(ValueError, match='cross_attention_frequency must be >= 1, got 0'):
    QFormerConfig(cross_attention_frequency=0)
  with pytest.raises(ValueError, match='hidden_size 10 is not divisible by num_heads 3'):
    QFormerConfig(hidden_size=10, num_heads=3)
