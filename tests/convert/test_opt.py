"""OPT: our Flax model on converted weights equals transformers' OPTForCausalLM."""

import jax.numpy as jnp
import numpy as np
import pytest
import safetensors.numpy
import torch
import transformers
from flax import nnx

from wikiart_jax.convert import opt as convert_opt
from wikiart_jax.core import CheckpointError

TINY = dict(vocab_size=83, hidden_size=32, num_hidden_layers=2, ffn_dim=48, num_attention_heads=4,
            max_position_embeddings=24, word_embed_proj_dim=32, pad_token_id=1, bos_token_id=2,
            eos_token_id=2)

# One compiled program per test instead of op-by-op dispatch: several times less CPU.
_run = nnx.jit(lambda model, *args, **kwargs: model(*args, **kwargs))


def _save(folder, **overrides):
  torch.manual_seed(0)
  model = transformers.OPTForCausalLM(transformers.OPTConfig(**{**TINY, **overrides})).eval()
  model.save_pretrained(folder)
  return model


def test_logits_match_transformers_with_left_padding(tmp_path):
  ref = _save(tmp_path)
  ours = convert_opt.load_opt(str(tmp_path))
  assert ours.lm_head is None  # tied: the file has no head of its own
  ids = np.random.default_rng(0).integers(3, 83, (2, 9))
  mask = np.ones_like(ids)
  mask[1, :4] = 0  # a left-padded row: its positions count its real tokens only
  with torch.no_grad():
    want = ref(torch.tensor(ids), attention_mask=torch.tensor(mask)).logits.numpy()
  got, _ = _run(ours, jnp.asarray(ids), attention_mask=jnp.asarray(mask))
  real = mask.astype(bool)
  np.testing.assert_allclose(np.asarray(got)[real], want[real], atol=1e-4, rtol=0)


def test_a_head_of_its_own_is_loaded_and_an_equal_one_is_tied(tmp_path):
  ref = _save(tmp_path)
  path = tmp_path / 'model.safetensors'
  tensors = safetensors.numpy.load_file(str(path))
  embed = tensors['model.decoder.embed_tokens.weight']
  tensors['lm_head.weight'] = embed.copy()  # as older files store a tied head
  safetensors.numpy.save_file(tensors, str(path))
  assert convert_opt.load_opt(str(tmp_path)).lm_head is None
  head = np.random.default_rng(0).normal(size=embed.shape).astype(np.float32)
  tensors['lm_head.weight'] = head
  safetensors.numpy.save_file(tensors, str(path))
  ours = convert_opt.load_opt(str(tmp_path))
  np.testing.assert_array_equal(ours.lm_head.kernel[...], head.T)
  ids = np.arange(3, 10)[None]
  with torch.no_grad():
    ref.lm_head.weight = torch.nn.Parameter(torch.tensor(head))
    want = ref(torch.tensor(ids)).logits.numpy()
  np.testing.assert_allclose(_run(ours, jnp.asarray(ids))[0], want, atol=1e-4, rtol=0)


def test_longer_than_the_position_table_is_refused(tmp_path):
  _save(tmp_path)
  ours = convert_opt.load_opt(str(tmp_path))
  with pytest.raises(ValueError, match='25 positions .* exceeds max_position_embeddings=24'):
    ours(jnp.ones((1, 25), jnp.int32))
  with pytest.raises(ValueError, match='exceeds max_position_embeddings=24'):
    ours.init_cache(1, 10, 15)


@pytest.mark.parametrize('option, value', [('do_layer_norm_before', False),
                                           ('word_embed_proj_dim', 16)])
def test_unsupported_variants_are_refused(option, value):
  hf = {**TINY, 'model_type': 'opt', option: value}
  with pytest.raises(CheckpointError, match=option):
    convert_opt.config_from_hf(hf)
  with pytest.raises(CheckpointError, match="model_type 'opt'"):
    convert_opt.config_from_hf({**TINY, 'model_type': 'gpt2'})
