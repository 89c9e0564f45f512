"""Period phrases at the precision a spread allows, checked by hand."""

import pytest

from wikiart_jax.text import period

LIMITS = dict(range_spread=15, part_spread=30, century_spread=60)


@pytest.mark.parametrize('year,spread,en,fr', [
    (1882.0, 12.0, 'c. 1870-1895', 'vers 1870-1895'),
    (1882.0, 0.0, 'c. 1880-1885', 'vers 1880-1885'),
    (1880.0, 0.0, 'c. 1880', 'vers 1880'),
    (1882.0, 20.0, 'late nineteenth century', 'fin du XIXe siècle'),
    (1850.0, 20.0, 'mid nineteenth century', 'milieu du XIXe siècle'),
    (1505.0, 30.0, 'early sixteenth century', 'début du XVIe siècle'),
    (1900.0, 25.0, 'late nineteenth century', 'fin du XIXe siècle'),  # 1801-1900
    (1901.0, 25.0, 'early twentieth century', 'début du XXe siècle'),
    (2003.0, 25.0, 'early twenty-first century', 'début du XXIe siècle'),
    (1412.0, 45.0, 'fifteenth century', 'XVe siècle'),
    (1999.0, 60.0, 'twentieth century', 'XXe siècle'),
])
def test_phrases_by_hand(year, spread, en, fr):
  w = period.when(None, period.Period(year, spread), **LIMITS)
  assert period.bare(w, 'en') == en
  assert period.bare(w, 'fr') == fr


def test_too_vague_or_out_of_range_says_nothing():
  assert period.when(None, period.Period(1882.0, 61.0), **LIMITS) is None
  assert period.when(None, period.Period(500.0, 5.0), **LIMITS) is None
  assert period.when(None, period.Period(float('nan'), 5.0), **LIMITS) is None
  assert period.when(None, None, **LIMITS) is None


def test_an_exact_year_wins_and_complements_agree():
  w = period.when(1919, period.Period(1700.0, 5.0), **LIMITS)
  assert (period.bare(w, 'en'), period.bare(w, 'fr')) == ('1919', '1919')
  assert period.complement(w, 'en') == 'from 1919'
  assert period.complement(w, 'fr') == 'de 1919'
  r = period.when(None, period.Period(1882.0, 12.0), **LIMITS)
  assert period.complement(r, 'en') == 'from c. 1870-1895'
  assert period.complement(r, 'fr') == 'réalisé vers 1870-1895'
  assert period.complement(r, 'fr', feminine=True) == 'réalisée vers 1870-1895'
  p = period.when(None, period.Period(1882.0, 20.0), **LIMITS)
  assert period.complement(p, 'en') == 'from the late nineteenth century'
  assert period.complement(p, 'fr') == 'de la fin du XIXe siècle'
  c = period.when(None, period.Period(1550.0, 50.0), **LIMITS)
  assert period.complement(c, 'fr') == 'du XVIe siècle'


def test_roman_numerals():
  assert [period.roman(n) for n in (4, 9, 14, 19, 21, 40, 1994)] == [
      'IV', 'IX', 'XIV', 'XIX', 'XXI', 'XL', 'MCMXCIV']
