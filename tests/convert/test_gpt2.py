"""GPT-2: our Flax model on converted weights equals transformers' GPT2LMHeadModel."""

import jax.numpy as jnp
import numpy as np
import pytest
import safetensors.numpy
import torch
import transformers
from flax import nnx

from wikiart_jax.convert import gpt2 as convert_gpt2
from wikiart_jax.core import CheckpointError

TINY = dict(vocab_size=97, n_positions=32, n_embd=32, n_layer=2, n_head=4,
            bos_token_id=0, eos_token_id=0)



# One compiled program per test instead of op-by-op dispatch: several times less CPU.
_run = nnx.jit(lambda model, *args, **kwargs: model(*args, **kwargs))

def _save(tmp_path, **overrides):
  torch.manual_seed(0)
  model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**{**TINY, **overrides})).eval()
  model.save_pretrained(tmp_path)
  return model


def _ids(batch=2, length=7, seed=1):
  return np.random.default_rng(seed).integers(0, TINY['vocab_size'], (batch, length))


@pytest.mark.parametrize('tied', [True, False])
def test_logits_match_transformers(tmp_path, tied):
  ref = _save(tmp_path, tie_word_embeddings=tied)
  ours = convert_gpt2.load_gpt2(str(tmp_path))
  ids = _ids()
  with torch.no_grad():
    want = ref(torch.tensor(ids)).logits.numpy()
  got, cache = _run(ours, jnp.asarray(ids))
  assert cache is None
  np.testing.assert_allclose(np.asarray(got), want, atol=1e-4, rtol=0)


def test_padding_mask_matches_transformers(tmp_path):
  ref = _save(tmp_path)
  ours = convert_gpt2.load_gpt2(str(tmp_path))
  ids = _ids()
  mask = np.ones_like(ids)
  mask[1, 5:] = 0  # right padding: the real tokens must not see it
  with torch.no_grad():
    want = ref(torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
  got, _ = _run(ours, jnp.asarray(ids), attention_mask=jnp.asarray(mask))
  real = mask.astype(bool)
  np.testing.assert_allclose(np.asarray(got)[real], want[real], atol=1e-4, rtol=0)


def test_prefix_embeds_equal_inputs_embeds(tmp_path):
  ref = _save(tmp_path)
  ours = convert_gpt2.load_gpt2(str(tmp_path))
  ids = _ids(length=5)
  prefix = np.random.default_rng(2).normal(size=(2, 3, TINY['n_embd'])).astype(np.float32)
  with torch.no_grad():
    embeds = torch.cat([torch.tensor(prefix), ref.transformer.wte(torch.tensor(ids))], dim=1)
    want = ref(inputs_embeds=embeds).logits.numpy()
  got, _ = _run(ours, jnp.asarray(ids), prefix_embeds=jnp.asarray(prefix))
  np.testing.assert_allclose(np.asarray(got), want, atol=1e-4, rtol=0)


def test_kv_cache_token_by_token_equals_full_pass(tmp_path):
  _save(tmp_path)
  ours = convert_gpt2.load_gpt2(str(tmp_path))
  ids = jnp.asarray(_ids(length=8))
  prefix = jnp.asarray(np.random.default_rng(3).normal(size=(2, 2, TINY['n_embd'])), jnp.float32)
  full, _ = _run(ours, ids, prefix_embeds=prefix)
  step = nnx.jit(lambda m, i, c: m(i, cache=c))
  cache = ours.init_cache(2, 2, 14)  # a 2-embedding prefix, 14 tokens
  # The prefix and the first 3 tokens in one call, then one token at a time.
  logits, cache = _run(ours, ids[:, :3], prefix_embeds=prefix, cache=cache)
  np.testing.assert_allclose(logits, full[:, :5], atol=1e-5)
  for t in range(3, 8):
    logits, cache = step(ours, ids[:, t:t + 1], cache)
    np.testing.assert_allclose(logits[:, 0], full[:, 2 + t], atol=1e-5)
  assert int(cache.index) == 10


def test_hub_layout_without_prefix_and_with_mask_buffers(tmp_path):
  ref = _save(tmp_path)
  path = tmp_path / 'model.safetensors'
  tensors = safetensors.numpy.load_file(path)
  # The original hub file: GPT2Model names plus the causal-mask buffers.
  legacy = {k.removeprefix('transformer.'): v for k, v in tensors.items()}
  legacy['h.0.attn.bias'] = np.tril(np.ones((1, 1, 32, 32), np.float32))
  safetensors.numpy.save_file(legacy, path)
  ours = convert_gpt2.load_gpt2(str(tmp_path))
  ids = _ids()
  with torch.no_grad():
    want = ref(torch.tensor(ids)).logits.numpy()
  np.testing.assert_allclose(np.asarray(_run(ours, jnp.asarray(ids))[0]), want, atol=1e-4)


def _edit(tmp_path, fn):
  path = tmp_path / 'model.safetensors'
  tensors = dict(safetensors.numpy.load_file(path))
  fn(tensors)
  safetensors.numpy.save_file(tensors, path)


def test_missing_key_is_named(tmp_path):
  _save(tmp_path)
  _edit(tmp_path, lambda t: t.pop('transformer.h.1.mlp.c_fc.bias'))
  with pytest.raises(CheckpointError,
                     match=r"missing checkpoint key 'transformer\.h\.1\.mlp\.c_fc\.bias'"):
    convert_gpt2.load_gpt2(str(tmp_path))


def test_unexpected_key_is_named(tmp_path):
  _save(tmp_path)
  _edit(tmp_path, lambda t: t.__setitem__('transformer.h.0.extra.weight', np.zeros(3, np.float32)))
  with pytest.raises(CheckpointError,
                     match=r"unexpected checkpoint key 'transformer\.h\.0\.extra\.weight'"):
    convert_gpt2.load_gpt2(str(tmp_path))


def test_misshaped_key_is_named(tmp_path):
  _save(tmp_path)
  _edit(tmp_path, lambda t: t.__setitem__('transformer.ln_f.weight', np.ones(31, np.float32)))
  with pytest.raises(CheckpointError, match=r"'transformer\.ln_f\.weight' has shape \(31,\)"):
    convert_gpt2.load_gpt2(str(tmp_path))


def test_load_partial_touches_only_included_prefixes(tmp_path):
  ref = _save(tmp_path)
  model = convert_gpt2.GPT2LMHeadModel(convert_gpt2.config_from_hf(ref.config.to_dict()),
                                       rngs=nnx.Rngs(5))
  before_h1 = np.asarray(model.h[1].mlp.c_fc.kernel[...]).copy()
  loaded = convert_gpt2.load_weights(model, str(tmp_path), include=['transformer.h.0.'])
  assert loaded and all(k.startswith('transformer.h.0.') for k in loaded)
  np.testing.assert_array_equal(model.h[0].attn.c_attn.kernel[...],
                                ref.transformer.h[0].attn.c_attn.weight.detach().numpy())
  np.testing.assert_array_equal(model.h[1].mlp.c_fc.kernel[...], before_h1)
  with pytest.raises(CheckpointError, match='no model parameter'):
    convert_gpt2.load_weights(model, str(tmp_path), include=['nothing.'])
