"""The synthetic painter: a texture per style, the artist's palette kept under it, the subjects
drawn said, and the same generator the same picture."""

import colorsys

import numpy as np
import pytest

from wikiart_jax.core import GENRES, STYLES
from wikiart_jax.data.synthetic_paint import TEXTURES, paint_picture
from wikiart_jax.text import subjects


def test_every_style_has_a_texture_and_paints_every_genre():
  assert sorted(TEXTURES) == sorted(STYLES)
  rng = np.random.default_rng(0)
  for style in STYLES:
    for genre in GENRES:
      image, tags = paint_picture(style, genre, (20, 220), 32, rng)
      assert image.dtype == np.uint8 and image.shape == (32, 32, 3), (style, genre)
      assert image.std() > 1.0, (style, genre)  # never a flat field
      assert list(tags) == sorted(tags) and set(tags) <= set(subjects.TAG_KEYS)


def test_the_same_generator_paints_the_same_picture():
  one = paint_picture('Impressionism', 'landscape', (30, 200), 40, np.random.default_rng(3))
  two = paint_picture('Impressionism', 'landscape', (30, 200), 40, np.random.default_rng(3))
  np.testing.assert_array_equal(one[0], two[0])
  assert one[1] == two[1]


def _mean_hue(image):
  """The circular mean hue (degrees) of the saturated pixels."""
  hsv = np.array([colorsys.rgb_to_hsv(*p) for p in image.reshape(-1, 3) / 255.0])
  hues = hsv[hsv[:, 1] > 0.3, 0] * 2 * np.pi
  return np.degrees(np.angle(np.exp(1j * hues).mean())) % 360


@pytest.mark.parametrize('style', ['Impressionism', 'Cubism', 'Pointillism'])
def test_the_artists_hues_survive_the_texture(style):
  # An abstract layout has no subject colours of its own: its hues are the artist's.
  rng = np.random.default_rng(1)
  reds = [_mean_hue(paint_picture(style, 'abstract_painting', (0, 10), 48, rng)[0])
          for _ in range(3)]
  blues = [_mean_hue(paint_picture(style, 'abstract_painting', (220, 230), 48, rng)[0])
           for _ in range(3)]
  distance = lambda h, target: min(abs(h - target), 360 - abs(h - target))
  assert all(distance(h, 5) < 40 for h in reds), reds
  assert all(distance(h, 225) < 40 for h in blues), blues


def test_unknown_names_are_refused():
  with pytest.raises(ValueError, match="no synthetic style 'Surrealism'"):
    paint_picture('Surrealism', 'portrait', (0, 0), 32, np.random.default_rng(0))
  with pytest.raises(ValueError, match="no synthetic genre 'seascape'"):
    paint_picture('Baroque', 'seascape', (0, 0), 32, np.random.default_rng(0))
