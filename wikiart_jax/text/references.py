"""Reference descriptions of an image from its labels (and ArtEmis, when given).

`references` gives every template's sentence per language: the references the
caption metrics score against. `sample_target` draws one of them (or, in
English, an ArtEmis utterance at `artemis_ratio`) as a teacher-forcing target.
ArtEmis utterances (English; CSV columns art_style, painting, emotion,
utterance) are joined on the image path `<art_style>/<painting>.jpg`.
"""

from __future__ import annotations

import csv
import os
from typing import Mapping, Sequence

import numpy as np

from wikiart_jax.core import LANGUAGES
from wikiart_jax.text import templates


def references(style: str, artist_name: str | None, genre: str | None, year: int | None,
               title: str | None, *, utterances: Sequence[str] = ()) -> dict[str, list[str]]:
  """Every template's sentence per language (the references of the caption metrics).

  Args:
    style: ArtGAN style name.
    artist_name: display name or None.
    genre: ArtGAN genre name or None.
    year: year, or None / -1 when unknown.
    title: title or None.
    utterances: ArtEmis utterances of this painting, added to the English references.

  Returns:
    {'en': [...], 'fr': [...]}, duplicates removed, template order kept.
  """
  out = templates.all_phrasings(templates.facts(style, artist_name, genre, year, title))
  extra = [u.strip() for u in utterances if u.strip()]
  out['en'] = list(dict.fromkeys(out['en'] + extra))
  return out


def sample_target(style: str, artist_name: str | None, genre: str | None, year: int | None,
                  title: str | None, *, rng: np.random.Generator, lang: str,
                  utterances: Sequence[str] = (), artemis_ratio: float = 0.0) -> str:
  """One teacher-forcing target: a random template of `lang` (or, in English, an
  ArtEmis utterance with probability `artemis_ratio` when the painting has some)."""
  if lang not in templates.TEMPLATES:
    raise ValueError(f'caption language must be one of {LANGUAGES}, got {lang!r}')
  known = templates.facts(style, artist_name, genre, year, title)
  if lang == 'en' and utterances and rng.random() < artemis_ratio:
    return str(utterances[rng.integers(len(utterances))]).strip()
  phrasings = templates.TEMPLATES[lang]
  return phrasings[rng.integers(len(phrasings))](known)


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


def label_facts(vocab, example: Mapping) -> tuple | None:
  """(style, artist name, genre, year, title) from an example's int labels; None for a
  padding row (style -1)."""
  s = int(example['style'])
  if s < 0:
    return None
  a, g, y = int(example['artist']), int(example['genre']), int(example['year'])
  return (vocab.style[s], vocab.artist_names[a] if a >= 0 else None,
          vocab.genre[g] if g >= 0 else None, y if y >= 0 else None,
          as_text(example.get('title', '')) or None)


def batch_references(vocab, batch: Mapping, *,
                     artemis: Mapping[str, Sequence[str]] | None = None) -> list:
  """Per row of an eval batch, `references(...)` (None for padding rows)."""
  out = []
  for i in range(len(batch['style'])):
    row = {k: batch[k][i] for k in ('style', 'artist', 'genre', 'year', 'title', 'path')
           if k in batch}
    known = label_facts(vocab, row)
    extra = (artemis or {}).get(as_text(row.get('path', '')), ())
    out.append(None if known is None else references(*known, utterances=extra))
  return out
