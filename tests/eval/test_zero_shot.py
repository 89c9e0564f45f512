"""Zero-shot CLIP on a tiny random model: end to end, checked against transformers."""

import numpy as np
import pytest
import sklearn.metrics
import torch

from wikiart_jax.eval import zero_shot

from tiny_clip import save_random_clip

CLASS_NAMES = {'style': ['Impressionism', 'Cubism', 'Baroque', 'Pop Art', 'Ukiyo e'],
               'genre': ['portrait', 'landscape', 'still life'],
               'artist': ['Claude Monet', 'Pablo Picasso', 'Rembrandt', 'Hokusai']}


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
  """(folder, PyTorch CLIPModel, tokenizer) of a tiny random CLIP checkpoint."""
  folder = tmp_path_factory.mktemp('clip')
  model, tokenizer = save_random_clip(folder)
  return folder, model, tokenizer


def _torch_text(model, tokenizer, texts):
  out = tokenizer(texts, padding='max_length', max_length=77, truncation=True,
                  return_tensors='pt')
  with torch.no_grad():
    f = model.get_text_features(input_ids=out['input_ids'],
                                attention_mask=out['attention_mask']).pooler_output.numpy()
  return f / np.linalg.norm(f, axis=-1, keepdims=True)


def _torch_images(model, images_imagenet):
  # The hand-written reference of the re-normalisation: ImageNet stats -> CLIP stats.
  rgb = images_imagenet * np.array([0.229, 0.224, 0.225]) + np.array([0.485, 0.456, 0.406])
  clip = (rgb - np.array([0.48145466, 0.4578275, 0.40821073])) / np.array(
      [0.26862954, 0.26130258, 0.27577711])
  with torch.no_grad():
    f = model.get_image_features(pixel_values=torch.tensor(
        clip.transpose(0, 3, 1, 2), dtype=torch.float32)).pooler_output.numpy()
  return f / np.linalg.norm(f, axis=-1, keepdims=True)


def _batches():
  rng = np.random.default_rng(0)
  images = rng.normal(size=(7, 16, 16, 3)).astype(np.float32)
  labels = {'style': rng.integers(0, 5, 7), 'genre': rng.integers(0, 3, 7),
            'artist': rng.integers(0, 4, 7)}
  labels['genre'][2] = -1  # unknown genre: ignored
  return images, labels, [
      {'image': images[:4], **{t: l[:4] for t, l in labels.items()}},
      {'image': images[4:], **{t: l[4:] for t, l in labels.items()}}]


def test_templates():
  assert 'un tableau de style {}' in zero_shot.templates('style', 'fr')
  assert 'a painting in the {} style' in zero_shot.templates('style', 'en')
  both = zero_shot.templates('artist', 'both')
  assert set(both) == set(zero_shot.templates('artist', 'en') + zero_shot.templates('artist', 'fr'))
  with pytest.raises(ValueError, match="lang must be"):
    zero_shot.templates('style', 'de')


@pytest.mark.parametrize('lang', ['en', 'fr', 'both'])
def test_zero_shot_matches_torch(checkpoint, lang):
  folder, model, tokenizer = checkpoint
  zs = zero_shot.ZeroShotCLIP.from_pretrained(str(folder))
  images, labels, batches = _batches()
  got = zero_shot.evaluate(zs, batches, CLASS_NAMES, lang=lang, top_k=2)

  img = _torch_images(model, images)
  np.testing.assert_allclose(zs.encode_images(images), img, atol=1e-4)
  for task, names in CLASS_NAMES.items():
    prompts = zero_shot.templates(task, lang)
    per_prompt = _torch_text(model, tokenizer, [p.format(n) for n in names for p in prompts])
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


def test_clip_score_matches_torch(checkpoint):
  folder, model, tokenizer = checkpoint
  zs = zero_shot.ZeroShotCLIP.from_pretrained(str(folder))
  images = np.random.default_rng(1).normal(size=(3, 16, 16, 3)).astype(np.float32)
  captions = ['a cat', 'un tableau impressionniste', 'two boats on a river']
  img = _torch_images(model, images)
  txt = _torch_text(model, tokenizer, ['A photo depicts ' + c for c in captions])
  want = 2.5 * np.maximum((img * txt).sum(-1), 0)
  assert (want > 0).any(), 'pick inputs with a positive similarity, else max(., 0) goes untested'
  np.testing.assert_allclose(zs.clip_score(images, captions), want, atol=1e-4)
  with pytest.raises(ValueError, match='3 images but 2 captions'):
    zs.clip_score(images, captions[:2])
