"""The synthetic compositions: a layout per genre, drawn in the palette's roles, the subjects
recorded; the canvas's shapes where they are asked."""

import numpy as np
import pytest

from wikiart_jax.core import GENRES
from wikiart_jax.data import synthetic_subjects
from wikiart_jax.data.synthetic_layouts import LAYOUTS, Canvas, boundary
from wikiart_jax.text import subjects


def _canvas(seed=0, size=40):
  return Canvas(size, np.random.default_rng(seed), np.zeros((4 + len(synthetic_subjects.COLOURS), 3)))


def test_every_genre_has_a_layout_that_fills_roles_and_records_subjects():
  assert sorted(LAYOUTS) == sorted(GENRES)
  for genre, layout in LAYOUTS.items():
    for seed in range(3):
      c = _canvas(seed)
      layout(c)
      roles = np.unique(c.roles)
      assert roles.min() >= 0 and roles.max() < 4 + len(synthetic_subjects.COLOURS), genre
      assert len(roles) >= 2, genre  # a composition, not a flat field
      assert c.tags <= set(subjects.TAG_KEYS), (genre, c.tags - set(subjects.TAG_KEYS))


def test_a_layout_is_a_function_of_the_generator():
  one, two = _canvas(5), _canvas(5)
  LAYOUTS['landscape'](one)
  LAYOUTS['landscape'](two)
  np.testing.assert_array_equal(one.roles, two.roles)
  assert one.tags == two.tags


def test_the_canvas_shapes_cover_what_they_say():
  c = _canvas(size=20)
  c.rect(0.0, 0.0, 0.5, 0.25, 1)  # the top-left quarter-width band: 10 x 5 pixels
  assert (c.roles == 1).sum() == 50 and c.roles[:5, :10].min() == 1
  c = _canvas(size=20)
  c.ellipse(0.5, 0.5, 0.25, 0.25, 2)  # a disc of radius 5 pixels: about 25 pi
  assert abs((c.roles == 2).sum() - 25 * np.pi) < 8 and c.roles[10, 10] == 2
  c = _canvas(size=20)
  c.triangle((0.0, 0.0), (1.0, 0.0), (0.0, 1.0), 3)  # half the canvas, either winding
  assert abs((c.roles == 3).sum() - 200) <= 20
  noise = _canvas().noise(4)
  # Values in [-1, 1] on the grid; the bicubic resize overshoots a little between them.
  assert noise.shape == (40, 40) and -1.5 <= noise.min() < noise.max() <= 1.5
  assert np.abs(np.diff(noise, axis=0)).max() < 0.5  # smooth: 4 cells over 40 pixels


def test_boundary_marks_the_pixels_beside_a_change_of_label():
  labels = np.zeros((6, 6), int)
  labels[:, 3:] = 1
  edge = boundary(labels, 1)
  assert edge[:, 2:4].all() and not edge[:, :2].any() and not edge[:, 4:].any()
  assert boundary(labels, 2)[:, 1:5].all()
  assert not boundary(np.zeros((4, 4), int), 2).any()


@pytest.mark.parametrize('genre, tag', [('portrait', 'figure'), ('cityscape', 'buildings'),
                                        ('still_life', 'table')])
def test_a_genre_always_draws_its_subject(genre, tag):
  for seed in range(4):
    c = _canvas(seed)
    LAYOUTS[genre](c)
    assert tag in c.tags
