"""The description composer: the one sentence engine, for English and French.

From `Facts` (predictions with their calibrated probabilities, or labels) it
writes one sentence in several shapes per language (text/sentences_en.py,
text/sentences_fr.py), each saying the style, the artist, the genre, the time,
a supplied title, what the picture shows and its palette (text/depiction.py) and
one of the movement's traits (text/traits.py), hedged by
`config.describe`'s limits (text/wording.py). Shape 0 with trait 0 is what
`compose` prints; the others give the caption metrics several references and
the captioner several targets per image:

  "Style impressionniste, œuvre de Claude Monet, représentant un paysage avec des
   reflets de lumière caractéristiques du mouvement."
  "An Impressionist landscape by Claude Monet (1919), titled “Water Lilies”, with
   reflections of light typical of the movement."
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from wikiart_jax.core import LANGUAGES
from wikiart_jax.text import sentences_en
from wikiart_jax.text import sentences_fr
from wikiart_jax.text import traits as traits_lib
from wikiart_jax.text.period import Period
from wikiart_jax.text.wording import Facts, Hedging, Wording, facts, plan

# Per language, every sentence shape: (Wording, trait phrase or None) -> sentence.
SHAPES: dict[str, tuple[Callable[[Wording, str | None], str], ...]] = {
    'en': sentences_en.SHAPES,
    'fr': sentences_fr.SHAPES,
}

__all__ = ['Facts', 'Hedging', 'Period', 'SHAPES', 'check_language', 'compose', 'describe',
           'all_phrasings', 'sample', 'facts']


def check_language(lang: str) -> str:
  """Returns `lang` if it is 'en' or 'fr'; ValueError otherwise."""
  if lang not in SHAPES:
    raise ValueError(f"unknown language {lang!r}: expected 'en' or 'fr'")
  return lang


def _trait(wording: Wording, lang: str, index: int) -> str | None:
  """The style's `index`-th trait, or None when the style is not settled (two named)."""
  if wording.style_level == 'two':
    return None
  phrases = traits_lib.traits(wording.style, lang)
  return phrases[index % len(phrases)]


def compose(known: Facts, lang: str, *, hedging: Hedging | None = None, shape: int = 0,
            trait: int = 0) -> str:
  """One sentence describing `known` in `lang`.

  Args:
    known: from `facts(...)`.
    lang: 'en' or 'fr'.
    hedging: `Hedging.from_config(config.describe)` for predictions; None states
      every fact as it is (labels).
    shape: which sentence shape of the language.
    trait: which of the style's trait phrases.
  """
  wording = plan(known, hedging)
  shapes = SHAPES[check_language(lang)]
  return shapes[shape % len(shapes)](wording, _trait(wording, lang, trait))


def describe(style: str, artist_name: str | None = None, genre: str | None = None, *,
             year: int | None = None, title: str | None = None, lang: str = 'en',
             hedging: Hedging | None = None, **more) -> str:
  """`compose` of `facts(style, artist_name, genre, year, title, **more)` (shape 0).

  Returns:
    e.g. "An Impressionist landscape by Claude Monet (1919), titled “Water Lilies”,
    with reflections of light typical of the movement."

  Raises:
    ValueError: unknown style, genre or language, a year that is not whole.
  """
  return compose(facts(style, artist_name, genre, year, title, **more), lang, hedging=hedging)


def all_phrasings(known: Facts, hedging: Hedging | None = None) -> dict[str, list[str]]:
  """Every shape with every trait per language, duplicates removed, order kept."""
  out = {}
  for lang in LANGUAGES:
    wording = plan(known, hedging)
    count = len(traits_lib.traits(known.style, lang)) if wording.style_level != 'two' else 1
    out[lang] = list(dict.fromkeys(
        shape(wording, _trait(wording, lang, t)) for shape in SHAPES[lang]
        for t in range(count)))
  return out


def sample(known: Facts, lang: str, rng: np.random.Generator, *,
           hedging: Hedging | None = None) -> str:
  """A random shape with a random trait: a teacher-forcing target."""
  shapes = SHAPES[check_language(lang)]
  return compose(known, lang, hedging=hedging, shape=int(rng.integers(len(shapes))),
                 trait=int(rng.integers(traits_lib.PER_LANGUAGE)))
