"""Zero-shot CLIP on a tiny random model: embeddings and CLIPScore against transformers."""

import numpy as np
import pytest

from tiny_clip import CLASS_NAMES
from tiny_clip import checkpoint  # noqa: F401  (a fixture)
from tiny_clip import torch_image_embeddings
from tiny_clip import torch_text_embeddings
from wikiart_jax.inference import zero_shot


def test_templates():
  assert 'un tableau de style {}' in zero_shot.templates('style', 'fr')
  assert 'a painting in the {} style' in zero_shot.templates('style', 'en')
  both = zero_shot.templates('artist', 'both')
  assert set(both) == set(zero_shot.templates('artist', 'en') + zero_shot.templates('artist', 'fr'))
  with pytest.raises(ValueError, match="lang must be"):
    zero_shot.templates('style', 'de')


@pytest.mark.parametrize('lang', ['en', 'fr', 'both'])
def test_embeddings_match_torch(checkpoint, lang):
  folder, model, tokenizer = checkpoint
  zs = zero_shot.ZeroShotCLIP.from_pretrained(str(folder))
  images = np.random.default_rng(0).normal(size=(7, 16, 16, 3)).astype(np.float32)
  np.testing.assert_allclose(zs.encode_images(images), torch_image_embeddings(model, images),
                             atol=1e-4)
  for task, names in CLASS_NAMES.items():
    prompts = zero_shot.templates(task, lang)
    per_prompt = torch_text_embeddings(model, tokenizer,
                                       [p.format(n) for n in names for p in prompts])
    cls = per_prompt.reshape(len(names), len(prompts), -1).mean(axis=1)
    cls /= np.linalg.norm(cls, axis=-1, keepdims=True)
    np.testing.assert_allclose(zs.class_embeddings(names, prompts), cls, atol=1e-4)


def test_clip_score_matches_torch(checkpoint):
  folder, model, tokenizer = checkpoint
  zs = zero_shot.ZeroShotCLIP.from_pretrained(str(folder))
  images = np.random.default_rng(1).normal(size=(3, 16, 16, 3)).astype(np.float32)
  captions = ['a cat', 'un tableau impressionniste', 'two boats on a river']
  img = torch_image_embeddings(model, images)
  txt = torch_text_embeddings(model, tokenizer, ['A photo depicts ' + c for c in captions])
  want = 2.5 * np.maximum((img * txt).sum(-1), 0)
  assert (want > 0).any(), 'pick inputs with a positive similarity, else max(., 0) goes untested'
  np.testing.assert_allclose(zs.clip_score(images, captions), want, atol=1e-4)
  with pytest.raises(ValueError, match='3 images but 2 captions'):
    zs.clip_score(images, captions[:2])
