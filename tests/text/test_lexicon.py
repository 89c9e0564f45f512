"""The description words: every class has its words in both languages, and the grammar joins them."""

import pytest

from wikiart_jax.core import GENRES, STYLES
from wikiart_jax.text import lexicon


@pytest.mark.parametrize('table, classes', [
    (lexicon.STYLE_EN, STYLES), (lexicon.STYLE_FR_NOUN, STYLES),
    (lexicon.GENRE_EN, GENRES), (lexicon.GENRE_FR, GENRES)])
def test_every_class_has_words_and_no_table_has_strays(table, classes):
  assert list(table) == list(classes)  # in the class order, nothing missing or extra
  assert all(words.strip() == words and words for words in table.values())


def test_french_style_adjectives_where_french_has_one():
  # The styles without an adjective are named by their movement (STYLE_FR_NOUN, complete
  # above): "Première Renaissance, œuvre de ...", never "de style première renaissance".
  adjectives = lexicon.STYLE_FR
  assert list(adjectives) == [s for s in STYLES if s in adjectives]  # class order, no strays
  assert all(words.strip() == words and words for words in adjectives.values())
  assert adjectives['Impressionism'] == 'impressionniste' and adjectives['Realism'] == 'réaliste'
  assert 'Early_Renaissance' not in adjectives and 'Action_painting' not in adjectives


def test_french_genres_carry_their_article_and_movements_theirs():
  assert all(g.startswith(('un ', 'une ')) for g in lexicon.GENRE_FR.values())
  assert all(m.startswith(('le ', 'la ', "l'")) for m in lexicon.STYLE_FR_NOUN.values())
  # Elided exactly before a vowel: "l'impressionnisme", "le baroque".
  for noun in lexicon.STYLE_FR_NOUN.values():
    word = noun.split("'", 1)[1] if noun.startswith("l'") else noun.split(' ', 1)[1]
    assert noun.startswith("l'") == (word[0].lower() in 'aeiouéè'), noun


@pytest.mark.parametrize('word, article', [
    ('Impressionist', 'an'), ('abstract painting', 'an'), ('Ukiyo-e', 'an'),
    ('Baroque', 'a'), ('portrait', 'a')])
def test_the_english_article_follows_the_first_letter(word, article):
  assert lexicon.indefinite_article(word) == article


def test_no_article_for_no_word():
  with pytest.raises(ValueError, match='needs a word'):
    lexicon.indefinite_article('')


@pytest.mark.parametrize('name, want', [
    ('Albrecht Dürer', "d'Albrecht Dürer"), ('Édouard Manet', "d'Édouard Manet"),
    ('Henri Matisse', "d'Henri Matisse"), ('Hokusai', "d'Hokusai"),
    ('Hans Holbein', 'de Hans Holbein'), ('Yves Klein', "d'Yves Klein"),
    ('Yayoi Kusama', 'de Yayoi Kusama'), ('Claude Monet', 'de Claude Monet')])
def test_french_de_elides_before_a_vowel_or_a_mute_h(name, want):
  assert lexicon.french_de(name) == want
