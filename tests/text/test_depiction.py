"""The subject and palette clauses of the composer, against sentences written by hand."""

import pytest

import common
from wikiart_jax.text import composer
from wikiart_jax.text import mentions
from wikiart_jax.text.composer import compose, facts

HEDGING = composer.Hedging.from_config(common.get_config().describe)
SURE = dict(style_prob=0.9, artist_prob=0.9, genre_prob=0.9)


def _say(lang, shape=0, style='Impressionism', artist='Claude Monet', genre='landscape', **kw):
  return compose(facts(style, artist, genre, **SURE, **kw), lang, hedging=HEDGING, shape=shape)


def test_the_plans_sentence_from_predictions():
  # The plan's model sentence: a sure landscape with the sea is a "paysage maritime".
  assert _say('fr', subjects=[('sea', 0.9), ('trees', 0.1)]) == (
      'Style impressionniste, œuvre de Claude Monet, représentant un paysage maritime avec des '
      'reflets de lumière caractéristiques du mouvement.')
  assert _say('en', subjects=[('sea', 0.9)]) == (
      'An Impressionist seascape by Claude Monet, with reflections of light typical of the '
      'movement.')


def test_the_plans_example_with_boats_and_a_blue_and_white_palette():
  kw = dict(subjects=[('boat', 0.8), ('sea', 0.95)],
            colours=[('blue', 0.55), ('white', 0.3), ('ochre', 0.15)])
  assert _say('fr', **kw) == (
      'Style impressionniste, œuvre de Claude Monet, représentant un paysage maritime avec un '
      'bateau, avec des reflets de lumière caractéristiques du mouvement, dans des tons bleus '
      'et blancs.')
  assert _say('en', **kw) == (
      'An Impressionist seascape by Claude Monet, showing a boat, in tones of blue and white, '
      'with reflections of light typical of the movement.')
  assert _say('fr', shape=1, **kw) == (
      'Un paysage maritime de Claude Monet, de style impressionniste, avec un bateau, dans des '
      'tons bleus et blancs, marqué par des reflets de lumière.')
  assert _say('en', shape=2, **kw) == (
      'This seascape by Claude Monet, with a boat, in tones of blue and white, shows reflections '
      'of light, typical of Impressionism.')


@pytest.mark.parametrize('tags,en,fr', [
    # Each tag with its natural article; French gender and number from the lexicon.
    ([('house', 0.9), ('flowers', 0.9)], 'showing flowers and a house',
     'avec des fleurs et une maison'),
    ([('snow', 0.9), ('church', 0.9)], 'showing snow and a church',
     "avec de la neige et une église"),
    ([('sun', 0.9), ('cattle', 0.9)], 'showing the sun and cattle', 'avec le soleil et du bétail'),
    # Under tag_sure: "perhaps"; under tag_probable: not named; at most max_subjects.
    ([('boat', 0.9), ('trees', 0.4)], 'showing a boat and perhaps trees',
     'avec un bateau et peut-être des arbres'),
    ([('trees', 0.4), ('boat', 0.2)], 'showing perhaps trees', 'avec peut-être des arbres'),
    ([('boat', 0.9), ('trees', 0.8), ('house', 0.7)], 'showing trees and a boat',
     'avec des arbres et un bateau'),
])
def test_subjects_agree(tags, en, fr):
  kw = dict(genre='portrait', subjects=tags)
  assert en in _say('en', **kw) and fr in _say('fr', shape=1, **kw), (_say('en', **kw),
                                                                      _say('fr', shape=1, **kw))


@pytest.mark.parametrize('colours,en,fr', [
    ([('green', 0.5), ('red', 0.3)], 'in tones of green and red', 'dans des tons verts et rouges'),
    ([('navy', 0.5), ('ochre', 0.3)], 'in tones of navy blue and ochre',
     'dans des tons bleu marine et ocre'),  # a compound, a noun: invariable
    ([('violet', 0.6), ('white', 0.1)], 'in tones of violet', 'dans des tons violets'),
])
def test_colours_agree_and_only_large_shares_are_named(colours, en, fr):
  assert en in _say('en', colours=colours) and fr in _say('fr', colours=colours)


def test_a_grey_scale_picture_is_black_and_white_and_never_coloured():
  kw = dict(black_and_white=True, colours=[('blue', 0.9)])
  assert _say('fr', **kw).endswith(', en noir et blanc.')
  assert 'in black and white' in _say('en', **kw)
  for lang in ('en', 'fr'):
    for shape in range(3):
      named = mentions.MentionReader(['Claude Monet']).read(_say(lang, shape, **kw), lang)
      assert named.colours == [mentions.BLACK_AND_WHITE]


def test_no_colour_and_no_subject_leaves_the_sentence_as_before():
  assert _say('fr', colours=[('blue', 0.1)], subjects=[('boat', 0.1)]) == _say('fr')


def test_every_sentence_reads_back_its_tags_colours_and_period():
  reader = mentions.MentionReader(['Claude Monet'])
  kw = dict(subjects=[('boat', 0.8), ('sea', 0.95)], colours=[('blue', 0.55), ('white', 0.3)],
            period=composer.Period(1880.0, 20.0))
  expected = mentions.Expected('Impressionism', artist=0, genre='landscape',
                               tags=frozenset({'boat', 'sea'}), period=(1880.0, 20.0),
                               palette=(False, frozenset({'blue', 'white', 'ochre'})))
  for lang, sentences in composer.all_phrasings(facts('Impressionism', 'Claude Monet',
                                                      'landscape', **SURE, **kw),
                                                HEDGING).items():
    for text in sentences:
      named = reader.read(text, lang)
      assert sorted(named.tags) == ['boat', 'sea'] and named.colours == ['blue', 'white'], text
      assert mentions.judge(named, expected) == mentions.Verdict(True, False), text
      # The same sentence for a picture without blue, or a model that saw no boat: unfaithful.
      assert not mentions.judge(named, mentions.Expected(
          'Impressionism', artist=0, genre='landscape', tags=frozenset({'sea'}),
          period=(1880.0, 20.0), palette=expected.palette)).faithful
      assert not mentions.judge(named, mentions.Expected(
          'Impressionism', artist=0, genre='landscape', tags=expected.tags,
          period=(1700.0, 20.0), palette=expected.palette)).faithful
      assert not mentions.judge(named, mentions.Expected(
          'Impressionism', artist=0, genre='landscape', tags=expected.tags,
          period=expected.period, palette=(True, frozenset()))).faithful


def test_every_tag_reads_back_as_itself_beside_every_genre_and_style():
  from wikiart_jax.core import GENRES, STYLES  # pylint: disable=g-import-not-at-top
  from wikiart_jax.text import subjects  # pylint: disable=g-import-not-at-top
  reader = mentions.MentionReader(['Claude Monet'])
  cases = [('Impressionism', g, k) for g in GENRES for k in subjects.TAG_KEYS]
  cases += [(s, 'portrait', k) for s in STYLES for k in ('nude', 'dots', 'lines', 'curves')]
  for style, genre, key in cases:
    known = facts(style, 'Claude Monet', genre, subjects=[(key, None)])
    for lang in ('en', 'fr'):
      for shape in range(3):  # every shape, its first trait (the traits are masked alike)
        text = compose(known, lang, shape=shape)
        named = reader.read(text, lang)
        # "un nu" is the genre; the nude tag is "une figure nue" in a sentence.
        assert (named.tags, named.genres, named.styles, named.colours) == (
            [key], [genre], [style], []), text
