"""The facts a written description names, read back with the lexicons, and judged.

`MentionReader.read(text, lang)` finds the styles (every adjective and movement
name the composer writes), the genres, the artists (the vocabulary's display
names, English and French), the years, the periods ("c. 1870-1895", "late
nineteenth century", "fin du XIXe siècle"), the content tags (the lexicon's
phrases: "a boat", "des arbres"; "seascape" is a landscape with the sea), the
colours ("blue", "bleus", "in black and white") and the quoted titles a
description names; longest forms first, each found span masked so that
"Post-Impressionism" is not also read as "Impressionism" and a name is not read
as a style; the movements' trait phrases are masked before tags and colours
("small dots of colour" is a trait, not a subject). `judge` compares them with
what the model predicted, the pixels' palette and what the caller supplied: a
description is faithful when every fact it names agrees, and it invents when it
names a year or a title that is not in the metadata.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Sequence

from wikiart_jax.core import LANGUAGES, PERIOD_STEP
from wikiart_jax.text import colours as colours_lib
from wikiart_jax.text import depiction
from wikiart_jax.text import lexicon
from wikiart_jax.text import period as period_lib
from wikiart_jax.text import subjects as subjects_lib
from wikiart_jax.text import traits as traits_lib

_ARTICLE = re.compile(r"^(l'|le |la |les |the )")
_NUMBER = re.compile(r'(?<![\w.])(\d+)(?![\w])')
_RANGE = re.compile(r'(?:c\.|vers)\s*(\d{3,4})\s*[-–]\s*(\d{3,4})')
_ABOUT = re.compile(r'(?:c\.|vers)\s*(\d{3,4})(?!\d)')
_PARTS = r'(?:(early|mid|late) )?'
_CENTURY_EN = re.compile(_PARTS + r'(?<!\w)(\d{1,2}(?:st|nd|rd|th)|[a-z]+(?:-[a-z]+)?) century')
_CENTURY_FR = re.compile(r'(?:(début|milieu|fin) du )?(?<!\w)([ivxlc]+)e siècle')
_ORDINALS = {period_lib.ordinal(n): n for n in range(1, 22)}
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


def _tag_forms() -> dict[str, list[tuple[str, str]]]:
  """The phrases the composer writes for each tag, with and without their article."""
  return {
      'en': _sorted([(normalize(f), s.key) for s in subjects_lib.SUBJECTS.values()
                     for f in (s.en, s.en_bare)]),
      # A tag the sentences say otherwise ("une figure nue") is read by that phrase only.
      'fr': _sorted([(normalize(f), s.key) for s in subjects_lib.SUBJECTS.values()
                     for f in ((depiction.FR_SUBJECT[s.key],) if s.key in depiction.FR_SUBJECT
                               else (subjects_lib.french(s, a) for a in
                                     ('indefinite', 'definite', 'partitive', 'none')))]),
  }


def _colour_forms() -> dict[str, list[tuple[str, str]]]:
  return {
      'en': _sorted([('black and white', BLACK_AND_WHITE)]
                    + [(c.en, c.key) for c in colours_lib.COLOURS.values()]),
      'fr': _sorted([('noir et blanc', BLACK_AND_WHITE)]
                    + [(f, c.key) for c in colours_lib.COLOURS.values() for f in c.fr_forms]),
  }


BLACK_AND_WHITE = 'black_and_white'  # what the colour reader names for the phrase
STYLE_FORMS = _style_forms()
GENRE_FORMS = _genre_forms()
TAG_FORMS = _tag_forms()
COLOUR_FORMS = _colour_forms()
# Genre nouns that name a tag too (text/depiction.py): form -> (genre, tag).
_GENRE_TAG_FORMS = {'en': {'seascape': ('landscape', 'sea')},
                    'fr': {'paysage maritime': ('landscape', 'sea')}}


@dataclasses.dataclass
class Named:
  """What one description names, in order of appearance within each kind."""
  styles: list[str] = dataclasses.field(default_factory=list)
  genres: list[str] = dataclasses.field(default_factory=list)
  artists: list[int] = dataclasses.field(default_factory=list)  # vocabulary indices
  years: list[int] = dataclasses.field(default_factory=list)
  periods: list[str] = dataclasses.field(default_factory=list)
  titles: list[str] = dataclasses.field(default_factory=list)
  spans: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # of `periods`, years
  tags: list[str] = dataclasses.field(default_factory=list)  # text/subjects.py keys
  colours: list[str] = dataclasses.field(default_factory=list)  # keys, or BLACK_AND_WHITE


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
_TAGS = {lang: _Forms(pairs) for lang, pairs in TAG_FORMS.items()}
# Tag phrases of several words, read before the genres: "a nude figure" is no nude.
_ANY_ARTICLE = re.compile(r"^(?:a |an |the |un |une |des |le |la |les |l'|du |de la |de l')")
_LONG_TAGS = {lang: _Forms([(f, k) for f, k in pairs if ' ' in _ANY_ARTICLE.sub('', f)])
              for lang, pairs in TAG_FORMS.items()}
_COLOURS = {lang: _Forms(pairs) for lang, pairs in COLOUR_FORMS.items()}
_GENRE_TAGS = {lang: _Forms(_sorted(forms.items())) for lang, forms in _GENRE_TAG_FORMS.items()}
_TRAITS = {lang: _Forms(_sorted((normalize(t), 0) for style in traits_lib.table()
                                for t in traits_lib.traits(style, lang)))
           for lang in LANGUAGES}


def _century_span(century: int, part: str | None) -> tuple[int, int]:
  """The years of a century (19: 1801-1900), or of its third ('late': 1867-1900)."""
  start = (century - 1) * 100 + 1
  if not part:
    return start, start + 99
  third = ('early', 'mid', 'late', 'début', 'milieu', 'fin').index(part) % 3
  return start + round(third * 100 / 3), start + round((third + 1) * 100 / 3) - 1


def _span(match: re.Match, pattern) -> tuple[int, int] | None:
  """The years a period phrase covers; None when it is not a period after all."""
  if pattern is _RANGE:
    return int(match.group(1)), int(match.group(2))
  if pattern is _ABOUT:
    return int(match.group(1)), int(match.group(1))
  if pattern is _CENTURY_EN:
    word = match.group(2)
    century = int(word[:-2]) if word[0].isdigit() else _ORDINALS.get(word)
    return None if century is None else _century_span(century, match.group(1))
  numeral = match.group(2).upper()
  values = {period_lib.roman(n): n for n in range(1, 22)}
  return _century_span(values[numeral], match.group(1)) if numeral in values else None


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
      for m in pattern.finditer(low):
        span = _span(m, pattern)
        if span is not None:
          named.periods.append(m.group(0))
          named.spans.append(span)
          low = low[:m.start()] + ' ' * len(m.group(0)) + low[m.end():]
    named.years = [int(m.group(1)) for m in _NUMBER.finditer(low)]
    low = _STYLES[lang].take(low, named.styles)
    low = _TRAITS[lang].take(low, [])  # a movement's trait is no subject, genre or palette
    both: list = []
    low = _GENRE_TAGS[lang].take(low, both)
    named.genres += [g for g, _ in both]
    named.tags += [t for _, t in both]
    low = _LONG_TAGS[lang].take(low, named.tags)
    low = _GENRES[lang].take(low, named.genres)
    low = _TAGS[lang].take(low, named.tags)
    _COLOURS[lang].take(low, named.colours)
    return named


@dataclasses.dataclass(frozen=True)
class Expected:
  """What a description may name: the model's predictions and the caller's metadata.

  Attributes:
    style, second_style: the top-2 predicted styles (a hedged text may name both).
    artist: the predicted artist's class id (None: any named artist disagrees).
    genre: the predicted genre.
    year, title: the metadata's (None: naming one is inventing it).
    tags: the tags predicted (at or above `config.describe.tag_probable`); None
      without a tag head (naming any tag disagrees).
    period: the period estimate (expected year, spread); None without a period head.
    palette: the pixels' (black and white, colour keys of every swatch); None when
      not measured (naming a colour then disagrees).
  """
  style: str
  second_style: str | None = None
  artist: int | None = None
  genre: str | None = None
  year: int | None = None
  title: str | None = None
  tags: frozenset[str] | None = None
  period: tuple[float, float] | None = None
  palette: tuple[bool, frozenset[str]] | None = None


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
              and all(_period_agrees(s, expected) for s in named.spans)
              and set(named.tags) <= (expected.tags or frozenset())
              and _colours_agree(named.colours, expected.palette))
  return Verdict(faithful=faithful, invented=invented)


def _period_agrees(span: tuple[int, int], expected: Expected) -> bool:
  """A named period agrees with a supplied year inside it, or overlaps the estimate's
  expected year plus or minus its spread (at least one 25-year bin)."""
  start, end = span
  if expected.year is not None and start <= expected.year <= end:
    return True
  if expected.period is None:
    return False
  year, spread = expected.period
  reach = max(float(spread), PERIOD_STEP)
  return start <= year + reach and end >= year - reach


def _colours_agree(named: list[str], palette: tuple[bool, frozenset[str]] | None) -> bool:
  """Black and white only for a grey-scale picture, a colour only if the palette has it."""
  if not named:
    return True
  if palette is None:
    return False
  black_and_white, colours = palette
  return all((c == BLACK_AND_WHITE) == black_and_white and (c == BLACK_AND_WHITE or c in colours)
             for c in named)


def named_style(text: str, lang: str) -> str | None:
  """The first style a description names, or None."""
  styles = MentionReader().read(text, lang).styles
  return styles[0] if styles else None
