"""The description composer against sentences written by hand, in English and French."""

import itertools

import numpy as np
import pytest

import common
from wikiart_jax.core import GENRES, STYLES
from wikiart_jax.text import composer
from wikiart_jax.text.composer import compose, describe, facts
from wikiart_jax.text.period import Period


NB = '\u00a0'


HEDGING = composer.Hedging.from_config(common.get_config().describe)


def test_the_plans_sentence():
  # The plan's model sentence, less "maritime" (the subject from content tags comes next).
  assert describe('Impressionism', 'Claude Monet', 'landscape', lang='fr') == (
      'Style impressionniste, œuvre de Claude Monet, représentant un paysage avec des '
      'reflets de lumière caractéristiques du mouvement.')
  assert describe('Impressionism', 'Claude Monet', 'landscape') == (
      'An Impressionist landscape by Claude Monet, with reflections of light typical of '
      'the movement.')


# (facts, kwargs) -> (English, French) of shape 0, written by hand.


GOLDEN = [
    (('Impressionism', 'Claude Monet', 'landscape'), dict(year=1919, title='Water Lilies'),
     'An Impressionist landscape by Claude Monet (1919), titled “Water Lilies”, with '
     'reflections of light typical of the movement.',
     'Style impressionniste, œuvre de Claude Monet (1919) intitulée «\u00a0Water Lilies\u00a0», '
     'représentant un paysage avec des reflets de lumière caractéristiques du mouvement.'),
    (('Northern_Renaissance', 'Albrecht Dürer', 'religious_painting'), {},
     'A Northern Renaissance religious painting by Albrecht Dürer, with meticulous detail '
     'typical of the movement.',
     "Renaissance nordique, œuvre d'Albrecht Dürer, représentant une scène religieuse avec "
     'un détail minutieux caractéristique du mouvement.'),
    (('Early_Renaissance', 'Fra Angelico', 'religious_painting'), {},
     'An Early Renaissance religious painting by Fra Angelico, with linear perspective '
     'typical of the movement.',
     'Première Renaissance, œuvre de Fra Angelico, représentant une scène religieuse avec '
     'une perspective linéaire caractéristique du mouvement.'),
    (('Action_painting', 'Jackson Pollock', 'abstract_painting'), dict(year=1950),
     'An abstract composition in the Action Painting style by Jackson Pollock (1950), with '
     'dripped and poured paint typical of the movement.',
     'Action painting, œuvre de Jackson Pollock (1950), une composition abstraite avec des '
     'coulures et des projections de peinture caractéristiques du mouvement.'),
    (('Abstract_Expressionism', 'Willem de Kooning', 'abstract_painting'), {},
     'An abstract composition in the Abstract Expressionist style by Willem de Kooning, '
     'with large gestural brushwork typical of the movement.',
     'Style expressionniste abstrait, œuvre de Willem de Kooning, une composition abstraite '
     'avec une touche gestuelle ample caractéristique du mouvement.'),
    (('High_Renaissance', 'Titian', 'portrait'), dict(artist_fr='le Titien'),
     'A High Renaissance portrait by Titian, with harmonious, balanced compositions typical '
     'of the movement.',
     'Haute Renaissance, œuvre du Titien, un portrait avec des compositions harmonieuses et '
     'équilibrées caractéristiques du mouvement.'),
    (('Baroque', 'the Le Nain brothers', 'genre_painting'),
     dict(artist_fr='les frères Le Nain'),
     'A Baroque genre scene by the Le Nain brothers, with dramatic contrasts of light and '
     'shadow typical of the movement.',
     'Style baroque, œuvre des frères Le Nain, représentant une scène de genre avec des '
     "contrastes dramatiques d'ombre et de lumière caractéristiques du mouvement."),
    (('Cubism', None, None), {},
     'A Cubist work, with fragmented geometric forms typical of the movement.',
     'Style cubiste, avec des formes géométriques fragmentées caractéristiques du '
     'mouvement.'),
    (('Ukiyo_e', None, 'sketch_and_study'), dict(year=1830, title='La Vague'),
     'An Ukiyo-e sketch from 1830, titled “La Vague”, with flat areas of colour typical of '
     'the movement.',
     'Style ukiyo-e, œuvre de 1830 intitulée «\u00a0La Vague\u00a0», une esquisse avec des '
     'aplats de couleur caractéristiques du mouvement.'),
    (('Fauvism', 'Henri Matisse', 'nude_painting'), {},
     'A Fauvist nude by Henri Matisse, with pure, vivid colour typical of the movement.',
     "Style fauve, œuvre d'Henri Matisse, représentant un nu avec des couleurs pures et vives "
     'caractéristiques du mouvement.'),
]


@pytest.mark.parametrize('args,kwargs,en,fr', GOLDEN)
def test_golden_sentences(args, kwargs, en, fr):
  assert describe(*args, **kwargs) == en
  assert describe(*args, **kwargs, lang='fr') == fr


