"""GPT-2's own behaviour (its logits equal transformers': tests/convert/test_gpt2.py):
causal, the LM head on the positions asked for, the positions bounded."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from conftest import assert_causal

from wikiart_jax.models.gpt2 import GPT2Config, GPT2LMHeadModel

CFG = GPT2Config(vocab_size=13, n_positions=8, n_embd=16, n_layer=2, n_head=2)


@pytest.fixture(scope='module')
def model():
  return GPT2LMHeadModel(CFG, rngs=nnx.Rngs(0))


def _ids(seed=0, length=6):
  return jax.random.randint(jax.random.key(seed), (2, length), 0, CFG.vocab_size)


def test_a_token_sees_only_the_tokens_before_it(model):  # pylint: disable=redefined-outer-name
  assert_causal(model, CFG.vocab_size)


def test_the_head_reads_only_the_positions_asked(model):  # pylint: disable=redefined-outer-name
  assert model.lm_head is None  # tied
  ids = _ids(1)
  full, _ = model(ids)
  np.testing.assert_allclose(model(ids, last_logits_only=True)[0], full[:, -1:], atol=1e-6)
  prefix = jax.random.normal(jax.random.key(2), (2, 2, CFG.n_embd))
  with_prefix, _ = model(ids, prefix_embeds=prefix)
  text, _ = model(ids, prefix_embeds=prefix, text_logits_only=True)
  assert with_prefix.shape == (2, 8, CFG.vocab_size)
  np.testing.assert_allclose(text, with_prefix[:, 2:], atol=1e-6)
  # Untied, the head is its own matrix.
  untied = GPT2LMHeadModel(dataclasses.replace(CFG, tie_word_embeddings=False), rngs=nnx.Rngs(0))
  assert untied.lm_head.kernel.shape == (CFG.n_embd, CFG.vocab_size)


def test_too_many_positions_are_refused(model):  # pylint: disable=redefined-outer-name
  with pytest.raises(ValueError, match='Sequence of 9 exceeds n_positions=8'):
    model(jnp.zeros((1, 9), jnp.int32))
  with pytest.raises(ValueError, match="prefix \\+ prompt \\+ max_new_tokens = 9 exceeds the model's 8"):
    model.init_cache(1, 3, 6)
