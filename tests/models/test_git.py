"""GIT's own behaviour (its logits equal transformers': tests/convert/test_git.py): the image
tokens see each other both ways, the text is causal and sees every image token."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from wikiart_jax.models.git import GitConfig, GitForCausalLM
from wikiart_jax.models.vit import ViTConfig

VISION = ViTConfig(image_size=16, patch_size=8, hidden_size=16, num_layers=1, num_heads=2,
                   mlp_dim=16)
CFG = GitConfig(vision=VISION, vocab_size=11, hidden_size=16, num_layers=2, num_heads=2,
                mlp_dim=32, max_position_embeddings=6)


@pytest.fixture(scope='module')
def model():
  return GitForCausalLM(CFG, rngs=nnx.Rngs(0))


def test_image_tokens_attend_both_ways_and_text_causally(model):  # pylint: disable=redefined-outer-name
  ids = jax.random.randint(jax.random.key(0), (2, 4), 0, CFG.vocab_size)
  prefix = jax.random.normal(jax.random.key(1), (2, 5, CFG.hidden_size))  # CLS + 4 patches
  logits, _ = model(ids, prefix_embeds=prefix)
  assert logits.shape == (2, 9, CFG.vocab_size) and logits.dtype == jnp.float32
  # Changing the last image token changes the first image token's output: bidirectional.
  moved, _ = model(ids, prefix_embeds=prefix.at[:, -1].add(1.0))
  assert not np.allclose(moved[:, 0], logits[:, 0])
  # Changing the last text token changes nothing before it (image tokens included).
  later, _ = model(ids.at[:, -1].set((ids[:, -1] + 1) % CFG.vocab_size), prefix_embeds=prefix)
  np.testing.assert_array_equal(later[:, :-1], logits[:, :-1])


def test_images_are_encoded_into_the_prefix(model):  # pylint: disable=redefined-outer-name
  images = jax.random.normal(jax.random.key(2), (2, 16, 16, 3))
  tokens = model.encode_images(images)
  assert tokens.shape == (2, 5, CFG.hidden_size)
  ids = jnp.ones((2, 3), jnp.int32)
  np.testing.assert_allclose(model(ids, images=images, text_logits_only=True)[0],
                             model(ids, prefix_embeds=tokens)[0][:, 5:], atol=1e-5)
  with pytest.raises(ValueError, match='pass images or prefix_embeds, not both'):
    model(ids, images=images, prefix_embeds=tokens)


def test_bad_sizes_are_refused(model):  # pylint: disable=redefined-outer-name
  with pytest.raises(ValueError, match='7 text tokens exceeds max_position_embeddings=6'):
    model(jnp.zeros((1, 7), jnp.int32))
  with pytest.raises(ValueError, match="final_norm='all'"):
    GitForCausalLM(GitConfig(vision=ViTConfig(final_norm='cls')), rngs=nnx.Rngs(0))
