"""Artists' display names: a table of proper names, and rules for the others.

WikiArt knows an artist by a slug that lost its accents, hyphens and capitals
('albrecht-durer', 'henri-de-toulouse-lautrec'). `data/artist_names.tsv` (shipped
with the package) gives the proper name of the ~400 artists with the most images
and of every artist the project names by itself ("Albrecht Dürer", "Henri de
Toulouse-Lautrec", "Pierre-Auguste Renoir"), and a French name where French usage
differs ("le Titien", "Léonard de Vinci"). Any other slug is spelt out by
`rule_name`: particles in lower case, "the Elder", French compound given names
hyphenated, initials spaced. Slugs are looked up as given: repair mojibake first
(data/metadata.py's `artist_display_name` does both).
"""

from __future__ import annotations

import functools
from importlib import resources
import re

# Lower-case name particles ("Vincent van Gogh"); never the first word.
_PARTICLES = frozenset({
    'van', 'von', 'der', 'den', 'de', 'da', 'di', 'del', 'della', 'dello',
    'des', 'du', 'la', 'le', 'dos', 'das', 'do', 'ter', 'ten', 'zu', 'y', 'e',
    'af', 'al', 'bin', 'ibn', 'the',
})
# French compound given names are written with a hyphen ("Jean-Baptiste"), but the
# slug has one between every word: rejoin a first name with a second one.
_FIRST_OF_COMPOUND = frozenset({'jean', 'pierre', 'marie', 'louis', 'charles', 'francois',
                                'jacques', 'paul', 'anne', 'joseph', 'auguste'})
_SECOND_OF_COMPOUND = frozenset({
    'baptiste', 'francois', 'honore', 'louis', 'paul', 'pierre', 'marie', 'jacques',
    'antoine', 'auguste', 'claude', 'leon', 'michel', 'charles', 'etienne', 'joseph',
    'simeon', 'edmond', 'adolphe', 'emile', 'andre', 'victor', 'luc', 'marc', 'georges',
    'louise', 'anne', 'therese', 'elisabeth', 'madeleine'})
_EPITHETS = {'elder': 'Elder', 'younger': 'Younger'}  # "Lucas Cranach the Elder"
_INITIALS = re.compile(r'^([a-z]\.)+$')


def capitalize_word(word: str) -> str:
  """'o'keeffe' -> "O'Keeffe", 'mcneill' -> 'McNeill', '(elder)' -> '(Elder)'."""
  if word.isalnum():
    if word.startswith('mc') and len(word) > 3:
      return 'Mc' + word[2:].capitalize()
    return word[:1].upper() + word[1:]
  chars = list(word)
  for i, ch in enumerate(chars):
    prev = chars[i - 1] if i else ''
    # An apostrophe after one letter is an elided particle (d', o', l').
    after_elision = prev == "'" and i == 2
    if ch.isalpha() and (not prev or prev in '.(' or after_elision):
      chars[i] = ch.upper()
  return ''.join(chars)


def slug_words(slug: str) -> list[str]:
  """The words of a slug ('-' and white space separate them)."""
  # Non-breaking spaces survive in a few repaired slugs ('georges-lacombe\xa0').
  return [w for w in re.split(r'[-\s]+', slug) if w]


def rule_name(slug: str) -> str:
  """A display name from the slug alone: 'jean-baptiste-greuze' -> 'Jean-Baptiste Greuze'.

  Particles stay lower-case except first ('Le Corbusier'); 'the-elder' becomes
  'the Elder'; initials are spaced ('m.c.-escher' -> 'M. C. Escher').
  """
  words = slug_words(slug.lower())
  if (len(words) >= 3 and words[0] in _FIRST_OF_COMPOUND
      and words[1] in _SECOND_OF_COMPOUND):
    words = [f'{words[0]}-{words[1]}', *words[2:]]
  out = []
  for i, word in enumerate(words):
    last = i == len(words) - 1
    if word in _EPITHETS and i > 0 and words[i - 1] == 'the':
      out.append(_EPITHETS[word])
    elif i > 0 and not last and word in _PARTICLES:
      out.append(word)
    elif _INITIALS.match(word):
      out.append(' '.join(ch.upper() + '.' for ch in word.split('.') if ch))
    else:
      out.append('-'.join(capitalize_word(part) for part in word.split('-')))
  return ' '.join(out)


@functools.cache
def table() -> dict[str, tuple[str, str | None]]:
  """slug -> (English name, French name or None), from data/artist_names.tsv."""
  text = resources.files('wikiart_jax.text').joinpath('data', 'artist_names.tsv').read_text(
      encoding='utf-8')
  out = {}
  for number, line in enumerate(text.splitlines(), 1):
    if not line.strip() or line.startswith('#'):
      continue
    fields = line.split('\t')
    if len(fields) not in (2, 3) or not all(f.strip() for f in fields):
      raise ValueError(f'artist_names.tsv line {number}: expected slug<TAB>name[<TAB>French '
                       f'name], got {line!r}')
    if fields[0] in out:
      raise ValueError(f'artist_names.tsv line {number}: {fields[0]!r} is listed twice')
    out[fields[0]] = (fields[1], fields[2] if len(fields) == 3 else None)
  return out


def display_name(slug: str, lang: str = 'en') -> str:
  """The name to show for an artist slug (already free of mojibake) in `lang`.

  The table's name when it has the slug (its French name in French when it has
  one), else `rule_name(slug)`.
  """
  entry = table().get(slug.strip().lower())
  if entry is None:
    return rule_name(slug)
  return entry[1] if lang == 'fr' and entry[1] else entry[0]
