"""CLIP: image and text embeddings of our model equal transformers' CLIPModel."""

import jax.numpy as jnp
import numpy as np
import torch
import transformers
from flax import nnx

from wikiart_jax.convert import clip as convert_clip

TEXT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
            vocab_size=99, max_position_embeddings=12, eos_token_id=98, bos_token_id=97,
            pad_token_id=0)
VISION = dict(hidden_size=40, num_hidden_layers=2, num_attention_heads=4, intermediate_size=56,
              image_size=16, patch_size=8)


@nnx.jit
def _outputs(model, images, ids, mask):
  return (model.get_image_features(images), model.get_text_features(ids, mask),
          model(images, ids, mask))


def _save(tmp_path, **text_overrides):
  torch.manual_seed(0)
  cfg = transformers.CLIPConfig(text_config={**TEXT, **text_overrides}, vision_config=VISION,
                                projection_dim=24)
  model = transformers.CLIPModel(cfg).eval()
  model.save_pretrained(tmp_path)
  return model


def _inputs(eos=98):
  rng = np.random.default_rng(0)
  images = rng.normal(size=(3, 3, 16, 16)).astype(np.float32)
  ids = rng.integers(1, 90, size=(2, 9))
  ids[:, 0] = 97
  ids[0, 8] = eos
  ids[1, 5], ids[1, 6:] = eos, 0  # a shorter caption, padded after its end token
  mask = (np.arange(9)[None] <= np.array([[8], [5]])).astype(np.int64)
  return images, ids, mask


def _check(ref, ours, eos):
  images, ids, mask = _inputs(eos)
  with torch.no_grad():
    out = ref(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
              pixel_values=torch.tensor(images))
    text_feat = ref.get_text_features(input_ids=torch.tensor(ids),
                                      attention_mask=torch.tensor(mask)).pooler_output.numpy()
    image_feat = ref.get_image_features(pixel_values=torch.tensor(images)).pooler_output.numpy()
  image_got, text_got, logits_got = _outputs(ours, jnp.asarray(images.transpose(0, 2, 3, 1)),
                                             jnp.asarray(ids), jnp.asarray(mask))
  np.testing.assert_allclose(image_got, image_feat, atol=1e-4, rtol=0)
  np.testing.assert_allclose(text_got, text_feat, atol=1e-4, rtol=0)
  np.testing.assert_allclose(logits_got, out.logits_per_image.numpy(), atol=1e-4, rtol=0)


def test_embeddings_match_transformers(tmp_path):
  ref = _save(tmp_path)
  _check(ref, convert_clip.load_clip(str(tmp_path)), eos=98)


def test_legacy_eos_token_id_pools_at_argmax(tmp_path):
  # Old checkpoints (eos_token_id=2, e.g. ViT-B/32) pool at argmax(input_ids).
  ref = _save(tmp_path, eos_token_id=2)
  ours = convert_clip.load_clip(str(tmp_path))
  assert ours.config.text.eos_token_id == 2
  _check(ref, ours, eos=98)
