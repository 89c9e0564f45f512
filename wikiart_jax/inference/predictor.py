"""A trained model restored from a workdir, ready to label and describe images.

Used by `predict`, `embed` and the web demo: it needs only the workdir (the
checkpoints, the vocabularies, the run record and the temperatures saved there
by training), not the dataset, and never `init_from` or the hub. Descriptions
state a title or a year only when the caller supplies them (inference/supplied.py).

Zero-shot: with no training in the workdir and a BLIP-2 captioner whose
`model.caption_decoder.init_from` is set, the predictor is released BLIP-2
itself: its own captions (no labels, no composed sentence: untrained heads
would only guess).
"""

import os

from absl import logging
import ml_collections
import numpy as np

from wikiart_jax import checkpointing
from wikiart_jax import factory
from wikiart_jax.core import LANGUAGES, STYLES, TASKS
from wikiart_jax.data import augment
from wikiart_jax.data import images as images_lib
from wikiart_jax.data import metadata
from wikiart_jax.inference import content
from wikiart_jax.inference import describer as describer_lib
from wikiart_jax.inference import forward as forward_lib
from wikiart_jax.inference import supplied as supplied_lib
from wikiart_jax.metrics import calibration
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding
from wikiart_jax.text import composer
from wikiart_jax.text import tokenizer as tokenizer_lib

# Said wherever a checkpoint of the demo's procedural images shows its labels.
SYNTHETIC_NOTE = ('This checkpoint was trained on the synthetic demo set (procedural images, '
                  'not paintings): its labels and descriptions of real artworks mean nothing.')


def caption_writer(config: ml_collections.ConfigDict, vocab, workdir: str,
                   model) -> describer_lib.CaptionWriter | None:
  """The writer of `model`'s captioner (None without one), its tokenizer from the run."""
  if model.captioner is None:
    return None
  return describer_lib.CaptionWriter(
      model.captioner, factory.caption_tokenizer(config, vocab, workdir),
      max_len=config.data.caption.max_len, decoding=config.eval.caption, vocab=vocab)


def zero_shot_source(config: ml_collections.ConfigDict) -> str:
  """The BLIP-2 checkpoint a zero-shot predictor is, or '' (the config names none)."""
  if config.model.captioner == 'blip2':
    return config.model.caption_decoder.init_from
  return ''


