"""French sentence shapes of the composer: each clause its own function.

The plan's sentence is the model of the first shape:

  "Style impressionniste, œuvre de Claude Monet, représentant un paysage avec des
   reflets de lumière caractéristiques du mouvement."
  "Un paysage de Claude Monet (1919), intitulé « Nymphéas », de style impressionniste,
   marqué par des touches de couleur visibles."
  "Ce paysage de Claude Monet, de style impressionniste, présente des jeux de
   lumière naturelle."
  "Style impressionniste, œuvre de Claude Monet (fin du XIXe siècle), représentant
   un paysage maritime avec un bateau, avec des reflets de lumière
   caractéristiques du mouvement, dans des tons bleus et blancs."

Participles and adjectives agree with the noun they follow ("une nature morte
attribuée à", "caractéristique" or "caractéristiques" with the trait's number);
de + le contracts ("du Titien", "du cubisme"), de elides before a vowel or a mute
h ("d'Henri Matisse", but "de Yayoi Kusama"); « » hold non-breaking spaces. A
style with no adjective is named by its movement ("Première Renaissance, œuvre
de ...", "de la haute Renaissance"), never "Style première Renaissance".
"""

from __future__ import annotations

from wikiart_jax.text import depiction
from wikiart_jax.text import period as period_lib
from wikiart_jax.text import traits as traits_lib
from wikiart_jax.text.lexicon import (GENRE_FR, GENRE_FR_SUBJECT, NBSP, STYLE_FR,
                                      STYLE_FR_NOUN, demonstrative, feminine, french_a,
                                      french_de)
from wikiart_jax.text.wording import Wording, finish

_WORK = 'une œuvre'  # the noun when the genre is left out


def quoted(title: str) -> str:
  return f'«{NBSP}{title}{NBSP}»'


def _agree(word: str, is_feminine: bool) -> str:
  return word + ('e' if is_feminine else '')


def _movement(style: str) -> str:
  """The movement with its article ("l'impressionnisme", "la première Renaissance")."""
  return STYLE_FR_NOUN[style]


def _bare_movement(style: str) -> str:
  """The movement without its article ("impressionnisme", "première Renaissance")."""
  noun = _movement(style)
  return noun[2:] if noun.startswith("l'") else noun.split(' ', 1)[1]


def _head(style: str) -> str:
  """The style at the head of a sentence: 'Style impressionniste', 'Première Renaissance'."""
  if style in STYLE_FR:
    return f'Style {STYLE_FR[style]}'
  noun = _bare_movement(style)
  return noun[:1].upper() + noun[1:]


def _predicate(style: str) -> str:
  """The style after a noun: 'de style impressionniste', 'de la première Renaissance'."""
  if style in STYLE_FR:
    return f'de style {STYLE_FR[style]}'
  return french_de(_movement(style))


def _between(w: Wording) -> str:
  """'entre impressionnisme et postimpressionnisme': without articles, as exhibition
  titles say it; a small decoder that wrote "et le" went on with the first style's
  words ("entre le cubisme synthétique et le cubisme synthétique")."""
  return f'entre {_bare_movement(w.style)} et {_bare_movement(w.second_style)}'


def _typical(trait: str) -> str:
  plural = traits_lib.french_plural(trait)
  return 'caractéristiques' if plural else 'caractéristique'


def _genre_phrase(w: Wording) -> str:
  """The noun phrase of the work: its genre when sure, else 'une œuvre'."""
  return depiction.genre_fr(w) if w.genre and w.genre_level == 'sure' else _WORK


def _palette(w: Wording) -> str:
  palette = depiction.palette_fr(w)
  return f', {palette}' if palette else ''


def _with(w: Wording) -> str:
  """', avec un bateau et des arbres' ('' without tags)."""
  shown = depiction.subjects_fr(w)
  return f', avec {shown}' if shown else ''


def _probable_genre(w: Wording) -> str:
  """', probablement un paysage,' (with the style too when both are only probable)."""
  if not w.genre or w.genre_level != 'probable':
    return ''
  style = f' {_predicate(w.style)}' if w.both_probable else ''
  return f', probablement {GENRE_FR[w.genre]}{style},'


def _probable_style(w: Wording) -> str:
  """', probablement de style ...,' unless `_probable_genre` says it already."""
  return '' if w.both_probable else f', probablement {_predicate(w.style)},'


