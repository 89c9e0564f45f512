"""The content records: the top tags named in both languages, the period estimate, palette and light."""

import numpy as np
import pytest

from wikiart_jax.core import NUM_PERIOD_BINS
from wikiart_jax.inference import content
from wikiart_jax.text import subjects


def test_top_tags_are_the_most_probable_first_with_their_phrases():
  keys = ['boat', 'church', 'not_a_subject', 'sea']
  got = content.top_tags(np.array([0.2, 0.9, 0.5, 0.2]), keys, k=3)
  assert [t['tag'] for t in got] == ['church', 'not_a_subject', 'boat']  # ties: the first
  assert got[0] == {'tag': 'church', 'en': subjects.SUBJECTS['church'].en,
                    'fr': subjects.SUBJECTS['church'].fr, 'prob': 0.9}
  # A key the lexicon does not know is shown as itself in both languages.
  assert got[1]['en'] == got[1]['fr'] == 'not_a_subject'
  assert content.top_tags(np.array([0.1]), ['boat'], k=5) == [
      {'tag': 'boat', 'en': subjects.SUBJECTS['boat'].en, 'fr': subjects.SUBJECTS['boat'].fr,
       'prob': 0.1}]


def test_the_period_estimate_is_the_expected_year_and_the_top_bins():
  probs = np.zeros(NUM_PERIOD_BINS)
  probs[18], probs[19], probs[0] = 0.5, 0.3, 0.2  # 1850-1874, 1875-1899, 1400-1424
  got = content.period_estimate(probs)
  # Bins count for their middles: 0.5 * 1862.5 + 0.3 * 1887.5 + 0.2 * 1412.5 = 1780.
  assert got['year'] == 1780
  assert got['top'] == [
      {'label': '1850\u20131874', 'start': 1850, 'end': 1874, 'prob': 0.5},
      {'label': '1875\u20131899', 'start': 1875, 'end': 1899, 'prob': 0.3},
      {'label': '1400\u20131424', 'start': 1400, 'end': 1424, 'prob': 0.2}]
  assert len(content.period_estimate(probs, k=1)['top']) == 1


def test_palette_and_light_of_a_red_field():
  rgb = np.zeros((32, 48, 3), np.uint8)
  rgb[..., 0] = 200
  palette, light = content.palette_and_light(rgb)
  assert palette['black_and_white'] is False
  assert palette['colours'][0]['en'] == 'red' and palette['colours'][0]['share'] == pytest.approx(1.0)
  assert set(light) == {'lightness', 'contrast', 'saturation'}
  assert light['contrast'] == pytest.approx(0.0, abs=1e-3) and light['saturation'] > 0.5
