"""The zero-shot baseline's metrics: top-1 / top-k / macro-F1 equal scikit-learn's on
transformers' own CLIP similarities."""

import numpy as np
import pytest
import sklearn.metrics

from tiny_clip import CLASS_NAMES
from tiny_clip import checkpoint  # noqa: F401  (a fixture)
from tiny_clip import torch_image_embeddings
from tiny_clip import torch_text_embeddings
from wikiart_jax.evaluators import zero_shot as zero_shot_eval
from wikiart_jax.inference import zero_shot


def _batches():
  rng = np.random.default_rng(0)
  images = rng.normal(size=(7, 16, 16, 3)).astype(np.float32)
  labels = {'style': rng.integers(0, 5, 7), 'genre': rng.integers(0, 3, 7),
            'artist': rng.integers(0, 4, 7)}
  labels['genre'][2] = -1  # unknown genre: ignored
  return images, labels, [
      {'image': images[:4], **{t: l[:4] for t, l in labels.items()}},
      {'image': images[4:], **{t: l[4:] for t, l in labels.items()}}]


@pytest.mark.parametrize('lang', ['en', 'fr', 'both'])
def test_zero_shot_matches_torch(checkpoint, lang):
  folder, model, tokenizer = checkpoint
  zs = zero_shot.ZeroShotCLIP.from_pretrained(str(folder))
  images, labels, batches = _batches()
  got = zero_shot_eval.evaluate(zs, batches, CLASS_NAMES, lang=lang, top_k=2)

  img = torch_image_embeddings(model, images)
  np.testing.assert_allclose(zs.encode_images(images), img, atol=1e-4)
  for task, names in CLASS_NAMES.items():
    prompts = zero_shot.templates(task, lang)
    per_prompt = torch_text_embeddings(model, tokenizer, [p.format(n) for n in names for p in prompts])
    cls = per_prompt.reshape(len(names), len(prompts), -1).mean(axis=1)
    cls /= np.linalg.norm(cls, axis=-1, keepdims=True)
    np.testing.assert_allclose(zs.class_embeddings(names, prompts), cls, atol=1e-4)
    scores, y = img @ cls.T, labels[task]
    keep = y >= 0
    pred = scores[keep].argmax(1)
    present = np.union1d(y[keep], pred)
    assert got[task]['count'] == keep.sum()
    assert got[task]['top1'] == pytest.approx(sklearn.metrics.accuracy_score(y[keep], pred))
    assert got[task]['top2'] == pytest.approx(sklearn.metrics.top_k_accuracy_score(
        y[keep], scores[keep], k=2, labels=np.arange(len(names))))
    assert got[task]['f1_macro'] == pytest.approx(sklearn.metrics.f1_score(
        y[keep], pred, average='macro', labels=present, zero_division=0))
