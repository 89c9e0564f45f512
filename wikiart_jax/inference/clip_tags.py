"""CLIP as a content tagger: the probability that a picture shows each tag of text/subjects.py.

Each tag is embedded as the re-normalised mean of its prompt embeddings (English
and French prompts, as the zero-shot baseline ensembles them), and so is "a
painting" (the neutral prompts). A tag's probability is CLIP's softmax between
the two, the tag and the neutral painting:

    p(tag | image) = sigmoid(s * (cos(image, tag) - cos(image, painting)))

with s CLIP's own logit scale: a tag CLIP finds no likelier than "a painting"
gets 0.5 or less, each tag independently of the others (multi-label). Images are
prepared as the checkpoint's CLIPImageProcessor does (shorter side resized with
its filter, centre crop, its mean and std), so the scores are transformers'.
`data/tag_scores.py` runs a `ClipTagScorer` over a dataset at `prepare`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence

import jax
import numpy as np
from PIL import Image

from wikiart_jax.convert import hub
from wikiart_jax.core import CheckpointError
from wikiart_jax.data.augment import Normalization
from wikiart_jax.inference import zero_shot
from wikiart_jax.text import subjects as subjects_lib

_FILTERS = {'bilinear': Image.BILINEAR, 'bicubic': Image.BICUBIC}


def _processor_sizes(folder: str, image_size: int) -> tuple[int, tuple[int, int]]:
  """(shortest edge, (crop height, crop width)) of a CLIP folder's image processor."""
  path = os.path.join(folder, 'preprocessor_config.json')
  if not os.path.isfile(path):
    return image_size, (image_size, image_size)
  with open(path, encoding='utf-8') as f:
    cfg = json.load(f)
  size, crop = cfg.get('size', image_size), cfg.get('crop_size', image_size)
  short = size.get('shortest_edge', image_size) if isinstance(size, dict) else int(size)
  if isinstance(crop, dict):
    crop = (int(crop.get('height', image_size)), int(crop.get('width', image_size)))
  else:
    crop = (int(crop), int(crop))
  return int(short), crop


def clip_pixels(rgb: np.ndarray, shortest_edge: int, crop: tuple[int, int],
                norm: Normalization) -> np.ndarray:
  """One RGB uint8 image [H, W, 3] as CLIPImageProcessor prepares it: float32 [h, w, 3]."""
  height, width = rgb.shape[:2]
  short, long = min(height, width), max(height, width)
  new_long = int(shortest_edge * long / short)
  size = (shortest_edge, new_long) if width <= height else (new_long, shortest_edge)  # (w, h)
  resized = np.asarray(Image.fromarray(rgb).resize(size, _FILTERS[norm.interpolation]))
  top, left = (size[1] - crop[0]) // 2, (size[0] - crop[1]) // 2
  if top < 0 or left < 0:
    raise ValueError(f'CLIP crop {crop} is larger than its resize {size}')
  x = resized[top:top + crop[0], left:left + crop[1]].astype(np.float32) / 255.0
  return (x - np.asarray(norm.mean, np.float32)) / np.asarray(norm.std, np.float32)


class ClipTagScorer:
  """`scorer(rgb images) -> probabilities [n, T]` for the tags `keys`, with one CLIP."""

  def __init__(self, clip: zero_shot.ZeroShotCLIP, *, source: str = '',
               keys: Sequence[str] = subjects_lib.TAG_KEYS, lang: str = 'both',
               shortest_edge: int | None = None, crop: tuple[int, int] | None = None):
    """Embeds the prompts once.

    Args:
      clip: the CLIP model and tokenizer.
      source: where the CLIP came from (part of the fingerprint).
      keys: the tags to score, in order.
      lang: prompts in 'en', 'fr' or 'both'.
      shortest_edge, crop: the image processor's sizes (default: the model's image size).
    """
    self.clip = clip
    self.keys = tuple(keys)
    self.lang = lang
    size = clip.model.config.vision.image_size
    self.shortest_edge = shortest_edge or size
    self.crop = crop or (size, size)
    prompts = [subjects_lib.clip_prompts(subjects_lib.SUBJECTS[k], lang) for k in self.keys]
    neutral = subjects_lib.neutral_prompts(lang)
    self._tags = self._ensemble(prompts)  # [T, D]
    self._neutral = self._ensemble([neutral])[0]  # [D]
    self.scale = float(np.exp(np.asarray(jax.device_get(clip.model.logit_scale[...]))))
    self.fingerprint = {
        'clip_from': source, 'tags': list(self.keys), 'prompts': prompts, 'neutral': neutral,
        'scale': self.scale, 'pixels': [self.shortest_edge, list(self.crop),
                                        clip.pixels.to_dict()],
        'embeddings': hashlib.sha1(np.round(self._tags, 5).tobytes()).hexdigest(),
    }

  def _ensemble(self, prompt_lists: Sequence[Sequence[str]]) -> np.ndarray:
    """Per list, the re-normalised mean of its L2-normalised prompt embeddings."""
    flat = [p for prompts in prompt_lists for p in prompts]
    emb = self.clip.encode_text(flat)
    out, start = [], 0
    for prompts in prompt_lists:
      mean = emb[start:start + len(prompts)].mean(axis=0)
      out.append(mean / np.linalg.norm(mean))
      start += len(prompts)
    return np.stack(out).astype(np.float32)

  @property
  def num_tags(self) -> int:
    return len(self.keys)

  def __call__(self, images: Sequence[np.ndarray]) -> np.ndarray:
    """float32 probabilities [n, T] of n RGB uint8 images of any sizes."""
    if not len(images):
      return np.zeros((0, self.num_tags), np.float32)
    pixels = np.stack([clip_pixels(x, self.shortest_edge, self.crop, self.clip.pixels)
                       for x in images])
    image_emb = self.clip.encode_images(pixels, self.clip.pixels).astype(np.float64)
    margin = image_emb @ self._tags.T.astype(np.float64) - (image_emb @ self._neutral)[:, None]
    return (1.0 / (1.0 + np.exp(-self.scale * margin))).astype(np.float32)


def from_config(tags_config) -> ClipTagScorer:
  """The scorer of `config.data.tags` (clip_from, clip_lang); loads CLIP now, so a folder
  that does not load is a one-line CheckpointError before any image is read."""
  source = tags_config.clip_from
  try:
    folder = hub.resolve(source)
    clip = zero_shot.ZeroShotCLIP.from_pretrained(folder)
    short, crop = _processor_sizes(folder, clip.model.config.vision.image_size)
  except (OSError, ValueError, KeyError, TypeError) as e:  # CheckpointError is a ValueError
    message = str(e).splitlines()[0] if str(e) else type(e).__name__
    raise CheckpointError(f'data.tags.clip_from={source!r} does not load as CLIP: '
                          f'{message}') from e
  return ClipTagScorer(clip, source=source, lang=tags_config.clip_lang, shortest_edge=short,
                       crop=crop)
