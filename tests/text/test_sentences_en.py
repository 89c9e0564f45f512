"""The English sentence shapes, each written by hand."""

from wikiart_jax.text import sentences_en
from wikiart_jax.text import wording
from wikiart_jax.text.composer import compose, facts


def test_articles_and_quotes():
  assert sentences_en.with_article('landscape') == 'a landscape'
  assert sentences_en.with_article('abstract composition') == 'an abstract composition'
  assert sentences_en.quoted('Peonies') == '“Peonies”'


def test_the_three_shapes_of_a_plan():
  w = wording.plan(facts('Realism', 'Édouard Manet', 'still_life', 1864, 'Peonies'))
  trait = 'sober, natural colour'
  assert [shape(w, trait) for shape in sentences_en.SHAPES] == [
      'A Realist still life by Édouard Manet (1864), titled “Peonies”, with sober, natural '
      'colour typical of the movement.',
      'A still life in the Realist style by Édouard Manet (1864), titled “Peonies”, marked by '
      'sober, natural colour.',
      'This still life by Édouard Manet (1864), titled “Peonies”, shows sober, natural colour, '
      'typical of Realism.']
  # The composer's shape i is this module's SHAPES[i].
  assert compose(facts('Realism', 'Édouard Manet', 'still_life', 1864, 'Peonies'), 'en',
                 shape=1, trait=1) == sentences_en.SHAPES[1](w, trait)
