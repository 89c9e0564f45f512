"""Reference descriptions of an image from its labels (and ArtEmis, when given).

`references` gives the composer's sentences per language (every shape with every
trait of the style): the references the caption metrics score against and the
targets the captioner learns from. They say what the captioner can know from
its context (style, artist, genre, the content tags, the period as the part of
its century, in words), never a title or a year: those reach a description only
through the composer, when the caller supplies them. The palette is measured
from the pixels at prediction time and is left out of them (a k-means per
target would cost the input pipeline ~0.1 s an image).
`sample_target` draws one (or, in English, an ArtEmis utterance at
`artemis_ratio`) as a teacher-forcing target. ArtEmis utterances (English; CSV
columns art_style, painting, emotion, utterance) are joined on the image path
`<art_style>/<painting>.jpg`.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from wikiart_jax.core import LANGUAGES, TAGS, TAGS_MASK
from wikiart_jax.text import composer
from wikiart_jax.text import wording

# How sure a target says its style is: stated, "probably", or beside a runner-up.
STYLE_LEVELS = ('sure', 'probable', 'two')
# The labels' hedging, but with the style's limits: a target's style probability is
# set from its level (`_LEVEL_PROB`) so that `plan` words it at that level.
_TARGET_HEDGING = dataclasses.replace(wording.LABELS, style_sure=0.75, style_probable=0.25)
_LEVEL_PROB = {'sure': None, 'probable': 0.5, 'two': 0.0}


class LabelFacts(NamedTuple):
  """An example's labels in words; None where unknown."""
  style: str
  artist: str | None  # display name
  artist_fr: str | None  # French usage, where it differs
  genre: str | None
  year: int | None  # metadata: in a reference only as the part of its century
  title: str | None  # metadata: never in a reference
  tags: tuple[str, ...] = ()  # the content tags present, surest first


def _label_facts(style, artist_name, genre, artist_fr, tags, year) -> composer.Facts:
  """Labels as the composer's facts: the tags as sure, the year as a period estimate
  with no spread (said as the part of its century)."""
  return composer.facts(style, artist_name, genre, artist_fr=artist_fr,
                        subjects=[(t, None) for t in tags],
                        period=composer.Period(float(year), 0.0) if year is not None else None)


def references(style: str, artist_name: str | None, genre: str | None, *,
               artist_fr: str | None = None, utterances: Sequence[str] = (),
               tags: Sequence[str] = (), year: int | None = None) -> dict[str, list[str]]:
  """The composer's sentences per language (the references of the caption metrics).

  Args:
    style: ArtGAN style name.
    artist_name: display name or None.
    genre: ArtGAN genre name or None.
    artist_fr: the artist's French name where French usage differs.
    utterances: ArtEmis utterances of this painting, added to the English references.
    tags: the content tags present (text/subjects.py keys), surest first.
    year: the year label, or None.

  Returns:
    {'en': [...], 'fr': [...]}, duplicates removed, composer order kept.
  """
  out = composer.all_phrasings(_label_facts(style, artist_name, genre, artist_fr, tags, year))
  extra = [u.strip() for u in utterances if u.strip()]
  out['en'] = list(dict.fromkeys(out['en'] + extra))
  return out


def hedged_references(style: str, artist_name: str | None, genre: str | None, *,
                      style_level: str, second_style: str | None = None,
                      artist_fr: str | None = None) -> dict[str, list[str]]:
  """Every phrasing per language of a target whose style is hedged (`sample_target`'s
  `style_level`): words the caption tokenizer's corpus must hold."""
  return composer.all_phrasings(_hedged(_label_facts(style, artist_name, genre, artist_fr, (),
                                                     None), style_level, second_style),
                                _TARGET_HEDGING)


def _hedged(known: composer.Facts, style_level: str,
            second_style: str | None) -> composer.Facts:
  """`known` with its style worded at `style_level` (STYLE_LEVELS)."""
  if style_level not in STYLE_LEVELS or (style_level == 'two') != bool(second_style):
    raise ValueError(f'style_level must be one of {STYLE_LEVELS}, with a second_style '
                     f"exactly for 'two'; got {style_level!r}, {second_style!r}")
  if style_level == 'sure':
    return known
  return dataclasses.replace(known, style_prob=_LEVEL_PROB[style_level],
                             second_style=composer.facts(second_style).style
                             if second_style else None)