def test_every_shape_of_one_work_by_hand():
  known = facts('Realism', 'Édouard Manet', 'still_life', 1864, 'Peonies')
  t = f'«{NB}Peonies{NB}»'
  assert [compose(known, 'en', shape=s, trait=1) for s in range(3)] == [
      'A Realist still life by Édouard Manet (1864), titled “Peonies”, with sober, natural '
      'colour typical of the movement.',
      'A still life in the Realist style by Édouard Manet (1864), titled “Peonies”, marked by '
      'sober, natural colour.',
      'This still life by Édouard Manet (1864), titled “Peonies”, shows sober, natural colour, '
      'typical of Realism.']
  assert [compose(known, 'fr', shape=s, trait=1) for s in range(3)] == [
      f"Style réaliste, œuvre d'Édouard Manet (1864) intitulée {t}, représentant une nature "
      'morte avec des couleurs sobres et naturelles caractéristiques du mouvement.',
      f"Une nature morte d'Édouard Manet (1864), intitulée {t}, de style réaliste, marquée "
      'par des couleurs sobres et naturelles.',
      f"Cette nature morte d'Édouard Manet (1864), intitulée {t}, de style réaliste, présente "
      'des couleurs sobres et naturelles.']


def test_the_period_phrase_in_sentences():
  def say(lang, spread, **kw):
    known = facts('Impressionism', 'Claude Monet', 'landscape',
                  period=Period(1882.0, spread), **kw)
    return compose(known, lang, hedging=HEDGING)
  assert say('fr', 10).startswith(
      'Style impressionniste, œuvre de Claude Monet (vers 1870-1895), représentant')
  assert say('en', 25).startswith('An Impressionist landscape by Claude Monet (late nineteenth '
                                  'century), with')
  assert say('fr', 25).startswith('Style impressionniste, œuvre de Claude Monet (fin du XIXe '
                                  'siècle), représentant')
  assert say('en', 50).startswith('An Impressionist landscape by Claude Monet (nineteenth century),')
  assert '19' not in say('en', 90) and 'XIX' not in say('fr', 90)  # too vague to say
  # An exact year the caller supplies wins over the estimate.
  assert say('en', 10, year=1880).startswith('An Impressionist landscape by Claude Monet (1880)')
  no_artist = compose(facts('Impressionism', genre='landscape', period=Period(1882.0, 10)),
                      'fr', hedging=HEDGING, shape=1)
  assert no_artist.startswith('Un paysage réalisé vers 1870-1895, de style impressionniste')


_AWKWARD = ('Abstract Expressionist abstract', 'Action Painting abstract', 'Action Painting work',
            'is an ', 'Style première', 'Style haute', 'Style Renaissance', 'Style action',
            'Style Color', 'Style peinture', '  ', ' ,', ',,', '..', 'abstract composition, '
            'probably Abstract', 'probably Impressionist, probably', 'probably a landscape, '
            'probably', 'robablement de style impressionniste, probablement')


@pytest.mark.parametrize('style', STYLES)
def test_no_awkward_phrase_in_any_sentence(style):
  for genre, (sp, ap, gp) in itertools.product(
      [None, *GENRES], [(None, None, None), (0.5, 0.4, 0.3), (0.1, 0.9, 0.9)]):
    known = facts(style, 'Claude Monet', genre, 1900, 'Title', style_prob=sp, artist_prob=ap,
                  genre_prob=gp, second_style='Baroque' if style != 'Baroque' else 'Rococo')
    for lang, sentences in composer.all_phrasings(known, HEDGING).items():
      for text in sentences:
        assert not any(a in text for a in _AWKWARD), text
        assert text[0].isupper() and text.endswith('.') and '(1900)' in text


def test_sample_draws_every_shape_and_trait():
  known = facts('Baroque', 'Rembrandt', 'portrait')
  rng = np.random.default_rng(0)
  drawn = {composer.sample(known, 'fr', rng) for _ in range(200)}
  assert drawn == set(composer.all_phrasings(known)['fr'])


@pytest.mark.parametrize('kwargs,message', [
    (dict(style='Surrealism'), "unknown style 'Surrealism'"),
    (dict(genre='seascape'), "unknown genre 'seascape'"),
    (dict(lang='de'), "unknown language 'de'"),
    (dict(year=1919.5), 'year must be a whole number'),
    (dict(style_prob=1.5), 'style_prob must be a probability'),
    (dict(subjects=[('unicorn', 0.9)]), r"unknown content tags or colours \['unicorn'\]"),
    (dict(colours=[('mauve', 0.5)]), r"unknown content tags or colours \['mauve'\]"),
])
def test_bad_input_is_a_clear_value_error(kwargs, message):
  args = dict(style='Impressionism', artist_name='Claude Monet', genre='landscape')
  args.update(kwargs)
  with pytest.raises(ValueError, match=message):
    describe(args.pop('style'), args.pop('artist_name'), args.pop('genre'), **args)


def test_numpy_year_and_probabilities_are_accepted():
  text = describe('Rococo', 'Thomas Gainsborough', 'portrait', year=np.int32(1750),
                  hedging=HEDGING, style_prob=np.float32(1.0000001))
  assert text.startswith('A Rococo portrait by Thomas Gainsborough (1750)')
