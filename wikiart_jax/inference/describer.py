"""From a `Prediction` to words: the top-k labels, the composed sentence, the captioner's.

`describe(prediction, vocab, ...)` is what predict, serve and the report show for
each image: every head's top-k classes with calibrated probabilities (the run's
temperatures), the composer's description of the predictions in English and
French (text/composer.py): style, artist, genre, the content tags and the period
estimate when the model has those heads, the palette measured from the pixels
when given, each hedged by `config.describe`, and, when the model has
a captioner, the description it writes (`CaptionWriter`, jitted generation,
which can write no digit and no title quote: text/tokenizer.py's `banned_tokens`).
A learned description is shown only when every fact it names agrees with what the
model has (`expected`, judged by text/mentions.py: the heads' first choices, the
tags at or above the describer's limit, the period estimate, the caller's year
and title, the measured palette); one that names another is kept apart
(`Described.withheld`), so that neither text states what the model does not have.
A BLIP-2 captioner is prompted per row with the heads' top-1 labels as text
(text/prompts.py), or, zero-shot, as released BLIP-2 is (its own words, unbanned).
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
from wikiart_jax.metrics import calibration
from wikiart_jax.metrics import period as period_metrics
from wikiart_jax.text import composer
from wikiart_jax.text import mentions
from wikiart_jax.text import prompts
from wikiart_jax.text import tokenizer as tokenizer_lib


PROMPT_BUCKET = 16  # BLIP-2 prompts are padded to a multiple of this many tokens


class CaptionWriter:
  """The trained captioner and its tokenizer: its context -> descriptions."""

  def __init__(self, captioner, tokenizer, *, max_len: int,
               decoding: ml_collections.ConfigDict, vocab=None, zero_shot: bool = False):
    """Wraps a captioner.

    Args:
      captioner: the model's `Captioner` or `Blip2Captioner` (parameters in place).
      tokenizer: its caption tokenizer.
      max_len: `data.caption.max_len`: prompt and description together.
      decoding: `config.eval.caption` (method, num_beams, length_penalty, top_p).
      vocab: the class names a BLIP-2 prompt gives the labels by.
      zero_shot: prompt a BLIP-2 captioner as released (no labels).
    """
    self.captioner = captioner
    self._split = nnx.split(captioner)  # once: splitting per call cost more than decoding
    self.tokenizer = tokenizer
    self.max_len = max_len
    self.decoding = decoding
    self.vocab = vocab
    self.zero_shot = zero_shot
    self._ids = tokenizer_lib.special_ids(tokenizer)
    # A BLIP-2 captioner says how its language model reads a prompt.
    self._framing = getattr(captioner, 'framing', None)
    if self._framing is not None and vocab is None and not zero_shot:
      raise ValueError('a BLIP-2 caption writer needs the vocabularies to name the labels')
    # Its context holds no title and no year: it may write neither (text/tokenizer.py).
    # Zero-shot BLIP-2 writes as released, unbanned.
    self._bias = None if zero_shot else np.where(
        tokenizer_lib.banned_tokens(tokenizer, captioner.vocab_size),
        np.float32(-1e9), np.float32(0.0))

  def _prompts(self, context, lang: str) -> tuple[np.ndarray, np.ndarray | None, object]:
    """(prompt ids [B, T], their mask or None, what `generate` conditions on)."""
    if self._framing is None:
      prompt = tokenizer_lib.prompt_ids(self.tokenizer, lang)
      return np.tile(prompt, (context.shape[0], 1)), None, context
    if self.zero_shot:
      texts = [prompts.zero_shot_prompt(lang)] * context.labels.shape[0]
    else:
      names = lambda task, i: getattr(self.vocab, task)[i] if i >= 0 else None
      texts = [prompts.label_prompt(names('style', s), names('artist_names', a),
                                    names('genre', g), lang)
               for s, a, g in np.asarray(context.labels).tolist()]
    rows = [self._framing.prompt(self.tokenizer, t) for t in texts]
    # Widths rounded up to a bucket: the label prompts' lengths vary by batch, and each
    # width would compile the generation loop again.
    width = -(-max(len(r) for r in rows) // PROMPT_BUCKET) * PROMPT_BUCKET
    ids = np.full((len(rows), width), self._framing.pad, np.int32)
    mask = np.zeros((len(rows), width), np.int32)
    for i, row in enumerate(rows):
      at = slice(width - len(row), width) if self.captioner.padding_side == 'left' \
          else slice(0, len(row))
      ids[i, at], mask[i, at] = row, 1
    return ids, mask, context.image_tokens

  def write(self, context, lang: str) -> list[str]:
    """One generated description per row of the captioner's context (`condition`)."""
    ids, mask, condition = self._prompts(context, lang)
    if self._framing is None:
      eos, pad, budget = self._ids.eos, self._ids.pad, self.max_len - ids.shape[1]
    else:  # a budget that depends only on the width's bucket: one compile per bucket
      eos, pad, budget = self._framing.eos, self._framing.pad, self.max_len
      room = self.captioner.text_positions
      if room is not None:
        budget = min(budget, room - ids.shape[1])
    if budget < 1:
      raise ValueError(f'the caption prompt takes {ids.shape[1]} tokens: raise '
                       f'data.caption.max_len={self.max_len}')
    cfg = self.decoding
    out = generate.generate(
        self._split, ids, attention_mask=mask, context=condition,
        max_new_tokens=budget, eos_id=eos, pad_id=pad,
        method=cfg.method, num_beams=cfg.num_beams, length_penalty=cfg.length_penalty,
        top_p=cfg.top_p, logit_bias=self._bias,
        no_repeat_ngram=cfg.get('no_repeat_ngram', 0))
    return generate.decode_texts(np.asarray(out), self.tokenizer, eos)


