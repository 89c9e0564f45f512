"""Remat policies: named by config, the same values and gradients as no remat."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from wikiart_jax.models import remat as remat_lib
from wikiart_jax.models.opt import OPTConfig, OPTForCausalLM
from wikiart_jax.models.t5 import T5Config, T5ForConditionalGeneration

TEXT = {'opt': (OPTForCausalLM, OPTConfig(vocab_size=50, hidden_size=16, num_layers=2,
                                          num_heads=2, ffn_dim=24, max_position_embeddings=20)),
        't5': (T5ForConditionalGeneration,
               T5Config(vocab_size=50, d_model=16, d_kv=8, d_ff=24, num_layers=2,
                        num_decoder_layers=2, num_heads=2, relative_attention_num_buckets=8,
                        relative_attention_max_distance=16))}


def test_check_names_the_field_of_an_unknown_policy():
  for name in ('none', 'full', 'dots'):
    assert remat_lib.check(name) == name
  with pytest.raises(ValueError, match="text.remat must be one of \\['dots', 'full', 'none'\\], "
                                       "got 'some'"):
    remat_lib.check('some', 'text.remat')
  assert remat_lib.POLICIES['none'] is None


@pytest.mark.parametrize('family', ['opt', 't5'])
@pytest.mark.parametrize('remat', ['full', 'dots'])
def test_remat_of_a_frozen_language_model_keeps_values_and_prefix_gradient(family, remat):
  """The LM frozen, a prefix trained through it: remat recomputes its layers (in the
  train step's setting: weights merged inside the trace, not differentiated) and the
  loss and the prefix's gradient are the same."""
  prefix = jax.random.normal(jax.random.key(2), (2, 3, 16))
  ids = jnp.array([[7, 8, 9, 10], [11, 12, 13, 0]])
  build, cfg = TEXT[family]

  def run(policy):
    graph, weights = nnx.split(build(dataclasses.replace(cfg, remat=policy),
                                     rngs=nnx.Rngs(0)))  # the same weights each time
    leaves, treedef = jax.tree.flatten(weights)

    def loss(prefix, leaves):
      lm = nnx.merge(graph, treedef.unflatten(leaves))
      extra = {'decoder_input_ids': ids} if family == 't5' else {}
      return jnp.sin(lm(ids, prefix_embeds=prefix, **extra)[0]).sum()

    program = jax.make_jaxpr(jax.grad(loss))(prefix, leaves)
    return jax.jit(jax.value_and_grad(loss))(prefix, leaves), str(program)

  ((want_loss, want), plain), ((got_loss, got), checkpointed) = run('none'), run(remat)
  np.testing.assert_allclose(got_loss, want_loss, rtol=1e-5)
  np.testing.assert_allclose(got, want, atol=1e-5)
  assert np.abs(want).max() > 0
  assert 'checkpoint[' in checkpointed or 'remat' in checkpointed
  assert 'checkpoint[' not in plain and 'remat' not in plain
