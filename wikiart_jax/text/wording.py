"""What a description may say, and how surely: the composer's input and its plan.

`Facts` are what is known of one artwork: the predicted (or labelled) style,
artist and genre with their calibrated probabilities, a period estimate, and a
title or exact year only when the caller supplies them. `plan` turns them into a
`Wording` by the hedging limits of `config.describe` (`Hedging`): a sure style
is stated, a less sure one is "probably" so, an unsure one is given as the two
closest; an artist below the first limit is "attributed", below the second left
out; a genre likewise "probably" or left out; the period at the precision its
spread allows; the content tags above `tag_sure` named, those above
`tag_probable` "perhaps", at most `max_subjects` (a sure landscape with a sure sea
becomes a seascape); the palette's colours covering `colour_share` of the pixels
named, at most `max_colours`, or "black and white" and never a colour for a
grey-scale picture. Facts from labels carry no probabilities and are stated as
they are (`LABELS`: their year as the part of its century, never as digits).
"""

from __future__ import annotations

import dataclasses
import re

from wikiart_jax.core import GENRES, STYLE_FOLDER_ALIASES, STYLES
from wikiart_jax.text import colours as colours_lib
from wikiart_jax.text import period as period_lib
from wikiart_jax.text import subjects as subjects_lib

# The genre that a sure content tag turns into a finer noun: landscape + sea = seascape.
GENRE_WITH_TAG = {('landscape', 'sea')}


@dataclasses.dataclass(frozen=True)
class Hedging:
  """The confidence limits of `config.describe` (see configs/common.py)."""
  style_sure: float
  style_probable: float
  artist_sure: float
  artist_attributed: float
  genre_sure: float
  genre_probable: float
  period_range_spread: float
  period_part_spread: float
  period_century_spread: float
  tag_sure: float
  tag_probable: float
  max_subjects: int
  colour_share: float
  max_colours: int

  @classmethod
  def from_config(cls, section) -> 'Hedging':
    """From `config.describe` (any mapping with these names)."""
    return cls(**{f.name: (int if f.name.startswith('max_') else float)(section[f.name])
                  for f in dataclasses.fields(cls)})


# Labels: every fact stated; a year label (`Period(year, 0)`) said as the part of its
# century, which needs no digit (the captioner writes none); at most two tags and two
# colours, as `config.describe.max_*` allow a prediction by default (references are
# built in the input pipeline, which does not read config.describe).
LABELS = Hedging(style_sure=0.0, style_probable=0.0, artist_sure=0.0, artist_attributed=0.0,
                 genre_sure=0.0, genre_probable=0.0, period_range_spread=-1.0,
                 period_part_spread=float('inf'), period_century_spread=float('inf'),
                 tag_sure=0.0, tag_probable=0.0, max_subjects=2, colour_share=0.0,
                 max_colours=2)


@dataclasses.dataclass(frozen=True)
class Facts:
  """What is known of one artwork; None where unknown.

  Attributes:
    style: an ArtGAN style name.
    artist: the artist's display name (English usage).
    genre: an ArtGAN genre name.
    year: the exact year, only when the caller supplies it.
    title: the title, only when the caller supplies it.
    artist_fr: the artist's French name where French usage differs ("le Titien").
    style_prob, artist_prob, genre_prob: calibrated probabilities of the
      predictions; None for known facts (labels).
    second_style: the runner-up style, named beside an unsure first.
    period: a period estimate (expected year, spread); for labels, (year, 0).
    subjects: content tags (text/subjects.py keys) with their probabilities (None
      for labels), any order.
    colours: the palette's colours (text/colours.py keys) with their shares of
      the pixels, largest first.
    black_and_white: the picture has no colour to speak of (then no colour is named).
  """
  style: str
  artist: str | None = None
  genre: str | None = None
  year: int | None = None
  title: str | None = None
  artist_fr: str | None = None
  style_prob: float | None = None
  artist_prob: float | None = None
  genre_prob: float | None = None
  second_style: str | None = None
  period: period_lib.Period | None = None
  subjects: tuple[tuple[str, float | None], ...] = ()
  colours: tuple[tuple[str, float], ...] = ()
  black_and_white: bool = False


