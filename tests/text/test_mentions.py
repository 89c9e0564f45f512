"""Reading back the facts a description names, and judging them."""

import os
import subprocess
import sys

import pytest

import common
from wikiart_jax.core import GENRES, STYLES
from wikiart_jax.text import composer
from wikiart_jax.text import mentions
from wikiart_jax.text import traits
from wikiart_jax.text.mentions import Expected, MentionReader, judge

NAMES = ['Claude Monet', 'Titian', 'Henri Rousseau', 'Théodore Rousseau']
NAMES_FR = ['Claude Monet', 'le Titien', 'Henri Rousseau', 'Théodore Rousseau']
READER = MentionReader(NAMES, NAMES_FR)
HEDGING = composer.Hedging.from_config(common.get_config().describe)


@pytest.mark.parametrize('style', STYLES)
def test_every_composer_sentence_reads_back_its_facts(style):
  artists = ((None, None), ('Titian', 'le Titien'), ('Théodore Rousseau', None))
  for i, genre in enumerate((None, *GENRES)):
    for artist, artist_fr in (artists[i % 3],):
      known = composer.facts(style, artist, genre, 1919, 'Water Lilies', artist_fr=artist_fr)
      for lang, sentences in composer.all_phrasings(known).items():
        for text in sentences:
          named = READER.read(text, lang)
          assert named.styles == [style], text
          assert named.genres == ([genre] if genre else []), text
          assert named.artists == ([NAMES.index(artist)] if artist else []), text
          assert (named.years, named.titles, named.periods) == ([1919], ['Water Lilies'], [])
          # No style, genre, trait or name is read as a subject or a colour.
          assert named.tags == named.colours == [], text


def test_hedged_sentences_name_the_two_closest_styles():
  known = composer.facts('Impressionism', 'Claude Monet', 'landscape', style_prob=0.2,
                         second_style='Post_Impressionism')
  for lang, sentences in composer.all_phrasings(known, HEDGING).items():
    for text in sentences:
      named = READER.read(text, lang)
      assert sorted(named.styles) == ['Impressionism', 'Post_Impressionism'], text
      verdict = judge(named, Expected('Impressionism', 'Post_Impressionism', artist=0,
                                      genre='landscape'))
      assert verdict == mentions.Verdict(faithful=True, invented=False)


def test_no_trait_names_a_style_or_a_genre():
  for style in STYLES:
    for lang in ('en', 'fr'):
      for phrase in traits.traits(style, lang):
        named = READER.read(phrase, lang)
        assert named.styles == named.genres == named.artists == [], (style, phrase)


def test_longest_forms_win_and_words_are_whole():
  def styles(text, lang):
    return READER.read(text, lang).styles
  assert styles('An Analytical Cubist still life.', 'en') == ['Analytical_Cubism']
  assert styles('A Post-Impressionist landscape.', 'en') == ['Post_Impressionism']
  assert styles("Entre l'impressionnisme et le postimpressionnisme.", 'fr') == [
      'Impressionism', 'Post_Impressionism']
  assert styles('Entre cubisme synthétique et cubisme, entre haute Renaissance et '
                'première Renaissance.', 'fr') == [
      'Synthetic_Cubism', 'Cubism', 'High_Renaissance', 'Early_Renaissance']
  assert styles('A Baroqueish portrait.', 'en') == []
  assert READER.read('A portrait by Henri Rousseau.', 'en').artists == [2]
  assert READER.read('Une œuvre du Titien.', 'fr').artists == [1]
  assert mentions.named_style('Style cubiste synthétique, une esquisse.', 'fr') == (
      'Synthetic_Cubism')


def test_judging_by_hand():
  expected = Expected('Romanticism', 'Realism', artist=0, genre='landscape', year=None,
                      title=None)
  def verdict(text, lang='en', exp=expected):
    return judge(READER.read(text, lang), exp)
  assert verdict('A Romantic landscape by Claude Monet.') == mentions.Verdict(True, False)
  assert verdict('A Romantic work.') == mentions.Verdict(True, False)  # says less: fine
  # The learned descriptions the issue quotes: a wrong artist, an invented year and title.
  assert verdict('A Romantic landscape by Titian.') == mentions.Verdict(False, False)
  assert verdict('A Romantic landscape by Claude Monet (181), titled “Composition”.') == (
      mentions.Verdict(False, True))
  assert verdict('Un paysage romantique de Claude Monet intitulé « The Harvest ».', 'fr') == (
      mentions.Verdict(False, True))
  assert verdict("A Romantic landscape, titled 'Night'.") == mentions.Verdict(False, True)
  assert verdict('A Realist landscape.') == mentions.Verdict(False, False)  # the runner-up alone
  assert verdict('A Romantic portrait.') == mentions.Verdict(False, False)
  assert verdict('A landscape (late 19th century).') == mentions.Verdict(False, False)
  # A year and a title the metadata supplies are no invention.
  supplied = Expected('Romanticism', artist=0, genre='landscape', year=1830, title='Le Radeau')
  assert verdict('A Romantic landscape by Claude Monet (1830), titled “Le Radeau”.',
                 exp=supplied) == mentions.Verdict(True, False)
  assert verdict('A Romantic landscape (1831).', exp=supplied) == mentions.Verdict(False, True)


def test_the_reading_order_does_not_depend_on_the_hash_seed():
  code = ('from wikiart_jax.text import mentions as m; '
          'print([f for f, _ in m.STYLE_FORMS["fr"]], [f for f, _ in m.GENRE_FORMS["fr"]])')
  env = {k: v for k, v in os.environ.items() if k != 'PYTHONHASHSEED'}
  orders = {subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                           env={**env, 'PYTHONHASHSEED': str(seed)}, check=True,
                           cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                               os.path.abspath(__file__))))).stdout
            for seed in (1, 2, 3)}
  assert len(orders) == 1
