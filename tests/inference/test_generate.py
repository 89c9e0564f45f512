"""Jitted generation equals transformers' generate() on the same converted weights."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
import torch
import transformers
from flax import nnx

from wikiart_jax.convert import git as convert_git
from wikiart_jax.convert import gpt2 as convert_gpt2
from wikiart_jax.inference import generate as gen
from wikiart_jax.models import captioner as captioner_lib

# An untied head: a tied random GPT-2 mostly repeats its last token, a weak test.
GPT2 = dict(vocab_size=61, n_positions=48, n_embd=32, n_layer=2, n_head=4, bos_token_id=1,
            eos_token_id=2, pad_token_id=0, tie_word_embeddings=False)
GIT_VISION = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                  intermediate_size=48, image_size=16, patch_size=8)
GIT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
           vocab_size=53, max_position_embeddings=32, bos_token_id=1, eos_token_id=2,
           pad_token_id=0)


@pytest.fixture(scope='module')
def gpt2_pair(tmp_path_factory):
  folder = tmp_path_factory.mktemp('gpt2')
  torch.manual_seed(0)
  ref = transformers.GPT2LMHeadModel(transformers.GPT2Config(**GPT2)).eval()
  ref.save_pretrained(folder)
  return ref, convert_gpt2.load_gpt2(str(folder))


@pytest.fixture(scope='module')
def git_pair(tmp_path_factory):
  folder = tmp_path_factory.mktemp('git')
  torch.manual_seed(1)
  ref = transformers.GitForCausalLM(
      transformers.GitConfig(vision_config=GIT_VISION, **GIT)).eval()
  ref.save_pretrained(folder)
  return ref, convert_git.load_git(str(folder))


def _hf(ref, ids, max_new, **kwargs):
  with torch.no_grad():
    # An explicit mask: otherwise transformers masks prompt tokens equal to pad_token_id.
    out = ref.generate(torch.tensor(ids), attention_mask=torch.ones(ids.shape, dtype=torch.long),
                       max_new_tokens=max_new, do_sample=False, **kwargs).numpy()
  new = out[:, ids.shape[1]:]
  return np.pad(new, ((0, 0), (0, max_new - new.shape[1])), constant_values=kwargs['pad_token_id'])


def _prompt(batch=3, length=4, seed=0):
  return np.random.default_rng(seed).integers(3, GPT2['vocab_size'], (batch, length))


def test_gpt2_greedy_equals_transformers(gpt2_pair):
  ref, ours = gpt2_pair
  ids = _prompt()
  want = _hf(ref, ids, 12, eos_token_id=None, pad_token_id=0)
  got = gen.generate(ours, ids, max_new_tokens=12, eos_id=-1, pad_id=0)
  np.testing.assert_array_equal(np.asarray(got), want)
  assert len({tuple(r) for r in want}) > 1  # the rows really differ


def test_gpt2_greedy_stops_at_eos_like_transformers(gpt2_pair):
  ref, ours = gpt2_pair
  ids = _prompt()
  free = _hf(ref, ids, 12, eos_token_id=None, pad_token_id=0)
  eos = int(free[0, 3])  # a token row 0 emits mid-way becomes the EOS
  want = _hf(ref, ids, 12, eos_token_id=eos, pad_token_id=0)
  got = np.asarray(gen.generate(ours, ids, max_new_tokens=12, eos_id=eos, pad_id=0))
  np.testing.assert_array_equal(got, want)
  stop = list(free[0]).index(eos)
  assert got[0, stop] == eos and (got[0, stop + 1:] == 0).all()


def test_gpt2_left_padded_prompts_equal_transformers(gpt2_pair):
  ref, ours = gpt2_pair
  ids = _prompt(length=6)
  mask = np.ones_like(ids)
  mask[0, :2] = 0
  mask[2, :4] = 0
  ids = np.where(mask == 1, ids, 0)
  with torch.no_grad():
    out = ref.generate(torch.tensor(ids), attention_mask=torch.tensor(mask), max_new_tokens=8,
                       do_sample=False, eos_token_id=None, pad_token_id=0).numpy()
  got = gen.generate(ours, ids, attention_mask=mask, max_new_tokens=8, eos_id=-1, pad_id=0)
  np.testing.assert_array_equal(np.asarray(got), out[:, 6:])


@pytest.mark.parametrize('length_penalty,early_stopping', [(1.0, False), (2.0, 'never'),
                                                           (0.5, True)])
def test_gpt2_beam_search_equals_transformers(gpt2_pair, length_penalty, early_stopping):
  ref, ours = gpt2_pair
  ids = _prompt(seed=3)
  free = _hf(ref, ids, 10, eos_token_id=None, pad_token_id=0)
  eos = int(free[1, 2])  # make beams finish at different lengths
  # transformers fills finished beams with EOS when pad_token_id is 0 (`pad or eos`): use 5.
  want = _hf(ref, ids, 10, num_beams=3, length_penalty=length_penalty,
             early_stopping=early_stopping, eos_token_id=eos, pad_token_id=5)
  got = gen.generate(ours, ids, max_new_tokens=10, eos_id=eos, pad_id=5, method='beam',
                     num_beams=3, length_penalty=length_penalty, early_stopping=early_stopping)
  np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize('method', ['greedy', 'beam'])
def test_banned_tokens_equal_transformers_bad_words(gpt2_pair, method):
  ref, ours = gpt2_pair
  ids = _prompt(seed=3)
  free = _hf(ref, ids, 10, eos_token_id=None, pad_token_id=0)
  banned = sorted({int(t) for t in free[:, :4].ravel()} - {5})  # what it wanted to write
  beams = dict(num_beams=3) if method == 'beam' else {}
  want = _hf(ref, ids, 10, eos_token_id=None, pad_token_id=5,
             bad_words_ids=[[t] for t in banned], **beams)
  bias = np.zeros(GPT2['vocab_size'], np.float32)
  bias[banned] = -1e9
  got = np.asarray(gen.generate(ours, ids, max_new_tokens=10, eos_id=-1, pad_id=5,
                                method=method, logit_bias=bias, **beams))
  np.testing.assert_array_equal(got, want)
  assert not np.isin(got, banned).any()


@pytest.mark.parametrize('method,n', [('greedy', 1), ('greedy', 2), ('greedy', 3),
                                      ('beam', 2), ('beam', 3)])
def test_no_repeat_ngram_equals_transformers(gpt2_pair, method, n):
  ref, ours = gpt2_pair
  ids = _prompt(seed=26)  # rows that, left free, repeat a trigram both ways
  beams = dict(num_beams=3) if method == 'beam' else {}
  free = _hf(ref, ids, 30, eos_token_id=None, pad_token_id=0, **beams)
  want = _hf(ref, ids, 30, eos_token_id=None, pad_token_id=0, no_repeat_ngram_size=n, **beams)
  assert not np.array_equal(free, want)  # the untied random model does repeat itself
  got = np.asarray(gen.generate(ours, ids, max_new_tokens=30, eos_id=-1, pad_id=0,
                                method=method, no_repeat_ngram=n, **beams))
  np.testing.assert_array_equal(got, want)
  for row in np.concatenate([ids, got], axis=1).tolist():  # no generated token repeats one
    for end in range(ids.shape[1], len(row)):
      earlier = {tuple(row[i:i + n]) for i in range(end - n + 1)}
      assert tuple(row[end - n + 1:end + 1]) not in earlier


def _greedy_without_cache(forward, ids, steps):
  """Reference: a full causal forward pass over the whole sequence for every new token.

  The sequence is kept at its final length (zeros after the real tokens) so one jitted
  pass serves every step; causality makes the zeros invisible to earlier positions.
  """
  ids = np.asarray(ids)
  b, t = ids.shape
  seq = np.zeros((b, t + steps), np.int32)
  seq[:, :t] = ids
  forward = jax.jit(forward)
  for i in range(steps):
    seq[:, t + i] = np.asarray(jnp.argmax(forward(jnp.asarray(seq))[:, t + i - 1], axis=-1))
  return seq[:, t:]


def test_gpt2_cache_equals_no_cache(gpt2_pair):
  _, ours = gpt2_pair
  ids = _prompt(seed=5)
  want = _greedy_without_cache(lambda x: ours(x)[0], ids, 9)
  got = gen.generate(ours, ids, max_new_tokens=9, eos_id=-1, pad_id=0)
  np.testing.assert_array_equal(np.asarray(got), want)


def test_git_greedy_equals_transformers_and_no_cache(git_pair):
  ref, ours = git_pair
  images = np.random.default_rng(0).normal(size=(3, 3, 16, 16)).astype(np.float32)
  bos = np.full((3, 1), GIT['bos_token_id'])
  with torch.no_grad():
    out = ref.generate(pixel_values=torch.tensor(images), input_ids=torch.tensor(bos),
                       max_new_tokens=10, do_sample=False, eos_token_id=None).numpy()
  pixels = jnp.asarray(images.transpose(0, 2, 3, 1))
  got = gen.generate(ours, bos, images=pixels, max_new_tokens=10, eos_id=-1, pad_id=0)
  np.testing.assert_array_equal(np.asarray(got), out[:, 1:])
  prefix = ours.encode_images(pixels)
  nocache = _greedy_without_cache(
      lambda x: ours(x, prefix_embeds=prefix)[0][:, prefix.shape[1]:], bos, 10)
  np.testing.assert_array_equal(np.asarray(got), nocache)


def _captioner(kind):
  cfg = ml_collections.ConfigDict(dict(
      captioner=kind, dtype='float32', layer_norm_eps=1e-6,
      caption_decoder=dict(init_from='', hidden_size=32, num_layers=2, num_heads=4, mlp_dim=64,
                           max_positions=32, dropout=0.0, image_tokens='all',
                           label_tokens=False)))
  return captioner_lib.Captioner(cfg, 24, 41, rngs=nnx.Rngs(0))


@pytest.mark.parametrize('kind', ['git', 'prefix'])
def test_captioner_cache_equals_no_cache(kind):
  model = _captioner(kind)
  tokens = jax.random.normal(jax.random.key(1), (2, 5, 24)) * 3
  bos = np.ones((2, 1), np.int32)
  want = _greedy_without_cache(lambda x: model(tokens, x), bos, 8)
  got = gen.generate(model, bos, context=tokens, max_new_tokens=8, eos_id=-1, pad_id=0)
  np.testing.assert_array_equal(np.asarray(got), want)
  beams = gen.generate(model, bos, context=tokens, max_new_tokens=8, eos_id=-1, pad_id=0,
                       method='beam', num_beams=1)
  np.testing.assert_array_equal(np.asarray(beams), want)  # one beam is greedy


@pytest.mark.slow  # a 3,000-row statistical check
def test_top_p_sampling(gpt2_pair):
  _, ours = gpt2_pair
  ids = _prompt(seed=7)
  greedy = gen.generate(ours, ids, max_new_tokens=6, eos_id=-1, pad_id=0)
  tiny_p = gen.generate(ours, ids, max_new_tokens=6, eos_id=-1, pad_id=0, method='sample',
                        top_p=1e-6, rng=jax.random.key(3))
  np.testing.assert_array_equal(np.asarray(tiny_p), np.asarray(greedy))
  # One step from one prompt, many rows: frequencies follow the renormalised nucleus.
  rows = np.repeat(ids[:1], 3000, axis=0)
  first = np.asarray(gen.generate(ours, rows, max_new_tokens=1, eos_id=-1, pad_id=0,
                                  method='sample', top_p=0.8, temperature=1.5,
                                  rng=jax.random.key(4)))[:, 0]
  logits = np.asarray(ours(jnp.asarray(ids[:1]))[0][0, -1], np.float64) / 1.5
  p = np.exp(logits - logits.max())
  p /= p.sum()
  order = np.argsort(-p)
  nucleus = order[:np.searchsorted(np.cumsum(p[order]), 0.8) + 1]
  assert set(first) <= set(nucleus.tolist())
  expect = p[nucleus] / p[nucleus].sum()
  freq = np.array([(first == i).mean() for i in nucleus])
  np.testing.assert_allclose(freq, expect, atol=0.03)


def test_compiles_once_per_batch_size(gpt2_pair):
  _, ours = gpt2_pair
  gen.generate(ours, _prompt(seed=8), max_new_tokens=5, eos_id=-1, pad_id=0)
  size = gen._generate._cache_size()  # pylint: disable=protected-access
  gen.generate(ours, _prompt(seed=9), max_new_tokens=5, eos_id=-1, pad_id=0)
  assert gen._generate._cache_size() == size  # pylint: disable=protected-access


def test_a_model_split_once_generates_the_same_tokens(gpt2_pair):
  _, ours = gpt2_pair
  want = gen.generate(ours, _prompt(seed=10), max_new_tokens=5, eos_id=-1, pad_id=0)
  got = gen.generate(nnx.split(ours), _prompt(seed=10), max_new_tokens=5, eos_id=-1, pad_id=0)
  np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_bad_arguments_are_named(gpt2_pair):
  _, ours = gpt2_pair
  with pytest.raises(ValueError, match='generation method'):
    gen.generate(ours, _prompt(), max_new_tokens=3, eos_id=2, pad_id=0, method='topk')
  with pytest.raises(ValueError, match='max_new_tokens'):
    gen.generate(ours, _prompt(), max_new_tokens=0, eos_id=2, pad_id=0)
  with pytest.raises(ValueError, match="= 49 exceeds the model's 48 positions"):
    gen.generate(ours, _prompt(length=4), max_new_tokens=45, eos_id=2, pad_id=0)


def test_decode_texts_cuts_at_eos():
  class Tok:
    def decode(self, ids, skip_special_tokens=True):
      return ' '.join(str(i) for i in ids)
  assert gen.strip_after_eos([[5, 6, 2, 0], [7, 8, 9, 4]], 2) == [[5, 6], [7, 8, 9, 4]]
  assert gen.decode_texts(np.array([[5, 2, 0]]), Tok(), 2) == ['5']