def _style_name(style: str) -> str:
  style = STYLE_FOLDER_ALIASES.get(style, style)
  if style not in STYLES:
    raise ValueError(f'unknown style {style!r}: expected one of the 27 ArtGAN styles, '
                     f"e.g. 'Impressionism'")
  return style


def facts(style: str, artist_name: str | None = None, genre: str | None = None,
          year=None, title: str | None = None, **more) -> Facts:
  """Normalises and checks the facts of one artwork.

  Args:
    style: an ArtGAN style name ('Art_Nouveau_Modern', the folder name, too).
    artist_name: display name; None or '' when unknown.
    genre: an ArtGAN genre name; None or '' when unknown.
    year: a whole number; None or a negative value (the labels' -1) when unknown.
    title: the title; None or '' when unknown.
    **more: the other `Facts` fields (artist_fr, probabilities, second_style, period,
      subjects, colours, black_and_white).

  Raises:
    ValueError: unknown style, genre, tag or colour, a year that is not a whole
      number, a probability outside [0, 1].
  """
  style = _style_name(style)
  if genre and genre not in GENRES:
    raise ValueError(f"unknown genre {genre!r}: expected one of {', '.join(GENRES)}")
  if year is not None:
    if isinstance(year, bool) or not float(year).is_integer():
      raise ValueError(f'year must be a whole number, got {year!r}')
    year = int(year) if int(year) >= 0 else None
  for name in ('style_prob', 'artist_prob', 'genre_prob'):
    p = more.get(name)
    if p is None:
      continue
    if not -1e-4 <= float(p) <= 1 + 1e-4:  # float32 sums stray a little past 1
      raise ValueError(f'{name} must be a probability in [0, 1], got {p!r}')
    more[name] = min(max(float(p), 0.0), 1.0)
  subjects = tuple((str(k), None if p is None else float(p))
                   for k, p in more.get('subjects', ()))
  unknown = [k for k, _ in subjects if k not in subjects_lib.SUBJECTS]
  unknown += [k for k, _ in more.get('colours', ()) if k not in colours_lib.COLOURS]
  if unknown:
    raise ValueError(f'unknown content tags or colours {unknown}: expected keys of '
                     'text/subjects.py and text/colours.py')
  more['subjects'] = subjects
  more['colours'] = tuple((str(k), float(v)) for k, v in more.get('colours', ()))
  more['black_and_white'] = bool(more.get('black_and_white', False))
  if more['black_and_white']:
    more['colours'] = ()  # a grey-scale picture has no colour to name
  if more.get('second_style'):
    more['second_style'] = _style_name(more['second_style'])
  more['artist_fr'] = (more.get('artist_fr') or '').strip() or None
  return Facts(style, (artist_name or '').strip() or None, genre or None, year,
               (title or '').strip() or None, **more)


@dataclasses.dataclass(frozen=True)
class Wording:
  """What a sentence says and how surely (from `plan`).

  Attributes:
    style: the style named first.
    style_level: 'sure' (stated), 'probable' ("probably"), 'two' (between `style`
      and `second_style`).
    second_style: the runner-up, for 'two'.
    artist, artist_fr: display names, or None when left out.
    artist_level: 'sure' ("by") or 'attributed'.
    genre: the genre, or None when left out.
    genre_level: 'sure' or 'probable'.
    when: the time phrase's content, or None.
    title: a supplied title, or None.
    genre_tag: the tag the genre's noun absorbs ('sea': a seascape), or None.
    subjects: the tags named, in the lexicon's order, each 'sure' or 'probable'.
    colours: the palette's colours named, largest first.
    black_and_white: said instead of colours.
  """
  style: str
  style_level: str
  second_style: str | None
  artist: str | None
  artist_fr: str | None
  artist_level: str
  genre: str | None
  genre_level: str
  when: period_lib.When | None
  title: str | None
  genre_tag: str | None = None
  subjects: tuple[tuple[str, str], ...] = ()
  colours: tuple[str, ...] = ()
  black_and_white: bool = False

  def artist_in(self, lang: str) -> str | None:
    return (self.artist_fr or self.artist) if lang == 'fr' else self.artist

  @property
  def both_probable(self) -> bool:
    """Genre and style both only probable: one "probably" says both."""
    return bool(self.genre) and self.genre_level == 'probable' and self.style_level == 'probable'


