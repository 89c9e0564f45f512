"""The movements' characteristic traits, in English and French, from a table shipped as data.

`data/movement_traits.json` holds, for each of the 27 WikiArt styles, three
phrasings per language of what characterises the movement (facts of art
history: Impressionism's reflections of light and visible brushstrokes, Cubism's
fragmented geometric forms and multiple viewpoints). The composer writes one of
them "typical of the movement"; French agrees "caractéristique(s)" with the
phrase's number, read from its article.
"""

from __future__ import annotations

import functools
from importlib import resources
import json

from wikiart_jax.core import LANGUAGES, STYLES

PER_LANGUAGE = 3  # phrasings per style and language


@functools.cache
def table() -> dict[str, dict[str, tuple[str, ...]]]:
  """style -> {lang: (trait, ...)}, checked: every style, every language, three each."""
  raw = json.loads(resources.files('wikiart_jax.text').joinpath(
      'data', 'movement_traits.json').read_text(encoding='utf-8'))
  raw.pop('_about', None)
  if set(raw) != set(STYLES):
    raise ValueError(f'movement_traits.json: styles differ from the 27 WikiArt styles '
                     f'(missing {sorted(set(STYLES) - set(raw))}, '
                     f'unknown {sorted(set(raw) - set(STYLES))})')
  out = {}
  for style in STYLES:
    entry = raw[style]
    for lang in LANGUAGES:
      phrases = entry.get(lang, [])
      if len(phrases) != PER_LANGUAGE or not all(p.strip() for p in phrases):
        raise ValueError(f'movement_traits.json: {style} needs {PER_LANGUAGE} {lang} traits')
    out[style] = {lang: tuple(entry[lang]) for lang in LANGUAGES}
  return out


def traits(style: str, lang: str) -> tuple[str, ...]:
  """The trait phrases of `style` (an ArtGAN style name) in `lang`."""
  return table()[style][lang]


def french_plural(trait: str) -> bool:
  """Whether a French trait phrase is plural, by its first word ("des reflets")."""
  return trait.split(' ', 1)[0] in ('des', 'les', 'de', 'plusieurs')
