"""Compositions of the synthetic pictures (the genre cue) and the canvas they draw on.

Each layout fills `Canvas.roles` with colour roles 0..3 (light ground, main hue,
second hue, dark accent: the artist's palette) and draws subjects (synthetic_subjects.py), some always
(a portrait has a figure), most by chance (a landscape may have a sea and a boat,
or trees and a house, a sun or a night sky), so that a subject is not the genre;
`Canvas.tags` records exactly the subjects drawn. synthetic_paint.py then colours
the roles with the artist's palette and applies the style's texture on the same
canvas.
"""

import numpy as np
from PIL import Image

from wikiart_jax.data import synthetic_subjects as subjects


class Canvas:
  """Per-image drawing context: pixel coordinates, rng, palette and colour roles."""

  def __init__(self, size, rng, palette):
    self.s = size
    self.r = rng
    self.pal = palette  # [4 + subject colours, 3]: light ground, main, second hue, dark accent, ...
    self.y, self.x = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    self.v, self.u = self.y / size, self.x / size  # in [0, 1]
    self.roles = np.zeros((size, size), np.int64)
    self.tags = set()  # the subjects drawn (text/subjects.py keys)

  def ellipse(self, cx, cy, rx, ry, role):
    self.roles[((self.u - cx) / rx) ** 2 + ((self.v - cy) / ry) ** 2 < 1] = role

  def rect(self, u0, v0, u1, v1, role):
    self.roles[(self.u >= u0) & (self.u < u1) & (self.v >= v0) & (self.v < v1)] = role

  def triangle(self, a, b, c, role):
    """Fills the triangle of corners (u, v): inside where all three edge tests agree."""
    def side(p, q):
      return (q[0] - p[0]) * (self.v - p[1]) - (q[1] - p[1]) * (self.u - p[0])
    s1, s2, s3 = side(a, b), side(b, c), side(c, a)
    self.roles[((s1 >= 0) & (s2 >= 0) & (s3 >= 0)) | ((s1 <= 0) & (s2 <= 0) & (s3 <= 0))] = role

  def noise(self, cells):
    """Smooth value noise in [-1, 1] with `cells` random values per side."""
    grid = self.r.uniform(-1, 1, (cells + 1, cells + 1)).astype(np.float32)
    return np.asarray(Image.fromarray(grid, 'F').resize((self.s, self.s), Image.BICUBIC))

  def voronoi(self, n):
    """Index of the nearest of `n` random seeds per pixel, and the seeds [n, (y, x)]."""
    seeds = self.r.uniform(0, self.s, (n, 2))
    dy, dx = self.y[None] - seeds[:, 0, None, None], self.x[None] - seeds[:, 1, None, None]
    return (dy ** 2 + dx ** 2).argmin(0), seeds

  def segment(self, p, q, width):
    """Mask of the pixels within `width` of the segment p-q ((x, y) in pixels)."""
    d = q - p
    t = np.clip(((self.x - p[0]) * d[0] + (self.y - p[1]) * d[1]) / (d @ d), 0, 1)
    return np.hypot(self.x - p[0] - t * d[0], self.y - p[1] - t * d[1]) < width

  def cell_random(self, *idx, lo=-1.0, hi=1.0):
    """A reproducible random value per integer cell index tuple (vectorised hash)."""
    h = np.full(idx[0].shape, self.r.integers(1 << 30), np.int64)
    for i, k in enumerate(idx):
      k = k.astype(np.int64) & 0xFFFF  # non-negative and small: no int64 overflow below
      h = ((h ^ (k * (73856093, 19349663, 83492791)[i])) % (1 << 31)) * 2654435761 % (1 << 31)
    return lo + (hi - lo) * (h % 10007) / 10006.0


def boundary(labels, width):
  """Pixels within `width` of a change of label: outlines around regions."""
  edge = np.zeros(labels.shape, bool)
  for d in range(1, width + 1):
    for axis in (0, 1):
      a, b = np.swapaxes(labels, 0, axis), np.swapaxes(edge, 0, axis)
      diff = a[:-d] != a[d:]
      b[:-d] |= diff
      b[d:] |= diff
  return edge


# ----- genre = composition: each fills c.roles with colour roles 0..3 and draws subjects --

def _sky(c, sky_bottom, night, *, sun_p=0.45):
  """A night (every role-0 pixel, the sky, turns dark) with a moon; or by day a sun
  by chance, above `sky_bottom`."""
  if night:
    subjects.draw_night_and_moon(c, c.roles == 0)
  elif c.r.random() < sun_p:
    subjects.draw_sun(c, sky_bottom)