class Predictor:
  """Top-k labels and descriptions for images, from a trained workdir."""

  def __init__(self, config: ml_collections.ConfigDict, workdir: str):
    vocab_path = os.path.join(workdir, checkpointing.VOCAB_FILE)
    self.config = config
    self.mesh = sharding.make_mesh()
    self.hedging = composer.Hedging.from_config(config.describe)
    self.supplied = supplied_lib.Supplied(config.predict)
    self.zero_shot = not os.path.exists(vocab_path) and bool(zero_shot_source(config))
    if self.zero_shot:
      self._init_zero_shot(config)
    else:
      if not os.path.exists(vocab_path):
        raise FileNotFoundError(f'{vocab_path} is missing: train a model in this workdir first')
      self.vocab = metadata.Vocabularies.from_json(vocab_path)
      # Random weights in the trained architecture: the checkpoint holds every weight.
      model, record = factory.restore_model(config, self.vocab, workdir)
      self.image_size = int(record.model['image_size'])
      self.normalization = record.normalization
      self.synthetic = record.synthetic
      self.parts, self.step = checkpointing.restore_params_into(
          workdir, model, self.mesh, config.eval.step)
      self.temperatures = calibration.load_temperatures(workdir, self.step)
      if self.temperatures is None:
        logging.warning('%s has no temperatures for step %d: probabilities are uncalibrated '
                        '(run --config.mode=eval to fit them)', workdir, self.step)
      self.writer = caption_writer(config, self.vocab, workdir, self.parts.merge())
    self._forward = forward_lib.make_forward(self.parts, self.mesh)
    self._names = {'style': self.vocab.style, 'genre': self.vocab.genre,
                   'artist': self.vocab.artist_names}

  def _init_zero_shot(self, config: ml_collections.ConfigDict) -> None:
    """Released BLIP-2 from `caption_decoder.init_from`, nothing read from or written to
    the workdir; the heads exist (random) but are never shown."""
    source = zero_shot_source(config)
    tokenizer = tokenizer_lib.load_tokenizer(config.data.caption.tokenizer or source)
    self.vocab = metadata.Vocabularies.build([('unknown', 'Unknown')], styles=STYLES)
    model, record = factory.build_with_record(config, self.vocab,
                                              caption_vocab_size=len(tokenizer))
    self.image_size = int(record.model['image_size'])
    self.normalization = record.normalization
    self.synthetic = False  # released weights, not the demo's procedural images
    self.temperatures = None  # no labels are shown, so none are calibrated
    parts = parts_lib.split(model)
    self.parts = parts.with_params(sharding.replicate(parts.params, self.mesh))
    self.step = 0
    self.writer = describer_lib.CaptionWriter(
        self.parts.merge().captioner, tokenizer, max_len=config.data.caption.max_len,
        decoding=config.eval.caption, zero_shot=True)

  @property
  def params(self):
    return self.parts.params

  def probabilities(self, batch_images: np.ndarray) -> dict[str, np.ndarray]:
    """Class probabilities per head for preprocessed images [B,S,S,3]."""
    return self._forward(batch_images).probs

  def preprocess(self, rgb: np.ndarray) -> np.ndarray:
    return augment.eval_transform(rgb, self.image_size, self.normalization)

  def label(self, rgb: np.ndarray, *, k: int = 5, name: str | None = None) -> dict:
    """Top-k per task and both descriptions for one decoded RGB image."""
    return self.label_batch([rgb], k=k, names=[name])[0]

  def label_batch(self, rgbs: list[np.ndarray], *, k: int = 5,
                  names: list[str | None] | None = None) -> list[dict]:
    """Per image: {task: [{'label', 'prob'}] top-k, 'description': {lang: text},
    'generated': {lang: text} when the model has a captioner, 'tags' (top-k, see
    inference/content.py) with a tag head, 'period' (expected year, top-3 bins) with
    a period head, and the 'palette' and 'light' measured from the pixels}."""
    prediction = self._forward(np.stack([self.preprocess(x) for x in rgbs]))
    if self.zero_shot:  # BLIP-2's own captions and what the pixels say, no labels
      generated = {lang: self.writer.write(prediction.context, lang) for lang in LANGUAGES}
      records = []
      for i, rgb in enumerate(rgbs):
        palette, light = content.palette_and_light(rgb)
        records.append({'generated': {lang: texts[i] for lang, texts in generated.items()},
                        'palette': palette, 'light': light})
      return records
    facts = [self.supplied.title_and_year(n) for n in (names or [None] * len(rgbs))]
    measured = [content.palette_and_light(rgb) for rgb in rgbs]  # the description names it
    described = describer_lib.describe(
        prediction, self.vocab, k=k, writer=self.writer, titles=[t for t, _ in facts],
        years=[y for _, y in facts], hedging=self.hedging, temperatures=self.temperatures,
        palettes=[p for p, _ in measured])
    results = []
    for row, (d, (palette, light)) in enumerate(zip(described, measured)):
      record = {task: [{'label': self._names[task][i], 'prob': round(p, 6)}
                       for i, p in d.top[task]] for task in TASKS}
      record['description'] = d.description
      if d.generated:  # the learned captioner's, next to the composed one
        record['generated'] = d.generated
      if d.withheld:  # naming a fact the model does not have: kept apart, not shown
        record['generated_withheld'] = d.withheld
      if prediction.tags is not None:
        record['tags'] = content.top_tags(prediction.tags[row], self.vocab.tags, k)
      if prediction.period is not None:
        record['period'] = content.period_estimate(prediction.period[row])
      record['palette'], record['light'] = palette, light
      results.append(record)
    return results


def load_image(path: str, max_pixels: int | None = None) -> np.ndarray:
  """Decoded RGB uint8 (a big scan reduced, up to `max_pixels`); raises ImageError naming the file."""
  return images_lib.load_rgb(path, name=path, max_pixels=max_pixels)
