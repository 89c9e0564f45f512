"""A trained classifier restored from a workdir, ready to label images.

Used by `predict` and the web demo: it needs only the workdir (checkpoints and
the vocabularies saved there by training), not the dataset.
"""

import os

import jax
import ml_collections
import numpy as np

from wikiart_jax import description
from wikiart_jax.data import images as images_lib
from wikiart_jax.data import metadata
from wikiart_jax.data import pipeline
from wikiart_jax.eval import caption_eval
from wikiart_jax.models import build
from wikiart_jax.train import checkpointing
from wikiart_jax.train import step as step_lib

TASKS = ('style', 'artist', 'genre')


def make_forward(graphdef, rest, params, mesh, with_context: bool = False):
  """images float32 [B,S,S,3] (numpy) -> {head: probabilities [B,C]} (numpy).

  Any batch size: the batch is padded to a multiple of the device count. With
  `with_context` the forward returns (probabilities, the captioner's context [B,M,D]).
  """
  eval_step = step_lib.make_eval_step(graphdef, rest, with_context=with_context)

  def forward(batch_images: np.ndarray):
    n = len(batch_images)
    out = eval_step(params, pipeline.to_global({'image': _pad_to_devices(batch_images)}, mesh))
    probs, context = out if with_context else (out, None)
    probs = {k: np.asarray(v)[:n] for k, v in jax.device_get(probs).items()}
    return (probs, context[:n]) if with_context else probs

  return forward


class Predictor:
  """Top-k labels and descriptions for images, from a trained workdir."""

  def __init__(self, config: ml_collections.ConfigDict, workdir: str):
    vocab_path = os.path.join(workdir, checkpointing.VOCAB_FILE)
    if not os.path.exists(vocab_path):
      raise FileNotFoundError(f'{vocab_path} is missing: train a model in this workdir first')
    self.vocab = metadata.Vocabularies.from_json(vocab_path)
    self.config = config
    self.image_size = config.data.image_size
    # Built with init_from cleared: the checkpoint holds every weight.
    with config.unlocked():
      config.init_from = ''
    model = build.build_model(config, self.vocab, workdir)
    self.graphdef, self.rest, self.params, self.step, self.mesh = (
        checkpointing.restore_for_model(workdir, model, config.eval.step))
    self.describer = None
    if model.captioner is not None:
      self.describer = caption_eval.Describer(
          config, self.vocab, workdir, self.graphdef, self.params, self.rest)
    self._forward = make_forward(self.graphdef, self.rest, self.params, self.mesh,
                                 with_context=self.describer is not None)
    self._names = {'style': self.vocab.style, 'genre': self.vocab.genre,
                   'artist': self.vocab.artist_names}

  def probabilities(self, batch_images: np.ndarray) -> dict[str, np.ndarray]:
    """Class probabilities per head for preprocessed images [B,S,S,3]."""
    out = self._forward(batch_images)
    return out[0] if self.describer is not None else out

  def preprocess(self, rgb: np.ndarray) -> np.ndarray:
    return pipeline.eval_transform(rgb, self.image_size)

  def top_k(self, probs: np.ndarray, task: str, k: int) -> list[dict]:
    order = np.argsort(-probs)[:k]
    return [{'label': self._names[task][i], 'prob': round(float(probs[i]), 6)}
            for i in order]

  def label(self, rgb: np.ndarray, *, k: int = 5, name: str | None = None) -> dict:
    """Top-k per task and both descriptions for one decoded RGB image."""
    return self.label_batch([rgb], k=k, names=[name])[0]

  def label_batch(self, rgbs: list[np.ndarray], *, k: int = 5,
                  names: list[str | None] | None = None) -> list[dict]:
    out = self._forward(np.stack([self.preprocess(x) for x in rgbs]))
    probs, context = out if self.describer is not None else (out, None)
    generated = ({lang: self.describer.describe(context, lang) for lang in ('en', 'fr')}
                 if self.describer is not None else None)
    results = []
    for i in range(len(rgbs)):
      record = {task: self.top_k(probs[task][i], task, k) for task in TASKS}
      year, title = _year_and_title(names[i] if names else None)
      record['description'] = {
          lang: description.describe(
              record['style'][0]['label'], record['artist'][0]['label'],
              record['genre'][0]['label'], year=year, title=title, lang=lang)
          for lang in ('en', 'fr')}
      if generated:  # the learned captioner's, next to the template's
        record['generated'] = {lang: texts[i] for lang, texts in generated.items()}
      results.append(record)
    return results


def _pad_to_devices(batch_images: np.ndarray) -> np.ndarray:
  """Pads the batch to a multiple of the device count (the mesh splits it)."""
  extra = -len(batch_images) % jax.device_count()
  if not extra:
    return batch_images
  pad = np.zeros((extra,) + batch_images.shape[1:], batch_images.dtype)
  return np.concatenate([batch_images, pad])


def _year_and_title(path: str | None) -> tuple[int | None, str | None]:
  """Year and title from a WikiArt-style file name, when it is one."""
  if not path:
    return None, None
  title, year = metadata.title_and_year(path)
  return year, title


def load_image(path: str) -> np.ndarray:
  """Decoded RGB uint8; raises images.ImageError naming the file."""
  return images_lib.load_rgb(path, name=path)
