"""Colour names in English and French, with the French agreement forms, as data.

Each named colour has an sRGB anchor (the palette analysis names a pixel cluster
by the nearest anchor in CIELAB), an English name, and its four French adjective
forms (masculine / feminine, singular / plural) so that a sentence agrees with
its noun ("une mer bleue", "des fleurs blanches", "des robes bleu marine": a
compound or a noun used as a colour stays invariable). Used as a noun, a colour
is masculine singular ("le bleu", "du jaune").

    french_colour(COLOURS['blue'], 'f', 'pl') -> 'bleues'
"""

from __future__ import annotations

import dataclasses

# key | sRGB anchor | English | French m sg, f sg, m pl, f pl
_TABLE = """
black | 20 20 20 | black | noir, noire, noirs, noires
grey | 128 128 128 | grey | gris, grise, gris, grises
white | 245 245 240 | white | blanc, blanche, blancs, blanches
red | 200 30 35 | red | rouge, rouge, rouges, rouges
dark_red | 120 20 35 | dark red | bordeaux, bordeaux, bordeaux, bordeaux
pink | 240 150 180 | pink | rose, rose, roses, roses
orange | 250 150 20 | orange | orange, orange, orange, orange
brown | 110 70 40 | brown | brun, brune, bruns, brunes
ochre | 190 140 70 | ochre | ocre, ocre, ocre, ocre
beige | 220 200 160 | beige | beige, beige, beiges, beiges
yellow | 240 215 40 | yellow | jaune, jaune, jaunes, jaunes
olive | 110 110 40 | olive green | vert olive, vert olive, vert olive, vert olive
green | 50 150 60 | green | vert, verte, verts, vertes
dark_green | 25 75 45 | dark green | vert foncé, vert foncé, vert foncé, vert foncé
turquoise | 50 180 175 | turquoise | turquoise, turquoise, turquoise, turquoise
light_blue | 140 190 230 | light blue | bleu clair, bleu clair, bleu clair, bleu clair
blue | 20 60 220 | blue | bleu, bleue, bleus, bleues
navy | 25 30 90 | navy blue | bleu marine, bleu marine, bleu marine, bleu marine
violet | 120 60 170 | violet | violet, violette, violets, violettes
"""
ACHROMATIC = ('black', 'grey', 'white')  # the tones of a black-and-white picture


@dataclasses.dataclass(frozen=True)
class Colour:
  """One named colour.

  Attributes:
    key: its id ('dark_red').
    rgb: the sRGB anchor, 0-255.
    en: the English name ('dark red').
    fr_forms: French adjective forms (m sg, f sg, m pl, f pl); fr_forms[0] is also
      the noun ("le bleu").
  """
  key: str
  rgb: tuple[int, int, int]
  en: str
  fr_forms: tuple[str, str, str, str]

  @property
  def fr(self) -> str:
    """The French name (masculine singular, also the noun)."""
    return self.fr_forms[0]


def _parse(table: str) -> dict[str, Colour]:
  out = {}
  for line in table.strip().splitlines():
    key, rgb, en, forms = (f.strip() for f in line.split('|'))
    fr_forms = tuple(f.strip() for f in forms.split(','))
    rgb = tuple(int(v) for v in rgb.split())
    if key in out or len(fr_forms) != 4 or len(rgb) != 3:
      raise ValueError(f'bad colour line {line!r}')
    out[key] = Colour(key, rgb, en, fr_forms)
  return out


COLOURS: dict[str, Colour] = _parse(_TABLE)


def french_colour(colour: Colour, gender: str = 'm', number: str = 'sg') -> str:
  """The French adjective agreeing with a noun of `gender` ('m'/'f') and `number` ('sg'/'pl')."""
  if gender not in ('m', 'f') or number not in ('sg', 'pl'):
    raise ValueError(f"gender must be 'm' or 'f' and number 'sg' or 'pl', got "
                     f'{gender!r}, {number!r}')
  return colour.fr_forms[(number == 'pl') * 2 + (gender == 'f')]
