"""Reference descriptions of an image from its labels (and ArtEmis, when given).

`references` gives the composer's sentences per language (every shape with every
trait of the style): the references the caption metrics score against and the
targets the captioner learns from. They say what the captioner can know from
its context (style, artist, genre), never a title or a year: those reach a
description only through the composer, when the caller supplies them.
`sample_target` draws one (or, in English, an ArtEmis utterance at
`artemis_ratio`) as a teacher-forcing target. ArtEmis utterances (English; CSV
columns art_style, painting, emotion, utterance) are joined on the image path
`<art_style>/<painting>.jpg`.
"""

from __future__ import annotations

import csv
import os
from typing import Mapping, NamedTuple, Sequence

import numpy as np

from wikiart_jax.core import LANGUAGES
from wikiart_jax.text import composer


class LabelFacts(NamedTuple):
  """An example's labels in words; None where unknown."""
  style: str
  artist: str | None  # display name
  artist_fr: str | None  # French usage, where it differs
  genre: str | None
  year: int | None  # metadata: never in a reference
  title: str | None  # metadata: never in a reference


def references(style: str, artist_name: str | None, genre: str | None, *,
               artist_fr: str | None = None,
               utterances: Sequence[str] = ()) -> dict[str, list[str]]:
  """The composer's sentences per language (the references of the caption metrics).

  Args:
    style: ArtGAN style name.
    artist_name: display name or None.
    genre: ArtGAN genre name or None.
    artist_fr: the artist's French name where French usage differs.
    utterances: ArtEmis utterances of this painting, added to the English references.

  Returns:
    {'en': [...], 'fr': [...]}, duplicates removed, composer order kept.
  """
  out = composer.all_phrasings(composer.facts(style, artist_name, genre, artist_fr=artist_fr))
  extra = [u.strip() for u in utterances if u.strip()]
  out['en'] = list(dict.fromkeys(out['en'] + extra))
  return out


def sample_target(style: str, artist_name: str | None, genre: str | None, *,
                  rng: np.random.Generator, lang: str, artist_fr: str | None = None,
                  utterances: Sequence[str] = (), artemis_ratio: float = 0.0) -> str:
  """One teacher-forcing target: a random composer sentence in `lang` (or, in English,
  an ArtEmis utterance with probability `artemis_ratio` when the painting has some)."""
  if lang not in composer.SHAPES:
    raise ValueError(f'caption language must be one of {LANGUAGES}, got {lang!r}')
  known = composer.facts(style, artist_name, genre, artist_fr=artist_fr)
  if lang == 'en' and utterances and rng.random() < artemis_ratio:
    return str(utterances[rng.integers(len(utterances))]).strip()
  return composer.sample(known, lang, rng)


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
      title=as_text(example.get('title', '')) or None)


def batch_references(vocab, batch: Mapping, *,
                     artemis: Mapping[str, Sequence[str]] | None = None) -> list:
  """Per row of an eval batch, `references(...)` (None for padding rows)."""
  out = []
  for i in range(len(batch['style'])):
    row = {k: batch[k][i] for k in ('style', 'artist', 'genre', 'year', 'title', 'path')
           if k in batch}
    known = label_facts(vocab, row)
    extra = (artemis or {}).get(as_text(row.get('path', '')), ())
    out.append(None if known is None else references(
        known.style, known.artist, known.genre, artist_fr=known.artist_fr, utterances=extra))
  return out
