"""English sentence shapes of the composer: each clause its own function.

Every shape takes a `Wording` (what to say, how surely) and one of the style's
trait phrases (None: no trait) and returns one sentence, e.g.

  "An Impressionist seascape by Claude Monet (late nineteenth century), showing a
   boat, in tones of blue and white, with reflections of light typical of the
   movement."
  "A landscape in the Impressionist style by Claude Monet, marked by visible
   brushstrokes of colour."
  "This landscape by Claude Monet, with trees, shows the play of natural light,
   typical of Impressionism."

The subject and palette clauses are text/depiction.py's.

Titles stand in curly double quotes, so that an apostrophe never opens one.
"""

from __future__ import annotations

from wikiart_jax.text import depiction
from wikiart_jax.text import period as period_lib
from wikiart_jax.text.lexicon import (GENRE_EN, STYLE_EN, STYLE_EN_NOT_ADJECTIVE,
                                      STYLE_EN_NOUN, indefinite_article)
from wikiart_jax.text.wording import Wording, finish


def with_article(noun: str) -> str:
  return f'{indefinite_article(noun)} {noun}'


def quoted(title: str) -> str:
  return f'“{title}”'


def _noun(w: Wording) -> str:
  """The work's noun: its genre when sure, else 'work'."""
  return depiction.genre_en(w) if w.genre and w.genre_level == 'sure' else 'work'


def _content(w: Wording, verb: str) -> list[str]:
  """', showing a boat and trees', ', in tones of blue and white' (each when known)."""
  shown, palette = depiction.subjects_en(w), depiction.palette_en(w)
  return [f', {verb} {shown}' if shown else '', f', {palette}' if palette else '']


def _adjective_before(w: Wording, noun: str) -> bool:
  """Whether the style stands as an adjective before `noun`: not for a style with no
  adjective, nor "Abstract Expressionist abstract composition"."""
  adjective = STYLE_EN[w.style]
  return (w.style not in STYLE_EN_NOT_ADJECTIVE
          and not ('abstract' in noun and 'Abstract' in adjective))


def _style_predicate(style: str) -> str:
  """'Impressionist', or 'in the Action Painting style' for a style with no adjective."""
  if style in STYLE_EN_NOT_ADJECTIVE:
    return f'in the {STYLE_EN[style]} style'
  return STYLE_EN[style]


def _between(w: Wording) -> str:
  return f'between {STYLE_EN_NOUN[w.style]} and {STYLE_EN_NOUN[w.second_style]}'


def _probable_genre(w: Wording) -> str:
  """', probably a landscape,' (with the style too when both are only probable)."""
  if not w.genre or w.genre_level != 'probable':
    return ''
  style = f' in the {STYLE_EN[w.style]} style' if w.both_probable else ''
  return f', probably {with_article(GENRE_EN[w.genre])}{style},'


def _probable_style(w: Wording, predicate: str) -> str:
  """', probably <predicate>,' unless `_probable_genre` says it already."""
  return '' if w.both_probable else f', probably {predicate},'


def _by(w: Wording) -> list[str]:
  """'by Claude Monet (1919)', 'attributed to ...', or 'from 1919' without an artist."""
  parts = []
  if w.artist:
    parts.append(f"{'by' if w.artist_level == 'sure' else 'attributed to'} {w.artist}")
    if w.when:
      parts.append(f'({period_lib.bare(w.when, "en")})')
  elif w.when:
    parts.append(period_lib.complement(w.when, 'en'))
  return parts


def _titled(w: Wording) -> str:
  return f', titled {quoted(w.title)},' if w.title else ''


def adjective_first(w: Wording, trait: str | None) -> str:
  """'An Impressionist landscape by ... (1919), titled “…”, with <trait> typical of the
  movement.'"""
  noun = _noun(w)
  if w.style_level == 'sure' and _adjective_before(w, noun):
    parts = [with_article(f'{STYLE_EN[w.style]} {noun}')]
  elif w.style_level == 'sure':
    parts = [with_article(noun), f'in the {STYLE_EN[w.style]} style']
  elif w.style_level == 'probable':
    parts = [with_article(noun), _probable_style(w, _style_predicate(w.style))]
  else:
    parts = [with_article(noun)]
  parts += [_probable_genre(w), *_by(w), _titled(w)]
  if w.style_level == 'two':
    parts.append(f', {_between(w)}')
  parts += _content(w, 'showing')
  if trait:
    parts.append(f', with {trait} typical of the movement')
  return finish(parts)


def style_after(w: Wording, trait: str | None) -> str:
  """'A landscape in the Impressionist style by ..., marked by <trait>.'"""
  parts = [with_article(_noun(w))]
  if w.style_level == 'sure':
    parts.append(f'in the {STYLE_EN[w.style]} style')
  elif w.style_level == 'probable':
    parts.append(_probable_style(w, f'in the {STYLE_EN[w.style]} style'))
  else:
    parts.append(f', {_between(w)},')
  parts += [_probable_genre(w), *_by(w), _titled(w), *_content(w, 'showing')]
  if trait:
    parts.append(f', marked by {trait}')
  return finish(parts)


def this_work(w: Wording, trait: str | None) -> str:
  """'This landscape by ... shows <trait>, typical of Impressionism.'"""
  parts = [f'this {_noun(w)}', *_by(w), _titled(w), _probable_genre(w), *_content(w, 'with')]
  if any(_content(w, 'with')):
    parts.append(',')
  if w.style_level == 'two':
    parts.append(f'lies {_between(w)}')
  elif w.style_level == 'probable' and trait:
    parts += [_probable_style(w, _style_predicate(w.style)), f'shows {trait}']
  elif w.style_level == 'probable':
    parts.append(f'is probably {_style_predicate(w.style)}')
  elif trait:
    parts.append(f'shows {trait}, typical of {STYLE_EN_NOUN[w.style]}')
  else:
    parts.append(f'belongs to {STYLE_EN_NOUN[w.style]}')
  return finish(parts)


SHAPES = (adjective_first, style_after, this_work)
