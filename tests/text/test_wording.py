"""The wording plan: hedged facts at low calibrated confidence, written by hand."""

import common
from wikiart_jax.text import composer
from wikiart_jax.text.composer import compose, describe, facts

HEDGING = composer.Hedging.from_config(common.get_config().describe)


def test_hedged_wording_at_low_confidence():
  monet = dict(style='Impressionism', artist_name='Claude Monet', genre='landscape',
               second_style='Post_Impressionism')

  def say(lang, shape=0, **probs):
    return compose(facts(**monet, **probs), lang, hedging=HEDGING, shape=shape)

  assert say('en', style_prob=0.5) == (
      'A landscape, probably Impressionist, by Claude Monet, with reflections of light '
      'typical of the movement.')
  assert say('fr', style_prob=0.5) == (
      'Probablement de style impressionniste, œuvre de Claude Monet, représentant un paysage '
      'avec des reflets de lumière caractéristiques du mouvement.')
  # Below style_probable: the two closest styles, and no trait of either.
  assert say('en', style_prob=0.2) == (
      'A landscape by Claude Monet, between Impressionism and Post-Impressionism.')
  assert say('fr', style_prob=0.2) == (
      "Entre impressionnisme et postimpressionnisme, œuvre de Claude Monet, représentant "
      'un paysage.')
  assert say('fr', 2, style_prob=0.2) == (
      "Ce paysage de Claude Monet se situe entre impressionnisme et postimpressionnisme.")
  assert say('en', artist_prob=0.4).startswith(
      'An Impressionist landscape attributed to Claude Monet, with')
  assert say('fr', artist_prob=0.4).startswith(
      'Style impressionniste, œuvre attribuée à Claude Monet, représentant un paysage')
  # Below artist_attributed: no artist at all.
  assert 'Monet' not in say('en', artist_prob=0.1) + say('fr', artist_prob=0.1)
  assert say('en', genre_prob=0.3) == (
      'An Impressionist work, probably a landscape, by Claude Monet, with reflections of '
      'light typical of the movement.')
  assert say('fr', genre_prob=0.3) == (
      'Style impressionniste, œuvre de Claude Monet, représentant probablement un paysage '
      'avec des reflets de lumière caractéristiques du mouvement.')
  assert 'paysage' not in say('fr', genre_prob=0.1)
  # At or above the limits, and for labels (no probabilities), facts are stated.
  assert say('en', style_prob=0.9, artist_prob=0.9, genre_prob=0.9) == describe(
      'Impressionism', 'Claude Monet', 'landscape')
