"""Tests of the template descriptions against sentences written by hand."""

import itertools

import pytest

from wikiart_jax.core import GENRES, STYLES
from wikiart_jax.text import templates
from wikiart_jax.text.templates import describe

NB = '\u00a0'

# Written by hand, not derived from the tables.
GOLDEN = [
    (('Impressionism', 'Claude Monet', 'landscape'), dict(year=1919, title='Water Lilies'),
     "An Impressionist landscape by Claude Monet (1919), titled 'Water Lilies'.",
     f'Style impressionniste, œuvre de Claude Monet (1919), un paysage{NB}:'
     f' «{NB}Water Lilies{NB}».'),
    (('Baroque', 'Rembrandt', 'portrait'), dict(year=1659),
     'A Baroque portrait by Rembrandt (1659).',
     'Style baroque, œuvre de Rembrandt (1659), un portrait.'),
    (('Northern_Renaissance', 'Albrecht Dürer', 'religious_painting'), {},
     'A Northern Renaissance religious painting by Albrecht Dürer.',
     "Style Renaissance nordique, œuvre d'Albrecht Dürer, une peinture religieuse."),
    (('Naive_Art_Primitivism', None, 'still_life'), dict(title='Flowers'),
     "A Naive Art still life, titled 'Flowers'.",
     f'Style naïf, une nature morte{NB}: «{NB}Flowers{NB}».'),
    (('Analytical_Cubism', 'Pablo Picasso', None), dict(year=1910),
     'An Analytical Cubist work by Pablo Picasso (1910).',
     'Style cubiste analytique, œuvre de Pablo Picasso (1910).'),
    (('Ukiyo_e', 'Utagawa Kuniyoshi', 'illustration'), {},
     'An Ukiyo-e illustration by Utagawa Kuniyoshi.',
     "Style ukiyo-e, œuvre d'Utagawa Kuniyoshi, une illustration."),
    (('Fauvism', 'Henri Matisse', 'nude_painting'), dict(year=1907),
     'A Fauvist nude by Henri Matisse (1907).',
     "Style fauve, œuvre d'Henri Matisse (1907), un nu."),
    (('Pop_Art', None, None), {}, 'A Pop Art work.', 'Style pop art.'),
    (('Post_Impressionism', None, 'cityscape'), dict(year=1888),
     'A Post-Impressionist cityscape from 1888.',
     'Style postimpressionniste (1888), une vue urbaine.'),
    (('Art_Nouveau_Modern', 'Ivan Bilibin', 'genre_painting'), {},
     'An Art Nouveau genre scene by Ivan Bilibin.',
     "Style Art nouveau, œuvre d'Ivan Bilibin, une scène de genre."),
]


@pytest.mark.parametrize('args,kwargs,en,fr', GOLDEN)
def test_golden_sentences(args, kwargs, en, fr):
  assert describe(*args, **kwargs) == en
  assert describe(*args, **kwargs, lang='fr') == fr


# Monet, Water Lilies, 1919, landscape: every combination of artist/year/title, by hand.
_COMBOS_EN = {
    (True, True, True): "An Impressionist landscape by Claude Monet (1919), titled 'Water Lilies'.",
    (True, True, False): 'An Impressionist landscape by Claude Monet (1919).',
    (True, False, True): "An Impressionist landscape by Claude Monet, titled 'Water Lilies'.",
    (True, False, False): 'An Impressionist landscape by Claude Monet.',
    (False, True, True): "An Impressionist landscape from 1919, titled 'Water Lilies'.",
    (False, True, False): 'An Impressionist landscape from 1919.',
    (False, False, True): "An Impressionist landscape, titled 'Water Lilies'.",
    (False, False, False): 'An Impressionist landscape.',
}
_T = f'{NB}: «{NB}Water Lilies{NB}»'
_COMBOS_FR = {
    (True, True, True): f'Style impressionniste, œuvre de Claude Monet (1919), un paysage{_T}.',
    (True, True, False): 'Style impressionniste, œuvre de Claude Monet (1919), un paysage.',
    (True, False, True): f'Style impressionniste, œuvre de Claude Monet, un paysage{_T}.',
    (True, False, False): 'Style impressionniste, œuvre de Claude Monet, un paysage.',
    (False, True, True): f'Style impressionniste (1919), un paysage{_T}.',
    (False, True, False): 'Style impressionniste (1919), un paysage.',
    (False, False, True): f'Style impressionniste, un paysage{_T}.',
    (False, False, False): 'Style impressionniste, un paysage.',
}


@pytest.mark.parametrize('with_artist,with_year,with_title',
                         list(itertools.product([True, False], repeat=3)))
def test_optional_parts(with_artist, with_year, with_title):
  args = ('Impressionism', 'Claude Monet' if with_artist else None, 'landscape')
  kwargs = dict(year=1919 if with_year else None, title='Water Lilies' if with_title else None)
  key = (with_artist, with_year, with_title)
  assert describe(*args, **kwargs) == _COMBOS_EN[key]
  assert describe(*args, **kwargs, lang='fr') == _COMBOS_FR[key]


