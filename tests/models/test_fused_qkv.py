"""The fused q/k/v projection's own behaviour (its equality with transformers'
`Blip2Attention` on converted weights: tests/convert/test_blip2.py)."""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from wikiart_jax.models.fused_qkv import FusedQKVAttention

D, HEADS = 8, 2


def _attention():
  attn = FusedQKVAttention(D, HEADS, implementation='xla', dtype=jnp.float32,
                           param_dtype=jnp.float32, kernel_init=nnx.initializers.normal(0.5),
                           rngs=nnx.Rngs(0))
  # EVA's bias: [q_bias, 0, v_bias], as convert/blip2.py stacks it.
  q_bias, v_bias = jax.random.normal(jax.random.key(1), (2, D))
  attn.qkv.bias[...] = jnp.concatenate([q_bias, jnp.zeros(D), v_bias])
  return attn


def _separate(attn, x):
  """Three separate projections (q and v biased, k not) and softmax attention."""
  w, b = attn.qkv.kernel[...], attn.qkv.bias[...]
  q, k, v = x @ w[:, :D] + b[:D], x @ w[:, D:2 * D], x @ w[:, 2 * D:] + b[2 * D:]
  split = lambda t: t.reshape(x.shape[0], x.shape[1], HEADS, D // HEADS).transpose(0, 2, 1, 3)
  q, k, v = split(q), split(k), split(v)
  probs = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(D // HEADS), axis=-1)
  out = (probs @ v).transpose(0, 2, 1, 3).reshape(x.shape)
  return out @ attn.output.kernel[...] + attn.output.bias[...], probs


def test_fused_equals_three_separate_projections():
  attn = _attention()
  x = jax.random.normal(jax.random.key(2), (2, 5, D))
  want, probs = _separate(attn, x)
  out, weights = attn(x)
  assert out.shape == x.shape and weights is None
  np.testing.assert_allclose(out, want, atol=1e-5)
  out, weights = attn(x, return_weights=True)
  np.testing.assert_allclose(out, want, atol=1e-5)
  np.testing.assert_allclose(weights, probs, atol=1e-5)


def test_a_key_bias_changes_nothing_but_query_and_value_biases_do():
  """Why EVA has no key bias: it shifts each query's logits by one amount."""
  attn = _attention()
  x = jax.random.normal(jax.random.key(3), (2, 5, D))
  base, _ = attn(x)
  bias = attn.qkv.bias[...]
  for third, matters in ((0, True), (1, False), (2, True)):
    attn.qkv.bias[...] = bias.at[third * D:(third + 1) * D].add(1.0)
    out, _ = attn(x)
    attn.qkv.bias[...] = bias
    if matters:
      assert not np.allclose(out, base, atol=1e-3), third
    else:
      np.testing.assert_allclose(out, base, atol=1e-5)
