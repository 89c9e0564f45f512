"""BLIP-2: the image tower, the Q-Former, and the whole model (OPT and Flan-T5 language
models) on converted weights equal transformers' Blip2ForConditionalGeneration."""

import json
import os

import jax.numpy as jnp
import numpy as np
import pytest
import torch
from flax import nnx

from wikiart_jax.convert import blip2 as convert_blip2
from wikiart_jax.convert import hub
from wikiart_jax.core import CheckpointError

import tiny_blip2

_run = nnx.jit(lambda model, *args, **kwargs: model(*args, **kwargs))


@pytest.fixture(scope='module', params=['opt', 't5'])
def pair(request, tmp_path_factory):
  """(family, transformers model, our model) on one tiny random checkpoint."""
  folder = tmp_path_factory.mktemp(f'blip2_{request.param}')
  ref, _ = tiny_blip2.save_blip2(folder, request.param)
  return request.param, ref, convert_blip2.load_blip2(str(folder))


def test_image_tower_and_q_former_equal_transformers(pair):
  _, ref, ours = pair
  pixels = tiny_blip2.images()
  with torch.no_grad():
    vision = ref.vision_model(torch.tensor(pixels))
    queries = ref.qformer(query_embeds=ref.query_tokens.expand(2, -1, -1),
                          encoder_hidden_states=vision.last_hidden_state).last_hidden_state
  out = _run(ours.vision_model, jnp.asarray(tiny_blip2.nhwc(pixels)))
  np.testing.assert_allclose(out.tokens, vision.last_hidden_state.numpy(), atol=1e-4, rtol=0)
  # BLIP-2's pooled output is the CLS token normalised a second time.
  np.testing.assert_allclose(out.pooled, vision.pooler_output.numpy(), atol=1e-4, rtol=0)
  got = _run(ours.qformer, jnp.broadcast_to(ours.query_tokens[...], (2, 4, 32)), out.tokens)
  np.testing.assert_allclose(got, queries.numpy(), atol=1e-4, rtol=0)


def test_whole_model_logits_equal_transformers(pair):
  family, ref, ours = pair
  pixels = tiny_blip2.images()
  text = np.random.default_rng(0).integers(3, 200, (2, 5))
  # transformers reads the query outputs where the prompt holds <image> placeholders.
  ids = np.concatenate([np.full((2, tiny_blip2.NUM_QUERY), ref.config.image_token_index), text],
                       axis=1)
  kwargs = dict(pixel_values=torch.tensor(pixels), input_ids=torch.tensor(ids))
  ours_kwargs = {}
  if family == 't5':
    dec = np.random.default_rng(1).integers(3, 200, (2, 6))
    kwargs['decoder_input_ids'] = torch.tensor(dec)
    ours_kwargs['decoder_input_ids'] = jnp.asarray(dec)
  with torch.no_grad():
    want = ref(**kwargs).logits.numpy()
  got = _run(ours, jnp.asarray(text), images=jnp.asarray(tiny_blip2.nhwc(pixels)), **ours_kwargs)
  assert got.shape == want.shape
  np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_sharded_folder_loads_and_a_missing_shard_is_named(tmp_path):
  ref, _ = tiny_blip2.save_blip2(tmp_path, 'opt', max_shard_size='40KB')
  index = tmp_path / 'model.safetensors.index.json'
  shards = sorted(set(json.loads(index.read_text())['weight_map'].values()))
  assert len(shards) > 2
  ours = convert_blip2.load_blip2(str(tmp_path))
  np.testing.assert_allclose(ours.query_tokens[...], ref.query_tokens.detach().numpy())
  os.remove(tmp_path / shards[1])
  with pytest.raises(CheckpointError, match=rf'model.safetensors.index.json: shard '
                                            rf'{shards[1]} \(holding .*\) is missing'):
    convert_blip2.load_blip2(str(tmp_path))


def test_bad_checkpoints_are_refused_naming_the_file_and_key(tmp_path):
  tiny_blip2.save_blip2(tmp_path, 'opt')
  hf = hub.read_config(str(tmp_path))
  # A tokenizer with more tokens than the language model's embedding table.
  with pytest.raises(CheckpointError, match=r'config.json: text_config.vocab_size is \d+ but '
                                            'the caption tokenizer has 100000 tokens'):
    convert_blip2.check_vocabulary(100_000, str(tmp_path), hf)
  (tmp_path / 'config.json').write_text(json.dumps({**hf, 'model_type': 'git'}))
  with pytest.raises(CheckpointError, match="config.json: model_type is 'git', not a BLIP-2"):
    convert_blip2.load_blip2(str(tmp_path))
