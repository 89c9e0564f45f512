"""The colour lexicon: English names and the French agreement forms."""

import pytest

from wikiart_jax.text.colours import ACHROMATIC, COLOURS, french_colour


@pytest.mark.parametrize('key, gender, number, form', [
    ('blue', 'm', 'sg', 'bleu'), ('blue', 'f', 'sg', 'bleue'),
    ('blue', 'm', 'pl', 'bleus'), ('blue', 'f', 'pl', 'bleues'),
    ('white', 'f', 'sg', 'blanche'), ('white', 'f', 'pl', 'blanches'),
    ('grey', 'm', 'pl', 'gris'), ('grey', 'f', 'sg', 'grise'),
    ('violet', 'f', 'sg', 'violette'),
    ('red', 'f', 'sg', 'rouge'), ('red', 'f', 'pl', 'rouges'),
    ('pink', 'm', 'pl', 'roses'),
    # A noun used as a colour, or a compound colour, is invariable.
    ('orange', 'f', 'pl', 'orange'), ('ochre', 'f', 'pl', 'ocre'),
    ('navy', 'f', 'pl', 'bleu marine'), ('dark_green', 'f', 'sg', 'vert foncé'),
    ('light_blue', 'm', 'pl', 'bleu clair'),
])
def test_french_forms_agree(key, gender, number, form):
  assert french_colour(COLOURS[key], gender, number) == form


def test_every_colour_is_complete():
  assert set(ACHROMATIC) <= set(COLOURS)
  for c in COLOURS.values():
    assert c.en and len(c.fr_forms) == 4 and all(0 <= v <= 255 for v in c.rgb)
    assert c.fr == c.fr_forms[0]  # the masculine singular is also the noun ("le bleu")
    # A form either varies as French adjectives do, or is invariable throughout.
    if len(set(c.fr_forms)) > 1:
      assert c.fr_forms[2] in (c.fr_forms[0], c.fr_forms[0] + 's'), c.key
      assert c.fr_forms[3] == c.fr_forms[1] + 's', c.key


def test_bad_agreement_is_refused():
  with pytest.raises(ValueError, match='gender'):
    french_colour(COLOURS['blue'], 'n', 'sg')
