"""BLIP-2 generation: greedy and beam tokens equal transformers' generate() on the same
converted weights (OPT and Flan-T5), and cached decoding equals teacher forcing."""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from wikiart_jax.convert import blip2 as convert_blip2
from wikiart_jax.inference import generate as gen

import tiny_blip2

NEW = 10


@pytest.fixture(scope='module', params=['opt', 't5'])
def pair(request, tmp_path_factory):
  folder = tmp_path_factory.mktemp(f'blip2_gen_{request.param}')
  ref, _ = tiny_blip2.save_blip2(folder, request.param, seed=1)
  return request.param, ref, convert_blip2.load_blip2(str(folder))


def _prompt(family, batch=3):
  """BLIP-2's prompts: OPT [BOS, text]; T5's encoder [text, EOS]."""
  text = np.random.default_rng(2).integers(3, 200, (batch, 3))
  return np.concatenate([np.ones((batch, 1), int), text], 1) if family == 'opt' else \
      np.concatenate([text, np.full((batch, 1), 2)], 1)


@pytest.mark.parametrize('method', ['greedy', 'beam'])
def test_tokens_equal_transformers_generate(pair, method):
  family, ref, ours = pair
  pixels, prompt = tiny_blip2.images(3, seed=3), _prompt(family)
  kwargs = {'num_beams': 3} if method == 'beam' else {}
  free = tiny_blip2.hf_generate(ref, pixels, prompt, NEW, eos_token_id=None, **kwargs)
  assert len({tuple(r) for r in free}) == 3  # the rows really differ
  # A token row 0 emits mid-way becomes the EOS: both stop there and pad the rest
  # (with 5: transformers' beam search pads with EOS when pad_token_id is 0).
  eos = int(free[0, 4])
  want = tiny_blip2.hf_generate(ref, pixels, prompt, NEW, eos_token_id=eos, pad_token_id=5,
                                **kwargs)
  got = gen.generate(ours, prompt, images=jnp.asarray(tiny_blip2.nhwc(pixels)),
                     max_new_tokens=NEW, eos_id=eos, pad_id=5, method=method, **kwargs)
  np.testing.assert_array_equal(np.asarray(got), want)


def test_cached_decoding_equals_teacher_forcing(pair):
  family, _, ours = pair
  images = jnp.asarray(tiny_blip2.nhwc(tiny_blip2.images(2, seed=4)))
  prompt = jnp.asarray(_prompt(family, 2))
  new = jnp.asarray(np.random.default_rng(5).integers(3, 200, (2, 4)))

  @nnx.jit
  def both(model, images, prompt, new):
    """(logits of the prompt's last token then of each new token, from the cache;
    the same from one teacher-forced pass)."""
    tokens = model.encode_images(images)
    logits, cache = model.prefill(prompt, model.init_cache(2, tokens.shape[1], 8),
                                  context=tokens)
    cached = [logits[:, -1]]
    for t in range(new.shape[1]):
      logits, cache = model.decode_step(new[:, t:t + 1], cache)
      cached.append(logits[:, 0])
    if family == 'opt':  # the prompt then the new tokens, one causal pass
      full = model(jnp.concatenate([prompt, new], 1), image_tokens=tokens,
                   text_logits_only=True)[:, prompt.shape[1] - 1:]
    else:  # the encoder on the prompt, the decoder on [start, new tokens]
      dec = jnp.concatenate([jnp.zeros((2, 1), jnp.int32), new], 1)
      full = model(prompt, image_tokens=tokens, decoder_input_ids=dec)
    return jnp.stack(cached, 1), full

  cached, full = both(ours, images, prompt, new)
  np.testing.assert_allclose(cached, full, atol=1e-4, rtol=0)