@dataclasses.dataclass
class Described:
  """What is shown for one image.

  Attributes:
    top: task -> [(class id, probability)], best first.
    description: lang -> the composer's sentence of the predictions.
    generated: lang -> the captioner's sentence; empty without a captioner. A
      sentence naming a fact the model does not have (another artist than the
      artist head's first choice, a tag the tag head does not give, ...: `expected`)
      is not shown: it is in `withheld`.
    withheld: lang -> the captioner's sentences left out of `generated`.
  """
  top: dict[str, list[tuple[int, float]]]
  description: dict[str, str]
  generated: dict[str, str]
  withheld: dict[str, str] = dataclasses.field(default_factory=dict)


def top_k(probs: np.ndarray, k: int) -> list[tuple[int, float]]:
  """The k most probable classes of one row, best first."""
  order = np.argsort(-probs)[:k]
  return [(int(i), float(probs[i])) for i in order]


def calibrated(probs: dict[str, np.ndarray],
               temperatures: dict[str, float] | None) -> dict[str, np.ndarray]:
  """Each head's probabilities with its temperature applied (unchanged without one)."""
  if not temperatures:
    return probs
  return {task: calibration.apply_temperature(p, temperatures[task]) if task in temperatures
          else p for task, p in probs.items()}


def content_facts(prediction: Prediction, vocab, row: int, palette: dict | None = None) -> dict:
  """The composer's subject, period and palette facts of one row (`composer.facts` keywords).

  Args:
    prediction: the batch's forward pass; its tag and period heads may be absent.
    vocab: the vocabularies (`tags` names the tag head's columns).
    row: the row.
    palette: the image's 'palette' record (inference/content.py), or None.
  """
  out = {}
  if prediction.tags is not None:
    out['subjects'] = [(key, float(p)) for key, p in zip(vocab.tags, prediction.tags[row])]
  if prediction.period is not None:
    probs = np.asarray(prediction.period[row])[None]
    out['period'] = composer.Period(float(period_metrics.expected_year(probs)[0]),
                                    float(period_metrics.spread_years(probs)[0]))
  if palette is not None:
    out['black_and_white'] = bool(palette['black_and_white'])
    out['colours'] = [(c['colour'], float(c['share'])) for c in palette['colours']]
  return out