def _landscape(c):
  h = c.r.uniform(0.54, 0.62)
  night = c.r.random() < 0.25
  if c.r.random() < 0.45:  # a seascape: the horizon over water
    subjects.draw_sea(c, h)
    _sky(c, h - 0.1, night)
    if c.r.random() < 0.7:
      subjects.draw_boat(c, h)
    return
  wave = np.sin(2 * np.pi * (c.u * c.r.uniform(0.7, 1.6) + c.r.uniform()))
  hills = h - c.r.uniform(0.03, 0.07) * (1 + wave)
  c.roles[c.v >= hills] = 2
  c.roles[c.v >= h] = 1
  c.tags.add('hills')
  _sky(c, hills.min() - 0.1, night)
  left = c.r.random() < 0.5  # the house on one side, the trees on the other
  if c.r.random() < 0.35:
    subjects.draw_house(c, h, cx=0.3 if left else 0.7)
  if c.r.random() < 0.45:
    subjects.draw_trees(c, h, xs=c.r.uniform(0.55, 0.8, c.r.integers(1, 3)) if left
                        else c.r.uniform(0.2, 0.45, c.r.integers(1, 3)))
  if c.r.random() < 0.3:
    subjects.draw_flowers(c, 0.84)


def _portrait(c):
  cx = 0.5 + c.r.uniform(-0.05, 0.05)
  if c.r.random() < 0.35:  # a window behind the sitter, on one side
    subjects.draw_window(c, cx=c.r.choice([0.22, 0.78]), cy=0.32, w=0.08, h=0.12)
  c.ellipse(cx, 1.02, c.r.uniform(0.34, 0.42), 0.36, 3)  # the shoulders
  c.ellipse(cx, c.r.uniform(0.36, 0.42), c.r.uniform(0.14, 0.17), c.r.uniform(0.2, 0.24), 1)
  c.tags.add('figure')


def _cityscape(c):
  widths = c.r.uniform(0.12, 0.22, 8)
  bounds = np.cumsum(widths) - c.r.uniform(0, 0.1)
  col = np.searchsorted(bounds, c.u)
  tops = c.r.uniform(0.35, 0.6, 9)
  c.roles[:] = np.where(c.v > tops[col], 1 + col % 2, 0)
  windows = (np.sin(2 * np.pi * c.x / 6) > 0.3) & (np.sin(2 * np.pi * c.y / 7) > 0.3)
  c.roles[windows & (c.v > tops[col] + 0.06)] = 3
  c.tags.update(('buildings', 'window'))
  _sky(c, tops.min(), c.r.random() < 0.3, sun_p=0.4)


def _still_life(c):
  table = c.r.uniform(0.6, 0.68)
  c.roles[:] = np.where(c.v > table, 3, 0)
  c.tags.add('table')
  side = c.r.choice([0.28, 0.72])  # the vase's side; fruit and window go to the other
  items = c.r.random(3) < (0.5, 0.6, 0.5)  # vase, fruit, flowers
  if not items.any():
    items[c.r.integers(3)] = True
  if c.r.random() < 0.3:
    subjects.draw_window(c, cx=1 - side, cy=0.3, w=0.1, h=0.12)
  if items[0]:
    subjects.draw_vase(c, table, side)
  if items[1]:
    subjects.draw_fruit(c, table, x_range=(0.5, 0.78) if side < 0.5 else (0.22, 0.5))
  if items[2]:
    if items[0]:  # a bunch in the vase
      subjects.draw_flowers(c, table - 0.29, x_range=(side - 0.06, side + 0.06), stem=0.1)
    else:
      subjects.draw_flowers(c, table, x_range=(side - 0.1, side + 0.1))


