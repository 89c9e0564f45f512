"""The facts a written description names, read back with the lexicons, and judged.

`MentionReader.read(text, lang)` finds the styles (every adjective and movement
name the composer writes), the genres, the artists (the vocabulary's display
names, English and French), the years, the periods ("c. 1870-1895", "fin du XIXe
siècle") and the quoted titles a description names; longest forms first, each
found span masked so that "Post-Impressionism" is not also read as
"Impressionism" and a name is not read as a style. `judge` compares them with what the model predicted and what
the caller supplied: a description is faithful when every fact it names agrees,
and it invents when it names a year or a title that is not in the metadata.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Sequence

from wikiart_jax.text import lexicon

_ARTICLE = re.compile(r"^(l'|le |la |les |the )")
_NUMBER = re.compile(r'(?<![\w.])(\d+)(?![\w])')
_RANGE = re.compile(r'(?:c\.|vers)\s*(\d{3,4})\s*[-–]\s*(\d{3,4})')
_ABOUT = re.compile(r'(?:c\.|vers)\s*(\d{3,4})(?!\d)')
_CENTURY_EN = re.compile(r'(?<!\w)(\d{1,2})(?:st|nd|rd|th) century')
_CENTURY_FR = re.compile(r'(?<!\w)([ivxlc]+)e siècle')
_QUOTED = (re.compile(r'“([^”]+)”'), re.compile(r'«\s*([^»]+?)\s*»'), re.compile(r'"([^"]+)"'),
           re.compile(r"(?:titled|intitulée?) '([^']+)'"))


def normalize(text: str) -> str:
  """NFC, lower-case, every space (no-break too) a plain one."""
  return re.sub(r'\s+', ' ', unicodedata.normalize('NFC', text).lower())


def _bare(form: str) -> str:
  return _ARTICLE.sub('', normalize(form)).strip()


def _sorted(pairs) -> list[tuple[str, object]]:
  # Longest first; among equal lengths by text, so the reading never depends on
  # Python's hash seed.
  return sorted(set(pairs), key=lambda p: (-len(p[0]), p[0], str(p[1])))


def _style_forms() -> dict[str, list[tuple[str, str]]]:
  """Lower-cased ways each style is written, per language, longest first."""
  return {
      'en': _sorted([(_bare(t), s) for table in (lexicon.STYLE_EN, lexicon.STYLE_EN_NOUN)
                     for s, t in table.items()]),
      'fr': _sorted([(_bare(t), s) for table in (lexicon.STYLE_FR, lexicon.STYLE_FR_NOUN)
                     for s, t in table.items()]),
  }


def _genre_forms() -> dict[str, list[tuple[str, str]]]:
  return {
      'en': _sorted([(_bare(t), g) for g, t in lexicon.GENRE_EN.items()]),
      'fr': _sorted([(_bare(t.split(' ', 1)[1]), g)
                     for table in (lexicon.GENRE_FR, lexicon.GENRE_FR_SUBJECT)
                     for g, t in table.items()]),
  }


STYLE_FORMS = _style_forms()
GENRE_FORMS = _genre_forms()


@dataclasses.dataclass
class Named:
  """What one description names, in order of appearance within each kind."""
  styles: list[str] = dataclasses.field(default_factory=list)
  genres: list[str] = dataclasses.field(default_factory=list)
  artists: list[int] = dataclasses.field(default_factory=list)  # vocabulary indices
  years: list[int] = dataclasses.field(default_factory=list)
  periods: list[str] = dataclasses.field(default_factory=list)
  titles: list[str] = dataclasses.field(default_factory=list)


class _Forms:
  """Whole-word forms -> values, matched in one pass, leftmost first and, where several
  start at one place, longest first."""

  def __init__(self, pairs):
    self._value = {}
    for form, value in pairs:  # longest first: the first value of a form is kept
      self._value.setdefault(form, value)
    alternatives = '|'.join(re.escape(f) for f in self._value)
    self._pattern = re.compile(rf'(?<!\w)(?:{alternatives})(?!\w)') if self._value else None

  def take(self, text: str, found: list) -> str:
    """Appends the value of every form in `text` to `found`; returns `text` with them
    blanked out."""
    if self._pattern is None:
      return text
    found.extend(self._value[m.group(0)] for m in self._pattern.finditer(text))
    return self._pattern.sub(lambda m: ' ' * len(m.group(0)), text)


_STYLES = {lang: _Forms(pairs) for lang, pairs in STYLE_FORMS.items()}
_GENRES = {lang: _Forms(pairs) for lang, pairs in GENRE_FORMS.items()}


class MentionReader:
  """Reads the facts of descriptions against one vocabulary of artists."""

  def __init__(self, artist_names: Sequence[str] = (),
               artist_names_fr: Sequence[str] | None = None):
    """Args: the display names by class id, and their French forms (same order)."""
    pairs = [(_bare(n), i) for i, n in enumerate(artist_names) if _bare(n)]
    pairs += [(_bare(n), i) for i, n in enumerate(artist_names_fr or ()) if _bare(n)]
    self._artists = _Forms(_sorted(pairs))

  @classmethod
  def of(cls, vocab) -> 'MentionReader':
    """For a dataset's `Vocabularies`."""
    return cls(vocab.artist_names, [vocab.artist_name(i, 'fr') for i in range(len(vocab.artist))])

  def read(self, text: str, lang: str) -> Named:
    """The facts `text` (in `lang`) names."""
    named = Named()
    raw = unicodedata.normalize('NFC', text)
    for pattern in _QUOTED:
      for match in pattern.finditer(raw):
        named.titles.append(match.group(1).strip())
      raw = pattern.sub(' ', raw)
    low = normalize(raw)
    # Names first: a name may hold a style or genre word.
    low = self._artists.take(low, named.artists)
    for pattern in (_RANGE, _ABOUT, _CENTURY_EN, _CENTURY_FR):
      named.periods += [m.group(0) for m in pattern.finditer(low)]
      low = pattern.sub(' ', low)
    named.years = [int(m.group(1)) for m in _NUMBER.finditer(low)]
    low = _STYLES[lang].take(low, named.styles)
    _GENRES[lang].take(low, named.genres)
    return named


