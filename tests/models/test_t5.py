"""T5's own behaviour (its logits equal transformers': tests/convert/test_t5.py):
relative buckets, a padding-invariant bidirectional encoder, a causal decoder."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from wikiart_jax.models.t5 import T5Config, T5ForConditionalGeneration, relative_position_bucket

CFG = T5Config(vocab_size=13, d_model=16, d_kv=8, d_ff=24, num_layers=2, num_decoder_layers=2,
               num_heads=2, relative_attention_num_buckets=8, relative_attention_max_distance=16)


@pytest.fixture(scope='module')
def model():
  return T5ForConditionalGeneration(CFG, rngs=nnx.Rngs(0))


def _ids(seed=0, length=6):
  return jax.random.randint(jax.random.key(seed), (2, length), 0, CFG.vocab_size)


def test_relative_buckets():
  rel = jnp.arange(-40, 41)
  causal = np.asarray(relative_position_bucket(rel, bidirectional=False, num_buckets=8,
                                               max_distance=16))
  # Causal: a key after the query (rel > 0) shares bucket 0 with the query itself;
  # exact for distances below 4, then logarithmic, capped at the last bucket.
  np.testing.assert_array_equal(causal[rel >= 0], 0)
  np.testing.assert_array_equal(causal[(rel < 0) & (rel > -4)], -np.asarray(rel)[(rel < 0) & (rel > -4)])
  assert causal.min() == 0 and causal.max() == 7 and causal[0] == 7
  assert np.all(np.diff(causal[rel <= 0]) <= 0)  # farther back, never a smaller bucket
  both = np.asarray(relative_position_bucket(rel, bidirectional=True, num_buckets=8,
                                             max_distance=16))
  # Bidirectional: half the buckets each side, exact below 2.
  assert both[rel == 0] == 0 and both[rel == 1] == 5 and both[rel == -1] == 1
  assert set(both[rel < 0]) <= set(range(4)) and set(both[rel > 0]) <= set(range(4, 8))
  np.testing.assert_array_equal(both[rel > 0] - 4, both[rel < 0][::-1])
  assert both.max() == 7


def test_encoder_ignores_padding_and_sees_both_ways(model):  # pylint: disable=redefined-outer-name
  ids = _ids(1, 4)
  encoded, valid = model.encode(ids)
  assert encoded.shape == (2, 4, CFG.d_model) and valid.all()
  padded_ids = jnp.concatenate([ids, jnp.full((2, 2), 5)], axis=1)
  mask = jnp.array([[1, 1, 1, 1, 0, 0]] * 2)
  padded, valid = model.encode(padded_ids, attention_mask=mask)
  np.testing.assert_allclose(padded[:, :4], encoded, atol=1e-5)
  np.testing.assert_array_equal(valid, mask.astype(bool))
  # Bidirectional: the first token's state depends on the last one.
  changed, _ = model.encode(ids.at[:, -1].set((ids[:, -1] + 1) % CFG.vocab_size))
  assert not np.allclose(changed[:, 0], encoded[:, 0], atol=1e-4)


def test_decoder_is_causal_and_reads_the_encoder(model):  # pylint: disable=redefined-outer-name
  ids, dec = _ids(2, 5), _ids(3, 6)
  full, _ = model(ids, dec)
  assert full.shape == (2, 6, CFG.vocab_size) and full.dtype == jnp.float32
  later, _ = model(ids, dec.at[:, 4:].set((dec[:, 4:] + 1) % CFG.vocab_size))
  np.testing.assert_array_equal(full[:, :4], later[:, :4])
  assert not np.allclose(full[:, 4:], later[:, 4:])
  other_input, _ = model(ids.at[:, 0].set((ids[:, 0] + 1) % CFG.vocab_size), dec)
  assert not np.allclose(other_input[:, 0], full[:, 0], atol=1e-4)


def test_prefix_is_encoded_before_the_tokens(model):  # pylint: disable=redefined-outer-name
  ids, dec = _ids(4, 3), _ids(5, 2)
  embeds = model.embed(ids)
  as_prefix, _ = model(ids[:, 2:], dec, prefix_embeds=embeds[:, :2])
  as_tokens, _ = model(ids, dec)
  np.testing.assert_allclose(as_prefix, as_tokens, atol=1e-5)
