"""GIT: our Flax model on converted weights equals transformers' GitForCausalLM."""

import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers
from flax import nnx

from wikiart_jax.convert import git as convert_git
from wikiart_jax.models.git import GitConfig, GitForCausalLM
from wikiart_jax.models.vit import ViTConfig

VISION = dict(hidden_size=40, num_hidden_layers=2, num_attention_heads=4, intermediate_size=56,
              image_size=16, patch_size=8)
TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
            vocab_size=91, max_position_embeddings=24, bos_token_id=1, eos_token_id=2,
            pad_token_id=0)


# One compiled program per test instead of op-by-op dispatch: several times less CPU.
_run = nnx.jit(lambda model, *args, **kwargs: model(*args, **kwargs))


def _save(tmp_path):
  torch.manual_seed(0)
  model = transformers.GitForCausalLM(transformers.GitConfig(vision_config=VISION, **TINY)).eval()
  model.save_pretrained(tmp_path)
  return model


def _inputs():
  rng = np.random.default_rng(0)
  images = rng.normal(size=(2, 3, 16, 16)).astype(np.float32)
  ids = rng.integers(3, 91, size=(2, 6))
  ids[:, 0] = 1
  return images, ids


def test_logits_match_transformers(tmp_path):
  ref = _save(tmp_path)
  ours = convert_git.load_git(str(tmp_path))
  images, ids = _inputs()
  with torch.no_grad():
    want = ref(input_ids=torch.tensor(ids), pixel_values=torch.tensor(images)).logits.numpy()
  got, _ = _run(ours, jnp.asarray(ids), images=jnp.asarray(images.transpose(0, 2, 3, 1)))
  assert got.shape == want.shape == (2, 5 + 6, 91)
  np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_padding_mask_matches_transformers(tmp_path):
  ref = _save(tmp_path)
  ours = convert_git.load_git(str(tmp_path))
  images, ids = _inputs()
  mask = np.ones_like(ids)
  mask[0, 4:] = 0
  with torch.no_grad():
    want = ref(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
               pixel_values=torch.tensor(images)).logits.numpy()
  got, _ = _run(ours, jnp.asarray(ids), images=jnp.asarray(images.transpose(0, 2, 3, 1)),
                attention_mask=jnp.asarray(mask))
  real = np.concatenate([np.ones((2, 5), bool), mask.astype(bool)], axis=1)
  np.testing.assert_allclose(np.asarray(got)[real], want[real], atol=1e-4, rtol=0)


def test_kv_cache_token_by_token_equals_full_pass(tmp_path):
  _save(tmp_path)
  ours = convert_git.load_git(str(tmp_path))
  images, ids = _inputs()
  images, ids = jnp.asarray(images.transpose(0, 2, 3, 1)), jnp.asarray(ids)
  full, _ = _run(ours, ids, images=images)
  step = nnx.jit(lambda m, i, c: m(i, cache=c))
  cache = ours.init_cache(2, 5, 11)  # 5 image tokens, 11 text tokens
  # Image plus the first 2 text tokens in one call, then one token at a time.
  logits, cache = _run(ours, ids[:, :2], prefix_embeds=ours.encode_images(images),
                       cache=cache)
  np.testing.assert_allclose(logits, full[:, :7], atol=1e-5)
  for t in range(2, 6):
    logits, cache = step(ours, ids[:, t:t + 1], cache)
    np.testing.assert_allclose(logits[:, 0], full[:, 5 + t], atol=1e-5)
  assert int(cache.index) == 11 and int(cache.num_prefix) == 5


def test_text_longer_than_position_table_is_refused():
  vision = ViTConfig(image_size=16, patch_size=8, hidden_size=16, num_layers=1, num_heads=2,
                     mlp_dim=16)
  model = GitForCausalLM(GitConfig(vision=vision, vocab_size=11, hidden_size=16, num_layers=1,
                                   num_heads=2, mlp_dim=16, max_position_embeddings=4),
                         rngs=nnx.Rngs(0))
  images = jnp.zeros((1, 16, 16, 3))
  logits, _ = _run(model, jnp.ones((1, 4), jnp.int32), images=images)  # exactly fits
  assert logits.shape == (1, 5 + 4, 11)  # CLS + 2x2 patches, then the text
  assert bool(jnp.isfinite(logits).all())
  with pytest.raises(ValueError, match='5 text tokens exceeds max_position_embeddings=4'):
    _run(model, jnp.ones((1, 5), jnp.int32), images=images)  # refused while tracing
