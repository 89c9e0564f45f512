"""What a picture shows and its colours, in words: the subject and palette clauses.

From a `Wording` (text/wording.py): the genre's noun with the tag it absorbs
("seascape", "un paysage maritime"), the content tags named ("a boat and
trees", "un bateau et peut-être des arbres": each tag with its natural article
and the French gender and number of text/subjects.py), and the palette ("in
tones of blue and white", "dans des tons bleus et blancs": the French colour
agreeing with "tons", masculine plural, a compound such as "bleu marine" left
invariable; "in black and white", "en noir et blanc"). The sentence modules
place these clauses.
"""

from __future__ import annotations

from wikiart_jax.text import colours as colours_lib
from wikiart_jax.text import subjects as subjects_lib
from wikiart_jax.text.lexicon import GENRE_EN, GENRE_FR, GENRE_FR_SUBJECT
from wikiart_jax.text.wording import Wording

# Genre nouns that absorb a tag (text/wording.py's GENRE_WITH_TAG): EN, FR.
_WITH_TAG = {('landscape', 'sea'): ('seascape', 'un paysage maritime')}
# French tag phrases said otherwise in a sentence: the lexicon's "un nu" is also the
# genre's noun, so "avec un nu" would read as a second genre.
FR_SUBJECT = {'nude': 'une figure nue'}


def subject_fr(subject: subjects_lib.Subject) -> str:
  """A tag's French phrase in a sentence: the lexicon's, with its natural article."""
  return FR_SUBJECT.get(subject.key, subject.fr)


def genre_en(w: Wording) -> str:
  """The genre's English noun ('landscape', 'seascape')."""
  return _WITH_TAG[(w.genre, w.genre_tag)][0] if w.genre_tag else GENRE_EN[w.genre]


def genre_fr(w: Wording, *, shown: bool = False) -> str:
  """The genre's French noun with its article ('un paysage', 'un paysage maritime');
  `shown`: as what the picture shows, after "représentant" (None when the genre is
  what the work is, not what it shows: a portrait, a sketch)."""
  if w.genre_tag:
    return _WITH_TAG[(w.genre, w.genre_tag)][1]
  return GENRE_FR_SUBJECT.get(w.genre) if shown else GENRE_FR[w.genre]


def _join(items: list[str], conjunction: str) -> str:
  if len(items) <= 1:
    return ''.join(items)
  return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _listed(w: Wording, phrase, conjunction: str, perhaps: str) -> str:
  """Sure tags joined, then the probable ones after `perhaps`: 'a boat and perhaps trees'."""
  sure = [phrase(subjects_lib.SUBJECTS[k]) for k, level in w.subjects if level == 'sure']
  maybe = [phrase(subjects_lib.SUBJECTS[k]) for k, level in w.subjects if level != 'sure']
  if not maybe:
    return _join(sure, conjunction)
  hedged = f'{perhaps} {_join(maybe, conjunction)}'
  return f'{_join(sure, conjunction)} {conjunction} {hedged}' if sure else hedged


def subjects_en(w: Wording) -> str:
  """'a boat and trees', 'a boat and perhaps trees', 'perhaps trees'; '' when none."""
  return _listed(w, lambda s: s.en, 'and', 'perhaps')


def subjects_fr(w: Wording) -> str:
  """'un bateau et des arbres', 'un bateau et peut-être des arbres'; '' when none."""
  return _listed(w, subject_fr, 'et', 'peut-être')


def palette_en(w: Wording) -> str:
  """'in black and white', 'in tones of blue and white'; '' when nothing is named."""
  if w.black_and_white:
    return 'in black and white'
  if not w.colours:
    return ''
  return 'in tones of ' + _join([colours_lib.COLOURS[k].en for k in w.colours], 'and')


def palette_fr(w: Wording) -> str:
  """'en noir et blanc', 'dans des tons bleus et blancs'; '' when nothing is named."""
  if w.black_and_white:
    return 'en noir et blanc'
  if not w.colours:
    return ''
  names = [colours_lib.french_colour(colours_lib.COLOURS[k], 'm', 'pl') for k in w.colours]
  return 'dans des tons ' + _join(names, 'et')