def test_empty_strings_count_as_missing():
  assert describe('Realism', '', 'portrait', title='  ') == 'A Realist portrait.'


# Styles whose English adjective starts with a vowel sound, listed by hand.
_AN_STYLES = {'Abstract_Expressionism', 'Action_painting', 'Analytical_Cubism', 'Art_Nouveau',
              'Early_Renaissance', 'Expressionism', 'Impressionism', 'Ukiyo_e'}


@pytest.mark.parametrize('style', STYLES)
@pytest.mark.parametrize('full', [True, False])
def test_every_style_both_languages(style, full):
  kwargs = dict(year=1900, title='Study') if full else {}
  artist = 'Jean Dupont' if full else None
  en = describe(style, artist, 'portrait', **kwargs)
  fr = describe(style, artist, 'portrait', **kwargs, lang='fr')
  article = 'An' if style in _AN_STYLES else 'A'
  assert en == (f'{article} {templates.STYLE_EN[style]} portrait'
                + (" by Jean Dupont (1900), titled 'Study'." if full else '.'))
  assert fr == (f'Style {templates.STYLE_FR[style]}'
                + (', œuvre de Jean Dupont (1900)' if full else '') + ', un portrait'
                + (f'{NB}: «{NB}Study{NB}».' if full else '.'))


_FEMININE_GENRES = {'abstract_painting', 'cityscape', 'genre_painting', 'illustration',
                    'religious_painting', 'sketch_and_study', 'still_life'}


@pytest.mark.parametrize('genre', GENRES)
def test_every_genre_both_languages(genre):
  en = describe('Baroque', 'Rembrandt', genre)
  fr = describe('Baroque', 'Rembrandt', genre, lang='fr')
  assert en == f'A Baroque {templates.GENRE_EN[genre]} by Rembrandt.'
  article = 'une' if genre in _FEMININE_GENRES else 'un'
  assert templates.GENRE_FR[genre].split(' ', 1)[0] == article
  assert fr == f'Style baroque, œuvre de Rembrandt, {templates.GENRE_FR[genre]}.'


def test_tables_cover_every_class():
  for table in (templates.STYLE_EN, templates.STYLE_FR, templates.STYLE_FR_NOUN):
    assert tuple(table) == STYLES
  for table in (templates.GENRE_EN, templates.GENRE_FR):
    assert tuple(table) == GENRES
  assert templates.STYLE_FR_NOUN['Naive_Art_Primitivism'] == "l'art naïf"
  assert templates.STYLE_FR_NOUN['Impressionism'] == "l'impressionnisme"
  assert templates.STYLE_FR_NOUN['Baroque'] == 'le baroque'


@pytest.mark.parametrize('name,expected', [
    ('Albrecht Dürer', "d'Albrecht Dürer"), ('Édouard Manet', "d'Édouard Manet"),
    ('El Greco', "d'El Greco"), ('Henri Matisse', "d'Henri Matisse"),
    ('Hans Holbein the Younger', 'de Hans Holbein the Younger'),
    ('Yves Klein', "d'Yves Klein"), ('Yayoi Kusama', 'de Yayoi Kusama'),
    ('Katsushika Hokusai', 'de Katsushika Hokusai'), ('Oscar-Claude Monet', "d'Oscar-Claude Monet"),
])
def test_french_elision(name, expected):
  assert describe('Realism', name, None, lang='fr') == f'Style réaliste, œuvre {expected}.'


def test_french_typography_uses_non_breaking_spaces():
  fr = describe('Symbolism', 'Odilon Redon', 'still_life', title='Bouquet', lang='fr')
  assert ' »' not in fr and '« ' not in fr and ' :' not in fr
  assert fr.count(NB) == 3


@pytest.mark.parametrize('kwargs,message', [
    (dict(style='Surrealism'), "unknown style 'Surrealism'"),
    (dict(style='impressionism'), "unknown style 'impressionism'"),
    (dict(genre='seascape'), "unknown genre 'seascape'"),
    (dict(lang='de'), "unknown language 'de'"),
    (dict(year=1919.5), 'year must be a whole number'),
])
def test_bad_input_is_a_clear_value_error(kwargs, message):
  args = dict(style='Impressionism', artist_name='Claude Monet', genre='landscape')
  args.update(kwargs)
  with pytest.raises(ValueError, match=message):
    describe(args.pop('style'), args.pop('artist_name'), args.pop('genre'), **args)


def test_numpy_year_is_accepted():
  np = pytest.importorskip('numpy')
  assert describe('Rococo', 'Thomas Gainsborough', 'portrait', year=np.int32(1750)) == (
      'A Rococo portrait by Thomas Gainsborough (1750).')
