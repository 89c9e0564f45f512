"""The style trait phrases (text/data/movement_traits.json), as the composer writes them."""

import pytest

from wikiart_jax.core import STYLES
from wikiart_jax.text import composer
from wikiart_jax.text import traits
from wikiart_jax.text.composer import compose, facts


@pytest.mark.parametrize('style', STYLES)
def test_every_style_writes_its_three_traits_in_both_languages(style):
  known = facts(style, 'Ilya Repin', 'landscape')
  for lang in ('en', 'fr'):
    phrases = traits.traits(style, lang)
    assert len(phrases) == 3 and len(set(phrases)) == 3
    for i, phrase in enumerate(phrases):
      assert f' {phrase} ' in compose(known, lang, trait=i)
      assert f' {phrase}' in compose(known, lang, shape=1, trait=i)
      # Its last clause in French, "..., de style X, présente <trait>."
      assert f' {phrase}{"," if lang == "en" else "."}' in compose(known, lang, shape=2, trait=i)
    # References cover every shape with every trait.
    assert len(composer.all_phrasings(known)[lang]) == 9


def test_traits_by_hand():
  assert traits.traits('Impressionism', 'fr')[:2] == ('des reflets de lumière',
                                                       'des touches de couleur visibles')
  assert traits.traits('Cubism', 'fr')[:2] == ('des formes géométriques fragmentées',
                                               'des points de vue multiples')
  assert traits.traits('Cubism', 'en')[:2] == ('fragmented geometric forms',
                                               'multiple viewpoints at once')
  assert traits.french_plural('des reflets') and traits.french_plural('de petits points')
  assert not traits.french_plural('une perspective linéaire')
