"""wide_accumulation: a Linear's matmul (and a tied head's) with float32 accumulation both
ways: lax.dot_general's values and gradients, and no float32 copy of bf16 weights."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from wikiart_jax.models import wide_accumulation as wide
from wikiart_jax.models.opt import OPTConfig, OPTForCausalLM

LINEAR = (((2,), (0,)), ((), ()))  # x [B, T, K] against w [K, N]


def _inputs(dtype, rhs_shape=(16, 8)):
  kx, kw = jax.random.split(jax.random.key(0))
  return (jax.random.normal(kx, (3, 5, 16)).astype(dtype),
          jax.random.normal(kw, rhs_shape).astype(dtype))


def _loss(matmul, x, w):
  return jnp.sum(jnp.sin(matmul(x, w).astype(jnp.float32)))


@pytest.mark.parametrize('dtype', [jnp.float32, jnp.bfloat16])
def test_values_and_gradients_are_the_float32_matmuls(dtype):
  x, w = _inputs(dtype)
  ours = functools.partial(wide.dot_general, dimension_numbers=LINEAR)
  # The reference: float32 products of the same (rounded) operands, rounded as ours.
  ref = lambda x, w: jnp.matmul(x.astype(jnp.float32), w.astype(jnp.float32)).astype(dtype)
  np.testing.assert_array_equal(ours(x, w), ref(x, w))
  got = jax.grad(lambda x, w: _loss(ours, x, w), (0, 1))(x, w)
  want = jax.grad(lambda x, w: _loss(ref, x, w), (0, 1))(x, w)
  for g, r in zip(got, want):
    assert g.dtype == dtype
    # bf16: ours rounds the cotangent to bf16 before its products (as a bf16 GPU matmul).
    np.testing.assert_allclose(np.asarray(g, np.float32), np.asarray(r, np.float32),
                               rtol=0 if dtype == jnp.float32 else 2e-2,
                               atol=1e-6 if dtype == jnp.float32 else 2e-2)


def test_a_tied_head_equals_embed_attend():
  embed = nnx.Embed(8, 16, rngs=nnx.Rngs(0))
  x, _ = _inputs(jnp.float32)
  np.testing.assert_allclose(wide.attend(embed, x), embed.attend(x), rtol=1e-6, atol=1e-6)
  ref = jax.grad(lambda t: jnp.sum(jnp.sin(x @ t.T)))(embed.embedding[...])
  got = jax.grad(lambda t: jnp.sum(jnp.sin(wide._matmul(x, t, 1))))(embed.embedding[...])  # pylint: disable=protected-access
  np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_other_products_are_lax_dot_general():
  x, w = _inputs(jnp.float32, (8, 16))
  dims = (((2,), (1,)), ((), ()))
  np.testing.assert_array_equal(wide.dot_general(x, w, dims),
                                jax.lax.dot_general(x, w, dims))


def _temporaries(fn, *shapes) -> int:
  return jax.jit(fn).lower(*shapes).compile().memory_analysis().temp_size_in_bytes


@pytest.mark.skipif(jax.default_backend() != 'cpu', reason="XLA CPU's bf16 handling")
def test_a_frozen_bf16_language_model_keeps_no_float32_copy_of_its_weights():
  """The gradient through a frozen bf16 OPT (the BLIP-2 prefix's): on XLA's CPU backend
  a bf16-result matmul upcasts each weight to a float32 copy and all of them were
  alive together; accumulated in float32 the weights are read as stored."""
  cfg = OPTConfig(vocab_size=64, hidden_size=128, num_layers=4, num_heads=4, ffn_dim=512,
                  max_position_embeddings=32, dtype='bfloat16', param_dtype='bfloat16',
                  remat='full')
  model = OPTForCausalLM(cfg, rngs=nnx.Rngs(0))
  graphdef, params = nnx.split(model)
  kernels = sum(x.size for p, x in jax.tree_util.tree_leaves_with_path(params)
                if 'kernel' in jax.tree_util.keystr(p))
  ids = jnp.zeros((2, 8), jnp.int32)

  leaves, treedef = jax.tree.flatten(params)

  def loss(prefix, leaves):  # as the train step: weights merged inside, not differentiated
    logits, _ = nnx.merge(graphdef, treedef.unflatten(leaves))(ids, prefix_embeds=prefix)
    return jnp.mean(logits)

  prefix = jax.ShapeDtypeStruct((2, 4, cfg.hidden_size), jnp.float32)
  shapes = [jax.ShapeDtypeStruct(x.shape, x.dtype) for x in leaves]
  # Float32 copies of the layers' kernels would be kernels * 4 bytes (3 MiB here); the
  # plain bf16 matmuls left 3.5 MiB of temporaries, these 0.5 MiB.
  assert _temporaries(jax.grad(loss), prefix, shapes) < kernels * 4 / 4
