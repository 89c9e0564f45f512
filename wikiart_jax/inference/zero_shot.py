"""CLIP as a zero-shot classifier and a caption scorer (CLIPScore).

Each class is embedded as the mean of its L2-normalised prompt embeddings
(English, French or both: the prompt ensembling of Radford et al. 2021); an
image's scores are its cosine similarities to them (evaluators/zero_shot.py
turns them into top-1 / top-5 / macro-F1). `clip_score` is Hessel et al. 2021:
2.5 * max(cos, 0) with the caption prefixed "A photo depicts ".
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np

from wikiart_jax.convert import clip as convert_clip
from wikiart_jax.convert import hub
from wikiart_jax.convert import preprocessing
from wikiart_jax.data.augment import IMAGENET, Normalization
from wikiart_jax.models.clip import CLIP

PROMPTS: dict[str, dict[str, tuple[str, ...]]] = {
    'style': {
        'en': ('a painting in the {} style', 'an artwork in the style of {}', 'a {} painting'),
        'fr': ('un tableau de style {}', "une œuvre d'art de style {}",
               'une peinture dans le style {}'),
    },
    'genre': {
        'en': ('a {}', 'a painting of the {} genre', 'an artwork: {}'),
        'fr': ('un tableau du genre {}', 'une œuvre : {}', 'une peinture de genre {}'),
    },
    'artist': {
        'en': ('a painting by {}', 'an artwork by {}', 'a work of art made by {}'),
        'fr': ('un tableau de {}', 'une œuvre de {}', 'une peinture réalisée par {}'),
    },
}
CLIPSCORE_PREFIX = 'A photo depicts '
CLIPSCORE_WEIGHT = 2.5


def templates(task: str, lang: str = 'both') -> tuple[str, ...]:
  """The prompt templates of a task in 'en', 'fr' or 'both'."""
  if task not in PROMPTS:
    raise ValueError(f'no prompts for task {task!r}; expected one of {sorted(PROMPTS)}')
  if lang not in ('en', 'fr', 'both'):
    raise ValueError(f"lang must be 'en', 'fr' or 'both', got {lang!r}")
  langs = ('en', 'fr') if lang == 'both' else (lang,)
  return tuple(t for l in langs for t in PROMPTS[task][l])


def class_names_from_vocab(vocab) -> dict[str, list[str]]:
  """Readable prompt names: 'Naive_Art_Primitivism' -> 'Naive Art Primitivism', artist names."""
  return {'style': [s.replace('_', ' ') for s in vocab.style],
          'genre': [g.replace('_', ' ') for g in vocab.genre],
          'artist': list(vocab.artist_names)}


def to_clip_pixels(images, image_size: int, source: Normalization,
                   target: Normalization) -> jax.Array:
  """Re-normalises [B,H,W,3] images from `source`'s statistics to CLIP's (`target`)
  and resizes them (bicubic) to CLIP's `image_size`."""
  images = jnp.asarray(images, jnp.float32)
  if images.ndim != 4 or images.shape[-1] != 3:
    raise ValueError(f'images must be [B,H,W,3], got {tuple(images.shape)}')
  mean, std = np.asarray(source.mean), np.asarray(source.std)
  clip_mean, clip_std = np.asarray(target.mean), np.asarray(target.std)
  images = (images * std + mean - clip_mean) / clip_std
  if images.shape[1:3] != (image_size, image_size):
    images = jax.image.resize(images, (images.shape[0], image_size, image_size, 3), 'bicubic')
  return images


def _unit(x):
  return x / jnp.linalg.norm(x, axis=-1, keepdims=True)


@functools.partial(jax.jit, static_argnums=0)
def _text_embeds(graphdef, state, ids, mask):
  return _unit(nnx.merge(graphdef, state).get_text_features(ids, mask))


@functools.partial(jax.jit, static_argnums=0)
def _image_embeds(graphdef, state, images):
  return _unit(nnx.merge(graphdef, state).get_image_features(images))


class ZeroShotCLIP:
  """A CLIP model and its tokenizer, with jitted, normalised text/image embeddings."""

  def __init__(self, model: CLIP, tokenizer: Any, *, text_batch_size: int = 256,
               pixels: Normalization = preprocessing.OPENAI_CLIP):
    """Args: the model, its tokenizer, the text batch size, and the pixel
    statistics the model was trained with (its processor's)."""
    self.model = model
    self.tokenizer = tokenizer
    self.text_batch_size = text_batch_size
    self.pixels = pixels
    self._graphdef, self._state = nnx.split(model)

  @classmethod
  def from_pretrained(cls, source: str, *, dtype: str = 'float32') -> 'ZeroShotCLIP':
    """Loads a CLIP checkpoint, its CLIPTokenizer and its image statistics
    ('hf:<id>' or a folder)."""
    from transformers import CLIPTokenizer  # pylint: disable=g-import-not-at-top
    folder = hub.resolve(source)
    return cls(convert_clip.load_clip(folder, dtype=dtype), CLIPTokenizer.from_pretrained(folder),
               pixels=preprocessing.normalization_of(folder))

  def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and mask, padded to the model's context length (one compiled shape)."""
    length = self.model.config.text.max_position_embeddings
    out = self.tokenizer(list(texts), padding='max_length', truncation=True, max_length=length,
                         return_tensors='np')
    return out['input_ids'].astype(np.int32), out['attention_mask'].astype(np.int32)

  def encode_text(self, texts: Sequence[str]) -> np.ndarray:
    """L2-normalised text embeddings [N, projection_dim]."""
    chunks = []
    for i in range(0, len(texts), self.text_batch_size):
      ids, mask = self.tokenize(texts[i:i + self.text_batch_size])
      chunks.append(np.asarray(_text_embeds(self._graphdef, self._state, ids, mask)))
    return np.concatenate(chunks)

  def encode_images(self, images, normalization: Normalization = IMAGENET) -> np.ndarray:
    """L2-normalised image embeddings [B, projection_dim] of pixels normalised with
    `normalization` (the run's: they are re-normalised to CLIP's)."""
    pixels = to_clip_pixels(images, self.model.config.vision.image_size, normalization,
                            self.pixels)
    return np.asarray(_image_embeds(self._graphdef, self._state, pixels))

  def class_embeddings(self, names: Sequence[str], prompts: Sequence[str]) -> np.ndarray:
    """[C, projection_dim]: per class, the re-normalised mean of its prompt embeddings."""
    texts = [p.format(n) for n in names for p in prompts]
    emb = self.encode_text(texts).reshape(len(names), len(prompts), -1).mean(axis=1)
    return emb / np.linalg.norm(emb, axis=-1, keepdims=True)

  def clip_score(self, images, captions: Sequence[str], *,
                 normalization: Normalization = IMAGENET) -> np.ndarray:
    """Per-pair CLIPScore [B] = 2.5 * max(cos(image, 'A photo depicts ' + caption), 0)."""
    if len(captions) != len(images):
      raise ValueError(f'{len(images)} images but {len(captions)} captions')
    img = self.encode_images(images, normalization)
    txt = self.encode_text([CLIPSCORE_PREFIX + c for c in captions])
    return CLIPSCORE_WEIGHT * np.maximum((img * txt).sum(axis=-1), 0.0)