def _level(p: float | None, sure: float, fallback: float) -> str | None:
  """'sure' at or above `sure` (or for a known fact), 'hedged' at or above `fallback`."""
  if p is None or p >= sure:
    return 'sure'
  return 'hedged' if p >= fallback else None


def _subjects(known: Facts, hedging: Hedging) -> list[tuple[str, str]]:
  """The tags to name: the most probable above `tag_probable`, in the lexicon's order."""
  kept = [(k, p) for k, p in known.subjects if p is None or p >= hedging.tag_probable]
  kept.sort(key=lambda e: -(1.0 if e[1] is None else e[1]))  # stable: ties keep their order
  kept = kept[:max(hedging.max_subjects, 0)]
  order = {k: i for i, k in enumerate(subjects_lib.TAG_KEYS)}
  kept.sort(key=lambda e: order[e[0]])
  return [(k, 'sure' if p is None or p >= hedging.tag_sure else 'probable') for k, p in kept]


def plan(known: Facts, hedging: Hedging | None = None) -> Wording:
  """What to say of `known` and how surely; `hedging` None: `LABELS` (every fact as is)."""
  hedging = LABELS if hedging is None else hedging
  style_level = {'sure': 'sure', 'hedged': 'probable', None: 'two'}[
      _level(known.style_prob, hedging.style_sure, hedging.style_probable)]
  if style_level == 'two' and not known.second_style:
    style_level = 'probable'
  artist_level = _level(known.artist_prob, hedging.artist_sure, hedging.artist_attributed)
  genre_level = _level(known.genre_prob, hedging.genre_sure, hedging.genre_probable)
  keep_artist = known.artist is not None and artist_level is not None
  keep_genre = known.genre is not None and genre_level is not None
  when = period_lib.when(known.year, known.period, range_spread=hedging.period_range_spread,
                         part_spread=hedging.period_part_spread,
                         century_spread=hedging.period_century_spread)
  subjects = _subjects(known, hedging)
  genre_tag = None
  if keep_genre and genre_level == 'sure':
    genre_tag = next((k for k, level in subjects
                      if level == 'sure' and (known.genre, k) in GENRE_WITH_TAG), None)
  subjects = [(k, level) for k, level in subjects if k != genre_tag]
  colours = tuple(k for k, share in known.colours
                  if share >= hedging.colour_share)[:max(hedging.max_colours, 0)]
  return Wording(
      style=known.style, style_level=style_level,
      second_style=known.second_style if style_level == 'two' else None,
      artist=known.artist if keep_artist else None,
      artist_fr=known.artist_fr if keep_artist else None,
      artist_level='sure' if artist_level == 'sure' else 'attributed',
      genre=known.genre if keep_genre else None,
      genre_level='sure' if genre_level == 'sure' else 'probable',
      when=when, title=known.title, genre_tag=genre_tag, subjects=tuple(subjects),
      colours=colours, black_and_white=known.black_and_white)


def finish(parts: list[str]) -> str:
  """Joins clause parts into one sentence: commas tidied, a capital, a full stop.

  A part starting with ',' attaches to the previous one; doubled and trailing
  commas (left by optional parenthetical clauses) are dropped.
  """
  # Plain spaces only: French keeps its non-breaking ones (« », ':').
  text = ' '.join(p for p in parts if p)
  text = re.sub(r' +,', ',', text)
  text = re.sub(r',( *,)+', ',', text)
  text = re.sub(r' +', ' ', text).strip(' ').rstrip(',').strip(' ')
  return text[:1].upper() + text[1:] + '.'