def _author(w: Wording, is_feminine: bool) -> list[str]:
  """'de Claude Monet (1919)', 'attribuée au Titien', or 'de 1919' without an artist."""
  parts = []
  artist = w.artist_in('fr')
  if artist:
    if w.artist_level == 'sure':
      parts.append(french_de(artist))
    else:
      parts.append(f"{_agree('attribué', is_feminine)} {french_a(artist)}")
    if w.when:
      parts.append(f'({period_lib.bare(w.when, "fr")})')
  elif w.when:
    parts.append(period_lib.complement(w.when, 'fr', feminine=is_feminine))
  return parts


def _titled(w: Wording, is_feminine: bool) -> str:
  return f", {_agree('intitulé', is_feminine)} {quoted(w.title)}," if w.title else ''


def style_first(w: Wording, trait: str | None) -> str:
  """'Style impressionniste, œuvre de ..., représentant un paysage avec <trait>
  caractéristiques du mouvement.' (the plan's sentence)."""
  if w.style_level == 'sure':
    parts = [_head(w.style)]
  elif w.both_probable:  # one "probablement" for both
    parts = [f'probablement {GENRE_FR[w.genre]} {_predicate(w.style)}']
  elif w.style_level == 'probable':
    parts = [f'probablement {_predicate(w.style)}']
  else:
    parts = [_between(w)]
  has_work = bool(w.artist or w.when or w.title)
  if has_work:
    parts += [', œuvre', *_author(w, True)]
    if w.title:
      parts.append(f'intitulée {quoted(w.title)}')
  subject = ''
  shown = depiction.subjects_fr(w)
  if w.genre and not w.both_probable:
    probably = 'probablement ' if w.genre_level == 'probable' else ''
    sure = w.genre_level == 'sure'
    shows = depiction.genre_fr(w, shown=True) if sure else GENRE_FR_SUBJECT.get(w.genre)
    if has_work and shows:
      subject = f'représentant {probably}{shows}'
    else:
      subject = f'{probably}{depiction.genre_fr(w) if sure else GENRE_FR[w.genre]}'
    if shown:
      subject += f' avec {shown}'
  elif shown:
    subject = f'représentant {shown}'
  parts.append(f', {subject}' if subject else '')
  if trait:
    parts.append(f"{',' if not subject or shown else ''} avec {trait} {_typical(trait)} "
                 'du mouvement')
  parts.append(_palette(w))
  return finish(parts)


def genre_first(w: Wording, trait: str | None) -> str:
  """'Un paysage de ... (1919), intitulé « … », de style impressionniste, marqué par
  <trait>.'"""
  lead = _genre_phrase(w)
  fem = feminine(lead)
  parts = [lead, *_author(w, fem), _titled(w, fem), _probable_genre(w)]
  joined = bool(w.artist or w.when or w.title or _probable_genre(w))
  if w.style_level == 'sure':
    parts.append(f"{',' if joined else ''} {_predicate(w.style)}")
  elif w.style_level == 'probable':
    parts.append(_probable_style(w))
  else:
    parts.append(f', {_between(w)}')
  parts += [_with(w), _palette(w)]
  if trait:
    parts.append(f", {_agree('marqué', fem)} par {trait}")
  return finish(parts)


def this_work(w: Wording, trait: str | None) -> str:
  """'Ce paysage de ..., de style impressionniste, présente <trait>.'"""
  lead = _genre_phrase(w)
  fem = feminine(lead)
  parts = [demonstrative(lead), *_author(w, fem), _titled(w, fem), _probable_genre(w),
           _with(w), _palette(w)]
  if _with(w) or _palette(w):
    parts.append(',')
  if w.style_level == 'two':
    parts.append(f'se situe {_between(w)}')
  elif w.style_level == 'probable' and trait:
    parts += [_probable_style(w), f'présente {trait}']
  elif w.style_level == 'probable':
    parts.append(f'est probablement {_predicate(w.style)}')
  elif trait:  # the style before the trait, as "probablement" does: a small decoder
    # that had to name it after the trait wrote the trait's own style or "du mouvement"
    parts += [f', {_predicate(w.style)},', f'présente {trait}']
  else:
    parts.append(f'relève {french_de(_movement(w.style))}')
  return finish(parts)


SHAPES = (style_first, genre_first, this_work)
