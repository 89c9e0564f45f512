"""The synthetic subjects are painted in their own colours, as painters colour them (a yellow
sun, green leaves, a brown trunk), and each colour role is one of COLOURS.
(That each stays inside the eval crop and is recorded: tests/data/test_synthetic.py.)"""

import numpy as np
import pytest

from wikiart_jax.data import synthetic_subjects as sub
from wikiart_jax.data.synthetic_layouts import Canvas


def _draw(draw, seed=0):
  c = Canvas(48, np.random.default_rng(seed), np.zeros((4 + len(sub.COLOURS), 3)))
  draw(c)
  return c


@pytest.mark.parametrize('tag, draw, colours', [
    ('sun', lambda c: sub.draw_sun(c, 0.55), {sub.SUN}),
    ('moon', lambda c: sub.draw_night_and_moon(c, np.zeros_like(c.roles, bool)), {sub.MOON}),
    ('boat', lambda c: sub.draw_boat(c, 0.55), {sub.BROWN, sub.WHITE}),
    ('trees', lambda c: sub.draw_trees(c, 0.8), {sub.BROWN, sub.LEAF}),
    ('flowers', lambda c: sub.draw_flowers(c, 0.8), {sub.LEAF, sub.PETAL, sub.SUN}),
    ('fruit', lambda c: sub.draw_fruit(c, 0.65), {sub.FRUIT}),
    ('vase', lambda c: sub.draw_vase(c, 0.65, 0.3), {sub.GLAZE}),
    ('horse', lambda c: sub.draw_horse(c, 0.8, 0.4), {sub.BROWN}),
    ('cross', lambda c: sub.draw_cross(c, 0.5, 0.2), {sub.BROWN}),
])
def test_each_subject_is_painted_in_its_colours(tag, draw, colours):
  for seed in range(3):
    c = _draw(draw, seed)
    assert c.tags >= {tag}
    assert set(np.unique(c.roles)) - {0} == colours, (tag, set(np.unique(c.roles)))


def test_the_colour_roles_follow_the_palette_and_are_named():
  assert (sub.SUN, sub.PANE) == (4, 4 + len(sub.COLOURS) - 1)
  names = [name for name, _ in sub.COLOURS]
  assert len(set(names)) == len(names)
  rgb = np.array([value for _, value in sub.COLOURS])
  assert rgb.shape == (len(names), 3) and rgb.min() >= 0 and rgb.max() <= 1
  # The named colours are what they say: the sun is yellow (red and green over blue) ...
  colour = dict(sub.COLOURS)
  assert min(colour['yellow'][:2]) > 2 * colour['yellow'][2]
  assert colour['leaf'][1] == max(colour['leaf']) and colour['red'][0] == max(colour['red'])
  assert colour['blue'][2] == max(colour['blue']) and max(colour['black']) < 0.1
  assert 0 < sub.LO < sub.HI < 1 and sub.LO + sub.HI == pytest.approx(1.0)  # a centred band
