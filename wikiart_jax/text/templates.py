"""Template descriptions of an artwork in English or French: the one sentence engine.

Every sentence the project writes from labels comes from `TEMPLATES`: per
language, several grammatical phrasings of the same facts (style, artist,
genre, year, title; each but the style may be unknown). Template 0 is what
`describe` prints; the others give the caption metrics several references and
the captioner several targets per image, e.g.

  "An Impressionist landscape by Claude Monet (1919), titled 'Water Lilies'."
  "Style impressionniste, œuvre de Claude Monet (1919), un paysage : « Water Lilies »."
  "Un paysage de Claude Monet (1919), de style impressionniste, intitulé « Nymphéas »."

French agrees participles with the genre noun's gender (read from its article:
"une nature morte intitulée"), contracts de + le into du, elides de before a
vowel or a mute h, and puts non-breaking spaces inside « » and before ':'.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from wikiart_jax.core import GENRES, STYLE_FOLDER_ALIASES, STYLES
from wikiart_jax.text.lexicon import (GENRE_EN, GENRE_FR, NBSP, STYLE_EN, STYLE_FR,
                                      STYLE_FR_NOUN, french_de, indefinite_article)


class Facts(NamedTuple):
  """What a sentence may say, validated; None where unknown."""
  style: str  # an ArtGAN style name
  artist: str | None  # display name
  genre: str | None  # an ArtGAN genre name
  year: int | None
  title: str | None


def facts(style: str, artist_name: str | None = None, genre: str | None = None,
          year=None, title: str | None = None) -> Facts:
  """Normalises and checks the facts of one artwork.

  Args:
    style: an ArtGAN style name ('Art_Nouveau_Modern', the folder name, too).
    artist_name: display name; None or '' when unknown.
    genre: an ArtGAN genre name; None or '' when unknown.
    year: a whole number; None or a negative value (the labels' -1) when unknown.
    title: the title; None or '' when unknown.

  Raises:
    ValueError: unknown style or genre, or a year that is not a whole number.
  """
  style = STYLE_FOLDER_ALIASES.get(style, style)
  if style not in STYLES:
    raise ValueError(f'unknown style {style!r}: expected one of the 27 ArtGAN styles, '
                     f"e.g. 'Impressionism'")
  if genre and genre not in GENRES:
    raise ValueError(f"unknown genre {genre!r}: expected one of {', '.join(GENRES)}")
  if year is not None:
    if isinstance(year, bool) or not float(year).is_integer():
      raise ValueError(f'year must be a whole number, got {year!r}')
    year = int(year) if int(year) >= 0 else None
  return Facts(style, (artist_name or '').strip() or None, genre or None, year,
               (title or '').strip() or None)


def _cap(text: str) -> str:
  return text[:1].upper() + text[1:]


def _quote_fr(title: str) -> str:
  return f'«{NBSP}{title}{NBSP}»'


def _genre_fr(genre: str | None) -> tuple[str, bool]:
  """(noun phrase with its indefinite article, feminine?)."""
  phrase = GENRE_FR[genre] if genre else 'une œuvre'
  return phrase, phrase.startswith('une ')


def _of_fr(noun_phrase: str) -> str:
  """French "de" before a noun with its article: de + le -> du; de la, de l'."""
  return 'du ' + noun_phrase[3:] if noun_phrase.startswith('le ') else 'de ' + noun_phrase


# English.


def _en_adjective_first(f: Facts) -> str:
  adjective = STYLE_EN[f.style]
  text = f'{indefinite_article(adjective)} {adjective} {GENRE_EN[f.genre] if f.genre else "work"}'
  if f.artist:
    text += f' by {f.artist}' + (f' ({f.year})' if f.year is not None else '')
  elif f.year is not None:
    text += f' from {f.year}'
  if f.title:
    text += f", titled '{f.title}'"
  return _cap(text) + '.'


def _en_style_genre(f: Facts) -> str:
  noun = GENRE_EN[f.genre] if f.genre else 'work'
  text = f'{indefinite_article(noun)} {noun} in the {STYLE_EN[f.style]} style'
  if f.artist:
    text += f' by {f.artist}'
  if f.year is not None:
    text += f', {f.year}'
  if f.title:
    text += f", titled '{f.title}'"
  return _cap(text) + '.'


def _en_this_is(f: Facts) -> str:
  adjective = STYLE_EN[f.style]
  noun = GENRE_EN[f.genre] if f.genre else 'painting'
  text = f'this {noun} is {indefinite_article(adjective)} {adjective} work'
  if f.artist:
    text += f' by {f.artist}'
  if f.year is not None:
    text += f' from {f.year}'
  if f.title:
    text += f", titled '{f.title}'"
  return _cap(text) + '.'


# French.


def _fr_style_first(f: Facts) -> str:
  text = f'Style {STYLE_FR[f.style]}'
  if f.artist:
    text += f', œuvre {french_de(f.artist)}'
  if f.year is not None:
    text += f' ({f.year})'
  if f.genre:
    text += f', {GENRE_FR[f.genre]}'
  if f.title:
    text += f'{NBSP}: {_quote_fr(f.title)}'
  return text + '.'


def _fr_genre_first(f: Facts) -> str:
  phrase, feminine = _genre_fr(f.genre)
  text = phrase
  if f.artist:
    text += f' {french_de(f.artist)}'
  if f.year is not None:
    text += f' ({f.year})'
  # "Une œuvre de style cubiste", but "Un paysage de Claude Monet (1919), de style ...".
  text += f"{', ' if f.artist or f.year is not None else ' '}de style {STYLE_FR[f.style]}"
  if f.title:
    text += f', intitulé{"e" if feminine else ""} {_quote_fr(f.title)}'
  return _cap(text) + '.'


def _fr_movement(f: Facts) -> str:
  phrase, feminine = _genre_fr(f.genre)
  e = 'e' if feminine else ''
  text = f'{phrase} représentati{"ve" if feminine else "f"} {_of_fr(STYLE_FR_NOUN[f.style])}'
  if f.artist:
    text += f', réalisé{e} par {f.artist}'
    if f.year is not None:
      text += f' en {f.year}'
  elif f.year is not None:
    text += f', réalisé{e} en {f.year}'
  if f.title:
    text += f' et intitulé{e} {_quote_fr(f.title)}'
  return _cap(text) + '.'


# Per language, every phrasing; the first is `describe`'s.
TEMPLATES: dict[str, tuple[Callable[[Facts], str], ...]] = {
    'en': (_en_adjective_first, _en_style_genre, _en_this_is),
    'fr': (_fr_style_first, _fr_genre_first, _fr_movement),
}


def check_language(lang: str) -> str:
  """Returns `lang` if it is 'en' or 'fr'; ValueError otherwise."""
  if lang not in TEMPLATES:
    raise ValueError(f"unknown language {lang!r}: expected 'en' or 'fr'")
  return lang


def describe(style: str, artist_name: str | None, genre: str | None, *,
             year: int | None = None, title: str | None = None,
             lang: str = 'en') -> str:
  """One grammatical sentence describing an artwork (template 0 of `lang`).

  Args:
    style: an ArtGAN style name, e.g. 'Impressionism' ('Art_Nouveau_Modern' too).
    artist_name: display name, e.g. 'Claude Monet'; None or '' when unknown.
    genre: an ArtGAN genre name, e.g. 'landscape'; None when unknown.
    year: year of the work, or None.
    title: title of the work, or None.
    lang: 'en' or 'fr'.

  Returns:
    e.g. "An Impressionist landscape by Claude Monet (1919), titled 'Water Lilies'."

  Raises:
    ValueError: unknown style, genre or language, or a year that is not whole.
  """
  known = facts(style, artist_name, genre, year, title)
  return TEMPLATES[check_language(lang)][0](known)


def all_phrasings(known: Facts) -> dict[str, list[str]]:
  """Every template's sentence per language, duplicates removed, template order kept."""
  return {lang: list(dict.fromkeys(t(known) for t in templates))
          for lang, templates in TEMPLATES.items()}
