"""CLIP's own behaviour (its features equal transformers': tests/convert/test_clip.py): the
text pooled at the end-of-text token, causal text attention, scaled cosine logits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from wikiart_jax.models.clip import CLIP, CLIPConfig, CLIPTextConfig
from wikiart_jax.models.vit import ViTConfig

TEXT = CLIPTextConfig(vocab_size=20, max_position_embeddings=8, hidden_size=16, num_layers=2,
                      num_heads=2, mlp_dim=32)
VISION = ViTConfig(image_size=16, patch_size=8, hidden_size=16, num_layers=1, num_heads=2,
                   mlp_dim=16, pre_layernorm=True, final_norm='cls', activation='quick_gelu')


@pytest.fixture(scope='module')
def model():
  return CLIP(CLIPConfig(text=TEXT, vision=VISION, projection_dim=8), rngs=nnx.Rngs(0))


def test_text_is_pooled_at_the_end_of_text_token(model):  # pylint: disable=redefined-outer-name
  # Old checkpoints (eos_token_id 2) pool at the largest id: the end-of-text token.
  ids = jnp.array([[3, 5, 19, 0, 0], [4, 19, 0, 0, 0]])
  pooled, tokens = model.text_model(ids)
  np.testing.assert_array_equal(pooled, tokens[jnp.arange(2), jnp.array([2, 1])])
  # Text attention is causal: what follows the end-of-text token changes nothing pooled.
  after, _ = model.text_model(ids.at[:, 3:].set(7))
  np.testing.assert_allclose(after, pooled, atol=1e-6)


def test_logits_are_scaled_cosines_of_the_projected_features(model):  # pylint: disable=redefined-outer-name
  images = jax.random.normal(jax.random.key(0), (3, 16, 16, 3))
  ids = jnp.array([[3, 5, 19, 0], [4, 19, 0, 0]])
  logits = model(images, ids)
  img = np.asarray(model.get_image_features(images), np.float64)
  txt = np.asarray(model.get_text_features(ids), np.float64)
  assert img.shape == (3, 8) and txt.shape == (2, 8)
  cos = (img / np.linalg.norm(img, axis=1, keepdims=True)) @ (
      txt / np.linalg.norm(txt, axis=1, keepdims=True)).T
  np.testing.assert_allclose(logits, np.exp(2.6592) * cos, rtol=1e-5)


def test_too_long_a_text_is_refused(model):  # pylint: disable=redefined-outer-name
  with pytest.raises(ValueError, match='9 text tokens exceed max_position_embeddings=8'):
    model.get_text_features(jnp.zeros((1, 9), jnp.int32))