def sample_target(style: str, artist_name: str | None, genre: str | None, *,
                  rng: np.random.Generator, lang: str, artist_fr: str | None = None,
                  utterances: Sequence[str] = (), artemis_ratio: float = 0.0,
                  tags: Sequence[str] = (), year: int | None = None,
                  style_level: str = 'sure', second_style: str | None = None) -> str:
  """One teacher-forcing target: a random composer sentence in `lang` (or, in English,
  an ArtEmis utterance with probability `artemis_ratio` when the painting has some).

  `style_level` (STYLE_LEVELS) words the style as stated, "probably" so, or (with
  `second_style`) as one of two: the captioner's style-hedge token
  (models/captioner.py) says which, at inference from the style head's confidence.
  """
  if lang not in composer.SHAPES:
    raise ValueError(f'caption language must be one of {LANGUAGES}, got {lang!r}')
  known = _hedged(_label_facts(style, artist_name, genre, artist_fr, tags, year),
                  style_level, second_style)
  if lang == 'en' and utterances and rng.random() < artemis_ratio:
    return str(utterances[rng.integers(len(utterances))]).strip()
  return composer.sample(known, lang, rng, hedging=_TARGET_HEDGING)


def load_artemis(csv_path: str) -> dict[str, list[str]]:
  """ArtEmis CSV -> {'<art_style>/<painting>.jpg': [utterance, ...]}."""
  if not os.path.isfile(csv_path):
    raise FileNotFoundError(f'ArtEmis CSV {csv_path!r} does not exist')
  out: dict[str, list[str]] = {}
  with open(csv_path, newline='', encoding='utf-8') as f:
    reader = csv.DictReader(f)
    missing = {'art_style', 'painting', 'utterance'} - set(reader.fieldnames or ())
    if missing:
      raise ValueError(f'{csv_path}: ArtEmis CSV lacks columns {sorted(missing)}')
    for row in reader:
      text = (row['utterance'] or '').strip()
      if text:
        out.setdefault(f"{row['art_style']}/{row['painting']}.jpg", []).append(text)
  return out


def as_text(value) -> str:
  """A record's text field (bytes, numpy scalar or str) as str; '' for None."""
  if isinstance(value, np.ndarray):
    value = value.item()
  return value.decode('utf-8') if isinstance(value, bytes) else str(value or '')


def present_tags(vocab, example: Mapping) -> tuple[str, ...]:
  """The tags an example's targets say are present (known and >= 0.5), surest first."""
  if TAGS not in example or not getattr(vocab, 'tags', None):
    return ()
  values = np.asarray(example[TAGS], np.float32)
  known = (np.asarray(example[TAGS_MASK]) > 0 if TAGS_MASK in example
           else np.ones(len(values), bool))
  order = np.argsort(-values, kind='stable')
  return tuple(vocab.tags[j] for j in order if known[j] and values[j] >= 0.5)


def label_facts(vocab, example: Mapping) -> LabelFacts | None:
  """An example's int labels (and title) in words; None for a padding row (style -1)."""
  s = int(example['style'])
  if s < 0:
    return None
  a, g, y = int(example['artist']), int(example['genre']), int(example['year'])
  return LabelFacts(
      style=vocab.style[s], artist=vocab.artist_names[a] if a >= 0 else None,
      artist_fr=vocab.artist_name(a, 'fr') if a >= 0 else None,
      genre=vocab.genre[g] if g >= 0 else None, year=y if y >= 0 else None,
      title=as_text(example.get('title', '')) or None, tags=present_tags(vocab, example))


def batch_references(vocab, batch: Mapping, *,
                     artemis: Mapping[str, Sequence[str]] | None = None) -> list:
  """Per row of an eval batch, `references(...)` (None for padding rows)."""
  out = []
  for i in range(len(batch['style'])):
    row = {k: batch[k][i] for k in ('style', 'artist', 'genre', 'year', 'title', 'path',
                                     TAGS, TAGS_MASK) if k in batch}
    known = label_facts(vocab, row)
    extra = (artemis or {}).get(as_text(row.get('path', '')), ())
    out.append(None if known is None else references(
        known.style, known.artist, known.genre, artist_fr=known.artist_fr, utterances=extra,
        tags=known.tags, year=known.year))
  return out
