"""From a `Prediction` to words: the top-k labels, the template sentence, the captioner's.

`describe(prediction, vocab, ...)` is what predict, serve and the report show for
each image: every head's top-k classes, the template description of the top-1
labels in English and French (text/templates.py), and, when the model has a
captioner, the description it writes (`CaptionWriter`, jitted generation).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from flax import nnx
import ml_collections
import numpy as np

from wikiart_jax.core import LANGUAGES, TASKS
from wikiart_jax.inference import generate
from wikiart_jax.inference.forward import Prediction
from wikiart_jax.text import templates
from wikiart_jax.text import tokenizer as tokenizer_lib


class CaptionWriter:
  """The trained captioner and its tokenizer: its context -> descriptions."""

  def __init__(self, captioner, tokenizer, *, max_len: int,
               decoding: ml_collections.ConfigDict):
    """Wraps a captioner.

    Args:
      captioner: the model's `Captioner` (parameters in place).
      tokenizer: its caption tokenizer.
      max_len: `data.caption.max_len`: prompt and description together.
      decoding: `config.eval.caption` (method, num_beams, length_penalty, top_p).
    """
    self.captioner = captioner
    self._split = nnx.split(captioner)  # once: splitting per call cost more than decoding
    self.tokenizer = tokenizer
    self.max_len = max_len
    self.decoding = decoding
    self._ids = tokenizer_lib.special_ids(tokenizer)

  def write(self, context, lang: str) -> list[str]:
    """One generated description per row of the captioner's `context` [B, M, D]."""
    prompt = tokenizer_lib.prompt_ids(self.tokenizer, lang)
    cfg = self.decoding
    out = generate.generate(
        self._split, np.tile(prompt, (context.shape[0], 1)), context=context,
        max_new_tokens=self.max_len - len(prompt), eos_id=self._ids.eos, pad_id=self._ids.pad,
        method=cfg.method, num_beams=cfg.num_beams, length_penalty=cfg.length_penalty,
        top_p=cfg.top_p)
    return generate.decode_texts(np.asarray(out), self.tokenizer, self._ids.eos)


@dataclasses.dataclass
class Described:
  """What is shown for one image.

  Attributes:
    top: task -> [(class id, probability)], best first.
    description: lang -> the template sentence of the top-1 labels.
    generated: lang -> the captioner's sentence; empty without a captioner.
  """
  top: dict[str, list[tuple[int, float]]]
  description: dict[str, str]
  generated: dict[str, str]


def top_k(probs: np.ndarray, k: int) -> list[tuple[int, float]]:
  """The k most probable classes of one row, best first."""
  order = np.argsort(-probs)[:k]
  return [(int(i), float(probs[i])) for i in order]


def describe(prediction: Prediction, vocab, *, k: int, writer: CaptionWriter | None = None,
             years: Sequence[int | None] | None = None,
             titles: Sequence[str | None] | None = None) -> list[Described]:
  """Per row of `prediction`: top-k labels, template and learned descriptions.

  Args:
    prediction: the forward pass of a batch (numpy probabilities).
    vocab: the dataset's vocabularies (class names).
    k: how many classes per task.
    writer: the captioner's writer, or None.
    years, titles: per row, facts the caller knows (never read from the model).
  """
  probs = prediction.probs
  rows = len(probs[TASKS[0]])
  generated = ({lang: writer.write(prediction.context, lang) for lang in LANGUAGES}
               if writer is not None else {})
  out = []
  for i in range(rows):
    top = {task: top_k(probs[task][i], k) for task in TASKS}
    best = {task: top[task][0][0] for task in TASKS}
    description = {
        lang: templates.describe(
            vocab.style[best['style']], vocab.artist_names[best['artist']],
            vocab.genre[best['genre']], year=years[i] if years else None,
            title=titles[i] if titles else None, lang=lang)
        for lang in LANGUAGES}
    out.append(Described(top=top, description=description,
                         generated={lang: texts[i] for lang, texts in generated.items()}))
  return out