@dataclasses.dataclass(frozen=True)
class Expected:
  """What a description may name: the model's predictions and the caller's metadata.

  Attributes:
    style, second_style: the top-2 predicted styles (a hedged text may name both).
    artist: the predicted artist's class id (None: any named artist disagrees).
    genre: the predicted genre.
    year, title: the metadata's (None: naming one is inventing it).
  """
  style: str
  second_style: str | None = None
  artist: int | None = None
  genre: str | None = None
  year: int | None = None
  title: str | None = None


@dataclasses.dataclass(frozen=True)
class Verdict:
  """`faithful`: every named fact agrees; `invented`: a year or title not supplied."""
  faithful: bool
  invented: bool


def judge(named: Named, expected: Expected) -> Verdict:
  """Compares what a description names with what it may name."""
  title = normalize(expected.title).strip() if expected.title else None
  invented = (any(y != expected.year for y in named.years)
              or any(normalize(t).strip() != title for t in named.titles))
  styles = set(named.styles)
  styles_ok = (styles <= {expected.style, expected.second_style} - {None}
               and (len(styles) != 1 or styles == {expected.style}))
  faithful = (styles_ok and not invented
              and all(a == expected.artist for a in named.artists)
              and all(g == expected.genre for g in named.genres)
              and not named.periods)  # no period estimate to agree with yet
  return Verdict(faithful=faithful, invented=invented)


def named_style(text: str, lang: str) -> str | None:
  """The first style a description names, or None."""
  styles = MentionReader().read(text, lang).styles
  return styles[0] if styles else None
