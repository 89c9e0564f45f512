"""When a work was made, in words, at the precision the evidence allows.

Two sources: an exact year the caller supplies (metadata, never a file name), or
a period estimate, an expected year with its spread (the standard deviation of
a period head's distribution, in years). The narrower the spread, the finer the
phrase: "c. 1870-1895" / "vers 1870-1895" (a range rounded out to 5 years), then
"late nineteenth century" / "fin du XIXe siècle", then "nineteenth century" /
"XIXe siècle", then nothing. The limits are `config.describe.period_*_spread`.
Centuries are words (English ordinals, French Roman numerals): only a range or a
supplied year has digits, so a period phrase needs none (the captioner writes
no digit).
"""

from __future__ import annotations

import dataclasses
import math

_PARTS_EN = ('early', 'mid', 'late')
_PARTS_FR = ('début', 'milieu', 'fin')
# "du début du", "du milieu du", "de la fin du": the French part with its article.
_PARTS_FR_OF = ('du début', 'du milieu', 'de la fin')
_ROMAN = (('M', 1000), ('CM', 900), ('D', 500), ('CD', 400), ('C', 100), ('XC', 90),
          ('L', 50), ('XL', 40), ('X', 10), ('IX', 9), ('V', 5), ('IV', 4), ('I', 1))
_EARLIEST, _LATEST = 1000, 2100  # outside this, an estimate is not a date


@dataclasses.dataclass(frozen=True)
class Period:
  """A period estimate: the expected year and its spread (standard deviation, years)."""
  year: float
  spread: float


@dataclasses.dataclass(frozen=True)
class When:
  """A time phrase's content.

  Attributes:
    kind: 'year' (exact, supplied), 'range', 'part' (of a century) or 'century'.
    start, end: the years of 'year' (equal) and 'range'.
    century: the century (19 for 1801-1900) of 'part' and 'century'.
    part: 0 early, 1 mid, 2 late, for 'part'.
  """
  kind: str
  start: int = 0
  end: int = 0
  century: int = 0
  part: int = 0


def _century(year: float) -> int:
  return (math.ceil(year) - 1) // 100 + 1


def when(year: int | None, period: Period | None, *, range_spread: float,
         part_spread: float, century_spread: float) -> When | None:
  """The time phrase an exact year or an estimate allows; None when neither says anything.

  Args:
    year: an exact year the caller supplied; wins over `period`.
    period: an estimate, or None.
    range_spread, part_spread, century_spread: the largest spread (years) for a
      5-year-rounded range, a part of a century, a century.
  """
  if year is not None:
    return When('year', start=int(year), end=int(year))
  if period is None or not math.isfinite(period.year) or not math.isfinite(period.spread):
    return None
  y, spread = float(period.year), max(float(period.spread), 0.0)
  if not _EARLIEST <= y <= _LATEST:
    return None
  if spread <= range_spread:
    return When('range', start=5 * math.floor((y - spread) / 5),
                end=5 * math.ceil((y + spread) / 5))
  century = _century(y)
  if spread <= part_spread:
    offset = y - (century - 1) * 100  # in (0, 100]
    return When('part', century=century, part=min(int((offset - 1e-9) // (100 / 3)), 2))
  if spread <= century_spread:
    return When('century', century=century)
  return None


_ORDINALS = ('first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth',
             'ninth', 'tenth', 'eleventh', 'twelfth', 'thirteenth', 'fourteenth', 'fifteenth',
             'sixteenth', 'seventeenth', 'eighteenth', 'nineteenth', 'twentieth',
             'twenty-first')


def ordinal(n: int) -> str:
  """The English ordinal word of a century, 1..21 ('nineteenth')."""
  return _ORDINALS[n - 1]


def roman(n: int) -> str:
  """1..3999 in Roman numerals (French centuries: XIXe siècle)."""
  out = []
  for symbol, value in _ROMAN:
    count, n = divmod(n, value)
    out.append(symbol * count)
  return ''.join(out)


def _years(w: When) -> str:
  return str(w.start) if w.start == w.end else f'{w.start}-{w.end}'


def bare(w: When, lang: str) -> str:
  """The phrase alone, as in "(c. 1870-1895)": '1919', 'c. 1870-1895', 'late
  nineteenth century', 'nineteenth century'; 'vers 1870-1895', 'fin du XIXe siècle',
  'XIXe siècle'."""
  if w.kind == 'year':
    return str(w.start)
  if w.kind == 'range':
    return f"{'c.' if lang == 'en' else 'vers'} {_years(w)}"
  if lang == 'en':
    century = f'{ordinal(w.century)} century'
    return f'{_PARTS_EN[w.part]} {century}' if w.kind == 'part' else century
  century = f'{roman(w.century)}e siècle'
  return f'{_PARTS_FR[w.part]} du {century}' if w.kind == 'part' else century


def complement(w: When, lang: str, *, feminine: bool = False) -> str:
  """The phrase after a noun: 'from 1919', 'from c. 1870-1895', 'from the late
  nineteenth century'; 'de 1919', 'réalisé(e) vers 1870-1895', 'de la fin du XIXe siècle'
  (French agrees the participle with the noun)."""
  if lang == 'en':
    return f'from {bare(w, lang)}' if w.kind in ('year', 'range') else f'from the {bare(w, lang)}'
  if w.kind == 'year':
    return f'de {w.start}'
  if w.kind == 'range':
    return f"réalisé{'e' if feminine else ''} vers {_years(w)}"
  century = f'{roman(w.century)}e siècle'
  return f'{_PARTS_FR_OF[w.part]} du {century}' if w.kind == 'part' else f'du {century}'
