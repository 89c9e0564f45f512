"""Attention wrapper: padding + masking is exact, weights path, kernel selection."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wikiart_jax.models import attention

ON_GPU = jax.default_backend() == 'gpu'


def _qkv(batch=2, tokens=13, heads=2, dim=8, dtype=jnp.float32, seed=0):
  keys = jax.random.split(jax.random.key(seed), 3)
  return tuple(jax.random.normal(k, (batch, tokens, heads, dim), dtype) for k in keys)


def _numpy_attention(q, k, v, kv_lengths=None):
  """softmax(q k^T / sqrt(d)) v in float64, keys past kv_lengths masked."""
  q, k, v = (np.asarray(x, np.float64) for x in (q, k, v))
  logits = np.einsum('btnh,bsnh->bnts', q, k) / np.sqrt(q.shape[-1])
  if kv_lengths is not None:
    valid = np.arange(k.shape[1])[None, :] < np.asarray(kv_lengths)[:, None]  # [B,S]
    logits = np.where(valid[:, None, None, :], logits, -np.inf)
  weights = np.exp(logits - logits.max(-1, keepdims=True))
  weights /= weights.sum(-1, keepdims=True)
  return np.einsum('bnts,bsnh->btnh', weights, v), weights


@pytest.mark.parametrize('tokens, multiple, expected', [
    (197, 16, 208), (257, 16, 272), (208, 16, 208), (65, 64, 128), (5, 1, 5)])
def test_padded_length(tokens, multiple, expected):
  assert attention.padded_length(tokens, multiple) == expected


def test_plain_xla_matches_numpy():
  q, k, v = _qkv()
  out = attention.dot_product_attention(q, k, v, implementation='xla')
  np.testing.assert_allclose(np.asarray(out), _numpy_attention(q, k, v)[0], atol=1e-5)


@pytest.mark.parametrize('tokens, multiple', [(13, 16), (197, 16), (17, 64)])
def test_padding_with_masking_equals_the_plain_path(tokens, multiple):
  q, k, v = _qkv(tokens=tokens)
  plain = attention.dot_product_attention(q, k, v, implementation='xla')
  padded = attention.dot_product_attention(q, k, v, implementation='xla',
                                           pad_multiple=multiple)
  assert padded.shape == q.shape
  np.testing.assert_allclose(np.asarray(padded), np.asarray(plain), atol=1e-6)


def test_padding_keeps_caller_sequence_lengths():
  q, k, v = _qkv(tokens=13)
  lengths = jnp.array([5, 13], jnp.int32)
  out = attention.dot_product_attention(q, k, v, implementation='xla', pad_multiple=16,
                                        key_value_seq_lengths=lengths)
  np.testing.assert_allclose(np.asarray(out), _numpy_attention(q, k, v, lengths)[0],
                             atol=1e-5)


def test_attention_with_weights_matches_numpy():
  q, k, v = _qkv(tokens=9)
  out, weights = attention.attention_with_weights(q, k, v)
  ref_out, ref_weights = _numpy_attention(q, k, v)
  assert weights.shape == (2, 2, 9, 9) and weights.dtype == jnp.float32
  np.testing.assert_allclose(np.asarray(weights), ref_weights, atol=1e-6)
  np.testing.assert_allclose(np.asarray(out), ref_out, atol=1e-5)


def test_bf16_inputs_keep_their_dtype():
  q, k, v = _qkv(dtype=jnp.bfloat16)
  out = attention.dot_product_attention(q, k, v)
  assert out.dtype == jnp.bfloat16
  np.testing.assert_allclose(np.asarray(out, np.float32), _numpy_attention(q, k, v)[0],
                             atol=0.05)


def test_resolve_implementation():
  expected = 'cudnn' if ON_GPU else 'xla'
  assert attention.resolve_implementation('auto', jnp.bfloat16, 64) == expected
  assert attention.resolve_implementation('auto', jnp.float32, 64) == 'xla'
  assert attention.resolve_implementation('auto', jnp.bfloat16, 12) == 'xla'  # not % 8
  assert attention.resolve_implementation('xla', jnp.bfloat16, 64) == 'xla'
  with pytest.raises(ValueError, match='implementation'):
    attention.resolve_implementation('flash', jnp.bfloat16, 64)


def test_resolve_implementation_for_another_platform():
  # What 'auto' picks where the code will run, e.g. lowering for a GPU from a CPU.
  assert attention.resolve_implementation('auto', jnp.bfloat16, 64, platform='gpu') == 'cudnn'
  assert attention.resolve_implementation('auto', jnp.float32, 64, platform='gpu') == 'xla'
  assert attention.resolve_implementation('auto', jnp.bfloat16, 64, platform='cpu') == 'xla'


def test_mismatched_shapes_are_an_error():
  q, k, v = _qkv()
  with pytest.raises(ValueError, match=r'\[B,T,N,H\]'):
    attention.dot_product_attention(q, k[:, :5], v)


@pytest.mark.skipif(not ON_GPU, reason='cuDNN attention needs a GPU')
@pytest.mark.parametrize('tokens', [197, 257])
def test_cudnn_padded_matches_xla(tokens):
  q, k, v = _qkv(batch=4, tokens=tokens, heads=12, dim=64, dtype=jnp.bfloat16)
  fused = jax.jit(lambda *a: attention.dot_product_attention(*a, implementation='cudnn'))
  plain = jax.jit(lambda *a: attention.dot_product_attention(*a, implementation='xla'))
  np.testing.assert_allclose(np.asarray(fused(q, k, v), np.float32),
                             np.asarray(plain(q, k, v), np.float32), atol=2e-2)
  grad = lambda f: jax.grad(lambda q: f(q, k, v).astype(jnp.float32).sum())(q)
  np.testing.assert_allclose(np.asarray(grad(fused), np.float32),
                             np.asarray(grad(plain), np.float32), atol=5e-2)
