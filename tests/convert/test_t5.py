"""T5 / Flan-T5: our Flax model on converted weights equals transformers'
T5ForConditionalGeneration."""

import jax.numpy as jnp
import numpy as np
import pytest
import safetensors.numpy
import torch
import transformers
from flax import nnx

from wikiart_jax.convert import t5 as convert_t5
from wikiart_jax.core import CheckpointError
from wikiart_jax.models import t5 as t5_lib

# Few buckets and a short max distance: the logarithmic buckets are reached.
TINY = dict(vocab_size=83, d_model=32, d_kv=8, d_ff=48, num_layers=2, num_decoder_layers=3,
            num_heads=4, relative_attention_num_buckets=8, relative_attention_max_distance=12)

_run = nnx.jit(lambda model, *args, **kwargs: model(*args, **kwargs))


def _save(folder, **overrides):
  torch.manual_seed(0)
  model = transformers.T5ForConditionalGeneration(
      transformers.T5Config(**{**TINY, **overrides})).eval()
  model.save_pretrained(folder)
  return model


def _ids(shape, seed):
  return np.random.default_rng(seed).integers(3, 83, shape)


@pytest.mark.parametrize('feed_forward', ['gated-gelu', 'relu'])
def test_logits_match_transformers_with_a_padded_encoder(tmp_path, feed_forward):
  ref = _save(tmp_path, feed_forward_proj=feed_forward)  # T5 1.0's tied, scaled head
  ours = convert_t5.load_t5(str(tmp_path))
  ids, dec = _ids((2, 30), 0), _ids((2, 20), 1)  # past max_distance both ways
  mask = np.ones_like(ids)
  mask[1, 21:] = 0
  with torch.no_grad():
    want = ref(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
               decoder_input_ids=torch.tensor(dec)).logits.numpy()
  got, _ = _run(ours, jnp.asarray(ids), jnp.asarray(dec), attention_mask=jnp.asarray(mask))
  np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_flan_t5_head_of_its_own_and_the_t5_scaling(tmp_path):
  """Flan-T5 files hold an lm_head unlike `shared` and no scaling; T5 1.0 scales."""
  ref = _save(tmp_path, feed_forward_proj='gated-gelu', tie_word_embeddings=False)
  path = tmp_path / 'model.safetensors'
  tensors = safetensors.numpy.load_file(str(path))
  head = np.random.default_rng(0).normal(size=tensors['shared.weight'].shape).astype(np.float32)
  tensors['lm_head.weight'] = head
  safetensors.numpy.save_file(tensors, str(path))
  ours = convert_t5.load_t5(str(tmp_path))
  assert ours.lm_head is not None and not ours.config.scale_decoder_outputs
  ids, dec = _ids((1, 7), 2), _ids((1, 5), 3)
  with torch.no_grad():
    ref.lm_head.weight = torch.nn.Parameter(torch.tensor(head))
    want = ref(input_ids=torch.tensor(ids), decoder_input_ids=torch.tensor(dec)).logits.numpy()
  np.testing.assert_allclose(_run(ours, jnp.asarray(ids), jnp.asarray(dec))[0], want, atol=1e-4)
  old = {'model_type': 't5', **TINY, 'tie_word_embeddings': True}  # a T5 1.0 config.json
  assert convert_t5.config_from_hf(old).scale_decoder_outputs


@pytest.mark.parametrize('bidirectional', [True, False])
def test_relative_buckets_equal_transformers(bidirectional):
  relative = np.arange(-300, 300)
  want = transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket(
      torch.tensor(relative), bidirectional=bidirectional, num_buckets=32, max_distance=128)
  got = t5_lib.relative_position_bucket(jnp.asarray(relative), bidirectional=bidirectional,
                                        num_buckets=32, max_distance=128)
  np.testing.assert_array_equal(got, want.numpy())


def test_unsupported_feed_forward_is_refused():
  with pytest.raises(CheckpointError, match="feed_forward_proj 'swiglu-gelu'"):
    convert_t5.config_from_hf({'model_type': 't5', **TINY, 'feed_forward_proj': 'swiglu-gelu'})
