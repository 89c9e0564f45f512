"""The static KV cache: masks by hand, appending at the index, positions after left padding."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wikiart_jax.models import kv_cache


def test_create_is_empty_and_sized():
  cache = kv_cache.KVCache.create(num_layers=2, batch_size=3, max_length=7, num_heads=4,
                                  head_dim=5, dtype='bfloat16')
  assert len(cache.keys) == len(cache.values) == 2
  # Head-major [B, heads, S, head_dim]: the layout attention reads, no per-step transpose.
  assert cache.keys[0].shape == (3, 4, 7, 5) and cache.keys[0].dtype == jnp.bfloat16
  assert not cache.valid.any() and int(cache.index) == 0 and int(cache.num_prefix) == 0
  np.testing.assert_array_equal(cache.position_offset, [0, 0, 0])


def test_mask_without_cache_is_causal_and_hides_padding():
  valid = jnp.array([[True, True, True], [True, True, False]])
  mask, new_valid = kv_cache.attention_mask_for(valid, None)
  assert new_valid is None and mask.shape == (2, 1, 3, 3)
  causal = np.tril(np.ones((3, 3), bool))
  np.testing.assert_array_equal(mask[0, 0], causal)
  np.testing.assert_array_equal(mask[1, 0], causal & [True, True, False])


def test_mask_with_a_bidirectional_prefix():
  valid = jnp.ones((1, 5), bool)
  mask, _ = kv_cache.attention_mask_for(valid, None, bidirectional=3)
  want = np.tril(np.ones((5, 5), bool))
  want[:3, :3] = True  # the prefix (GIT's image tokens) sees itself fully
  np.testing.assert_array_equal(mask[0, 0], want)


def test_mask_of_a_decoding_step_sees_every_written_slot():
  cache = kv_cache.KVCache.create(num_layers=1, batch_size=2, max_length=6, num_heads=1,
                                  head_dim=2)
  cache = cache.replace(index=jnp.int32(3),
                        valid=jnp.array([[False, True, True, False, False, False],
                                         [True, True, True, False, False, False]]))
  mask, new_valid = kv_cache.attention_mask_for(jnp.ones((2, 1), bool), cache)
  np.testing.assert_array_equal(new_valid[:, 3], [True, True])
  np.testing.assert_array_equal(mask[:, 0, 0], [[False, True, True, True, False, False],
                                                [True, True, True, True, False, False]])


def test_attend_writes_at_the_index_and_equals_plain_attention():
  rng = np.random.default_rng(0)
  q, k, v = (jnp.asarray(rng.normal(size=(1, 4, 2, 3)), jnp.float32) for _ in range(3))
  full, _ = kv_cache.attend(q, k, v, kv_cache.attention_mask_for(jnp.ones((1, 4), bool),
                                                                  None)[0], None, 0)
  cache = kv_cache.KVCache.create(num_layers=1, batch_size=1, max_length=6, num_heads=2,
                                  head_dim=3)
  layer = (cache.keys[0], cache.values[0])
  outs = []
  for t in range(4):  # one token at a time through the cache
    mask, valid = kv_cache.attention_mask_for(jnp.ones((1, 1), bool), cache)
    out, layer = kv_cache.attend(q[:, t:t + 1], k[:, t:t + 1], v[:, t:t + 1], mask, layer,
                                 cache.index)
    cache = cache.replace(keys=(layer[0],), values=(layer[1],), valid=valid,
                          index=cache.index + 1)
    outs.append(out)
  np.testing.assert_allclose(jnp.concatenate(outs, axis=1), full, atol=1e-6)
  np.testing.assert_array_equal(layer[0][:, :, :4], jnp.swapaxes(k, 1, 2))
  np.testing.assert_array_equal(layer[1][:, :, :4], jnp.swapaxes(v, 1, 2))
  assert not np.asarray(layer[0][:, :, 4:]).any()  # slots past the index stay empty


def test_run_layers_advances_the_index_by_the_new_tokens():
  cache = kv_cache.KVCache.create(num_layers=2, batch_size=1, max_length=5, num_heads=1,
                                  head_dim=2)

  def layer(x, mask, layer_cache, index, deterministic, rngs):
    del mask, deterministic, rngs
    k = jax.lax.dynamic_update_slice(layer_cache[0], x[:, None], (0, 0, index, 0))
    return x + 1, (k, layer_cache[1])

  mask, valid = kv_cache.attention_mask_for(jnp.ones((1, 3), bool), cache)
  x, cache = kv_cache.run_layers([layer, layer], jnp.zeros((1, 3, 2)), mask, cache, valid,
                                 True, None)
  assert int(cache.index) == 3 and cache.valid[0, :3].all() and not cache.valid[0, 3:].any()
  np.testing.assert_array_equal(x, 2.0)  # both layers ran
  np.testing.assert_array_equal(cache.keys[1][0, 0, :3], 1.0)  # layer 2 saw layer 1's output


def test_padded_prompts_are_refused_where_unsupported():
  kv_cache.refuse_padding(None, 'GIT')
  with pytest.raises(ValueError, match='only GPT-2 prompts may be padded'):
    kv_cache.refuse_padding(jnp.ones((1, 2)), 'GIT')