def expected(vocab, probs: dict[str, np.ndarray], *, tag_threshold: float,
             tags: np.ndarray | None = None, period: np.ndarray | None = None,
             year: int | None = None, title: str | None = None,
             palette: dict | None = None) -> mentions.Expected:
  """What a description of one image may name (`mentions.judge` compares).

  Args:
    vocab: the vocabularies (class and tag names).
    probs: task -> that image's class probabilities [C] (raw or calibrated: only
      their order counts).
    tag_threshold: the probability from which a tag counts as predicted (the
      captioner's tag tokens hold those: `describe.tag_probable`).
    tags, period: that image's tag probabilities [T] and period bins [P], None
      without those heads (then naming a tag or a period disagrees).
    year, title: what the caller supplies (None: naming one is inventing it).
    palette: the image's 'palette' record (inference/content.py); None when not
      measured (naming a colour then disagrees).
  """
  more = {}
  if tags is not None:
    more['tags'] = frozenset(t for t, p in zip(vocab.tags, np.asarray(tags))
                             if p >= tag_threshold)
  if period is not None:
    row = np.asarray(period)[None]
    more['period'] = (float(period_metrics.expected_year(row)[0]),
                      float(period_metrics.spread_years(row)[0]))
  if palette is not None:
    more['palette'] = (bool(palette['black_and_white']),
                       frozenset(c['colour'] for c in palette['colours']))
  order = np.argsort(-np.asarray(probs['style']))
  return mentions.Expected(
      style=vocab.style[order[0]], second_style=vocab.style[order[1]],
      artist=int(np.argmax(probs['artist'])), genre=vocab.genre[int(np.argmax(probs['genre']))],
      year=year, title=title or None, **more)


def describe(prediction: Prediction, vocab, *, k: int, writer: CaptionWriter | None = None,
             years: Sequence[int | None] | None = None,
             titles: Sequence[str | None] | None = None,
             hedging: composer.Hedging | None = None,
             temperatures: dict[str, float] | None = None,
             palettes: Sequence[dict | None] | None = None) -> list[Described]:
  """Per row of `prediction`: top-k labels, composed and learned descriptions.

  Args:
    prediction: the forward pass of a batch (numpy probabilities).
    vocab: the dataset's vocabularies (class names).
    k: how many classes per task.
    writer: the captioner's writer, or None.
    years, titles: per row, facts the caller supplies (never read from the model
      or from a file name).
    hedging: `config.describe`'s limits; None states the top-1 labels as sure (a
      learned description may then name the tags at or above 0.5).
    temperatures: head -> temperature fitted on val (None: raw probabilities).
    palettes: per row, the image's 'palette' record (inference/content.py), or None.
  """
  probs = calibrated(prediction.probs, temperatures)
  rows = len(probs[TASKS[0]])
  generated = ({lang: writer.write(prediction.context, lang) for lang in LANGUAGES}
               if writer is not None else {})
  reader = mentions.MentionReader.of(vocab) if generated else None
  out = []
  for i in range(rows):
    top = {task: top_k(probs[task][i], max(k, 2)) for task in TASKS}
    (style, p_style), (second, _) = top['style'][:2]
    artist, p_artist = top['artist'][0]
    genre, p_genre = top['genre'][0]
    known = composer.facts(
        vocab.style[style], vocab.artist_names[artist], vocab.genre[genre],
        year=years[i] if years else None, title=titles[i] if titles else None,
        artist_fr=vocab.artist_name(artist, 'fr'), style_prob=p_style,
        artist_prob=p_artist, genre_prob=p_genre, second_style=vocab.style[second],
        **content_facts(prediction, vocab, i, palettes[i] if palettes else None))
    description = {lang: composer.compose(known, lang, hedging=hedging) for lang in LANGUAGES}
    shown, withheld = {}, {}
    if generated:
      may_name = expected(
          vocab, {task: probs[task][i] for task in TASKS},
          tag_threshold=0.5 if hedging is None else hedging.tag_probable,
          tags=None if prediction.tags is None else prediction.tags[i],
          period=None if prediction.period is None else prediction.period[i],
          year=years[i] if years else None, title=titles[i] if titles else None,
          palette=palettes[i] if palettes else None)
    for lang, texts in generated.items():
      faithful = mentions.judge(reader.read(texts[i], lang), may_name).faithful
      (shown if faithful else withheld)[lang] = texts[i]
    out.append(Described(top={task: t[:k] for task, t in top.items()}, description=description,
                         generated=shown, withheld=withheld))
  return out
