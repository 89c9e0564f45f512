"""OPT's own behaviour (its logits equal transformers': tests/convert/test_opt.py):
causal, positions offset by 2 and counting real tokens only, the length bounded."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from conftest import assert_causal

from wikiart_jax.models.opt import POSITION_OFFSET, OPTConfig, OPTForCausalLM

CFG = OPTConfig(vocab_size=13, hidden_size=16, num_layers=2, num_heads=2, ffn_dim=24,
                max_position_embeddings=8)


@pytest.fixture(scope='module')
def model():
  return OPTForCausalLM(CFG, rngs=nnx.Rngs(0))


def _ids(seed=0, length=6):
  return jax.random.randint(jax.random.key(seed), (2, length), 0, CFG.vocab_size)


def test_a_token_sees_only_the_tokens_before_it(model):  # pylint: disable=redefined-outer-name
  assert_causal(model, CFG.vocab_size)


def test_positions_start_at_row_two(model):  # pylint: disable=redefined-outer-name
  ids = _ids(1)
  base, _ = model(ids)
  table = model.embed_positions.embedding[...]
  # Not a constant shift: every LayerNorm would remove that.
  shift = jax.random.normal(jax.random.key(9), (CFG.hidden_size,))
  for row, matters in ((0, False), (1, False), (POSITION_OFFSET, True)):
    model.embed_positions.embedding[...] = table.at[row].add(shift)
    out, _ = model(ids)
    model.embed_positions.embedding[...] = table
    assert np.allclose(out, base, atol=1e-6) != matters, row


def test_left_padding_changes_no_real_tokens_logits(model):  # pylint: disable=redefined-outer-name
  """Padded slots take no position and are attended by nobody."""
  ids = _ids(2, 4)
  plain, _ = model(ids)
  padded_ids = jnp.concatenate([jnp.full((2, 2), 5), ids], axis=1)
  mask = jnp.concatenate([jnp.zeros((2, 2), jnp.int32), jnp.ones((2, 4), jnp.int32)], axis=1)
  padded, _ = model(padded_ids, attention_mask=mask)
  np.testing.assert_allclose(padded[:, 2:], plain, atol=1e-5)
  # Unmasked, the same two extra tokens do change them.
  assert not np.allclose(model(padded_ids)[0][:, 2:], plain, atol=1e-3)


def test_prefix_then_text_logits_only(model):  # pylint: disable=redefined-outer-name
  ids = _ids(3, 4)
  prefix = jax.random.normal(jax.random.key(4), (2, 3, CFG.hidden_size))
  full, _ = model(ids, prefix_embeds=prefix)
  text, _ = model(ids, prefix_embeds=prefix, text_logits_only=True)
  assert full.shape == (2, 7, CFG.vocab_size)
  np.testing.assert_allclose(text, full[:, 3:], atol=1e-6)
  assert model.lm_head is None  # tied to the token embeddings


def test_too_many_positions_are_refused(model):  # pylint: disable=redefined-outer-name
  with pytest.raises(ValueError, match='OPT sequence of 9 positions .* max_position_embeddings=8'):
    model(jnp.zeros((1, 9), jnp.int32))
  with pytest.raises(ValueError, match='OPT sequence of 9 positions'):
    model.init_cache(1, 3, 6)
