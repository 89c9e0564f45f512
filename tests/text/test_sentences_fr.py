"""The French sentence shapes: elision, contraction and agreement, written by hand."""

import pytest

import common
from wikiart_jax.core import GENRES
from wikiart_jax.text import composer
from wikiart_jax.text.composer import compose, describe, facts

HEDGING = composer.Hedging.from_config(common.get_config().describe)


@pytest.mark.parametrize('name,de,a', [
    ('Albrecht Dürer', "d'Albrecht Dürer", 'à Albrecht Dürer'),
    ('Henri Matisse', "d'Henri Matisse", 'à Henri Matisse'),
    ('Yayoi Kusama', 'de Yayoi Kusama', 'à Yayoi Kusama'),
    ('Yves Klein', "d'Yves Klein", 'à Yves Klein'),
    ('Édouard Manet', "d'Édouard Manet", 'à Édouard Manet'),
    ('Hans Memling', 'de Hans Memling', 'à Hans Memling'),
    ('le Titien', 'du Titien', 'au Titien'),
    ('les frères Le Nain', 'des frères Le Nain', 'aux frères Le Nain'),
])
def test_french_elision_and_contraction_follow_the_displayed_name(name, de, a):
  sure = describe('Realism', name, 'portrait', lang='fr', hedging=HEDGING, artist_prob=0.9)
  assert sure.startswith(f'Style réaliste, œuvre {de}, un portrait')
  hedged = describe('Realism', name, 'portrait', lang='fr', hedging=HEDGING, artist_prob=0.4)
  assert hedged.startswith(f'Style réaliste, œuvre attribuée {a}, un portrait')
  lead = compose(facts('Realism', name, 'landscape', artist_prob=0.4), 'fr', hedging=HEDGING,
                 shape=1)
  assert lead.startswith(f'Un paysage attribué {a}, de style réaliste')


_FEMININE = {'abstract_painting', 'cityscape', 'genre_painting', 'illustration',
             'religious_painting', 'sketch_and_study', 'still_life'}


_THIS = {'abstract_painting': 'Cette composition abstraite', 'cityscape': 'Cette vue urbaine',
         'genre_painting': 'Cette scène de genre', 'illustration': 'Cette illustration',
         'landscape': 'Ce paysage', 'nude_painting': 'Ce nu', 'portrait': 'Ce portrait',
         'religious_painting': 'Cette peinture religieuse', 'sketch_and_study': 'Cette esquisse',
         'still_life': 'Cette nature morte'}


@pytest.mark.parametrize('genre', GENRES)
def test_gender_agrees_with_the_genre(genre):
  e = 'e' if genre in _FEMININE else ''
  known = facts('Romanticism', 'Eugène Delacroix', genre, title='Esquisse', artist_prob=0.4)
  lead = compose(known, 'fr', hedging=HEDGING, shape=1)
  assert f' attribué{e} à Eugène Delacroix, intitulé{e} «' in lead
  assert lead.endswith(f', de style romantique, marqué{e} par des effets de lumière '
                       'dramatiques.')
  this = compose(known, 'fr', hedging=HEDGING, shape=2)
  assert this.startswith(f'{_THIS[genre]} attribué{e} à Eugène Delacroix')


@pytest.mark.parametrize('trait,agreement', [
    (0, 'caractéristiques'), (1, 'caractéristique'), (2, 'caractéristique')])
def test_number_agrees_with_the_trait(trait, agreement):
  # Minimalism: "des unités ..." (plural), "une surface ...", "une répétition ..." (singular).
  text = compose(facts('Minimalism', 'Agnes Martin', 'abstract_painting'), 'fr', trait=trait)
  assert text.endswith(f' {agreement} du mouvement.')


@pytest.mark.parametrize('style,second,between', [
    ('Synthetic_Cubism', 'Cubism', 'entre cubisme synthétique et cubisme'),
    ('High_Renaissance', 'Early_Renaissance', 'entre haute Renaissance et première Renaissance'),
    ('Impressionism', 'Ukiyo_e', 'entre impressionnisme et ukiyo-e')])
def test_two_styles_are_named_without_articles(style, second, between):
  known = facts(style, 'Juan Gris', 'still_life', style_prob=0.2, second_style=second)
  texts = [compose(known, 'fr', hedging=HEDGING, shape=s) for s in range(3)]
  assert texts[0].startswith(between[0].upper() + between[1:] + ', œuvre de Juan Gris')
  assert all(between.lower() in t.lower() for t in texts)


def test_this_work_names_the_style_before_its_trait():
  known = facts('Minimalism', 'Agnes Martin', 'abstract_painting')
  assert compose(known, 'fr', shape=2, trait=0) == (
      "Cette composition abstraite d'Agnes Martin, de style minimaliste, présente des unités "
      'géométriques simples.')
  # A style without an adjective is named by its movement, as with "probablement".
  known = facts('High_Renaissance', 'Raphael', 'portrait', artist_fr='Raphaël')
  assert ', de la haute Renaissance, présente ' in compose(known, 'fr', shape=2)