def _genre_painting(c):
  floor = c.r.uniform(0.66, 0.74)
  c.roles[:] = np.where(c.v > floor, 1, 0)
  # People, and on one side by chance a companion: a house, trees or a horse.
  companion = c.r.choice(['', 'house', 'trees', 'horse'], p=(0.25, 0.2, 0.2, 0.35))
  right = c.r.random() < 0.5
  if companion:
    n, span = c.r.integers(2, 5), ((0.48, 0.86) if right else (0.14, 0.52))
    other = 0.28 if right else 0.72
    if companion == 'house':
      subjects.draw_house(c, floor + 0.02, cx=other)
    elif companion == 'trees':
      subjects.draw_trees(c, floor + 0.02, xs=other + c.r.uniform(-0.06, 0.06, c.r.integers(1, 3)))
    else:
      subjects.draw_horse(c, floor + 0.06, cx=other)
  else:
    n, span = c.r.integers(3, 6), (0.14, 0.86)
  for cx in span[0] + (span[1] - span[0]) * (np.arange(n) + 0.5 + c.r.uniform(-0.2, 0.2, n)) / n:
    subjects.draw_figure(c, cx, floor + 0.04, height=0.36)
  if n >= 3:
    c.tags.add('group_of_people')


def _religious(c):
  w, top = c.r.uniform(0.3, 0.36), c.r.uniform(0.06, 0.12)
  arch = (c.u - 0.5) ** 2 + (c.v - top - w) ** 2 < w * w
  inside = (np.abs(c.u - 0.5) < w) & (c.v > top + w) | arch
  c.roles[:] = np.where(inside, 0, 3)
  if c.r.random() < 0.4:  # a crucifix in the niche
    subjects.draw_cross(c, 0.5, top + 0.2)
    return
  c.ellipse(0.5, top + 0.3, 0.11, 0.11, 2)  # the halo
  c.ellipse(0.5, 0.72, 0.15, 0.32, 1)
  c.ellipse(0.5, top + 0.3, 0.055, 0.065, 1)
  c.tags.update(('figure', 'saint'))


def _nude(c):
  cy = c.r.uniform(0.56, 0.62)
  if c.r.random() < 0.35:
    subjects.draw_window(c, cx=c.r.uniform(0.3, 0.7), cy=0.27, w=0.1, h=0.11)
  c.roles[c.v > cy + 0.1] = 2
  side = c.r.choice([-1, 1])
  c.ellipse(0.5, cy, c.r.uniform(0.3, 0.34), 0.1, 1)
  c.ellipse(0.5 + side * 0.33, cy - 0.1, 0.07, 0.07, 1)
  c.tags.update(('nude', 'figure'))


def _illustration(c):
  m = c.r.uniform(0.1, 0.14)
  inner = (np.abs(c.u - 0.5) < 0.5 - m) & (np.abs(c.v - 0.5) < 0.5 - m)
  frame = (np.abs(c.u - 0.5) < 0.56 - m) & (np.abs(c.v - 0.5) < 0.56 - m)
  c.roles[:] = np.where(inner, 2, np.where(frame, 3, 0))
  # A vignette in the frame: one or two small subjects.
  for kind in c.r.permutation(4)[:c.r.integers(1, 3)]:
    if kind == 0:
      subjects.draw_sun(c, 0.55)
    elif kind == 1:
      subjects.draw_flowers(c, 0.8)
    elif kind == 2:
      subjects.draw_trees(c, 0.8, xs=c.r.uniform(0.25, 0.75, 1))
    else:
      subjects.draw_house(c, 0.8)


def _sketch(c):
  for _ in range(c.r.integers(3, 5)):  # a few thin strokes on bare paper
    p, q = c.r.uniform(0.15, 0.85, (2, 2)) * c.s
    c.roles[c.segment(p, q, 0.03 * c.s)] = 3
  c.tags.add('lines')


def _abstract(c):
  if c.r.random() < 0.35:
    subjects.draw_colour_fields(c)
    shapes, lines = c.r.random(2) < 0.3
  else:  # diagonal bands of the palette, with shapes or lines (or both) on them
    slope = c.r.choice([-1.0, 1.0]) * c.r.uniform(0.6, 1.4)
    band = np.floor((c.u + slope * c.v) / c.r.uniform(0.22, 0.3) + c.r.uniform())
    c.roles[:] = 1 + band.astype(np.int64) % 3
    shapes = c.r.random() < 0.6
    lines = not shapes or c.r.random() < 0.3
  if shapes:
    subjects.draw_geometric_shapes(c)
  if lines:
    subjects.draw_lines(c, width=0.035, roles=(0, 3))


LAYOUTS = {
    'abstract_painting': _abstract, 'cityscape': _cityscape, 'genre_painting': _genre_painting,
    'illustration': _illustration, 'landscape': _landscape, 'nude_painting': _nude,
    'portrait': _portrait, 'religious_painting': _religious, 'sketch_and_study': _sketch,
    'still_life': _still_life,
}
