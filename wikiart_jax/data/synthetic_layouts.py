"""Compositions of the synthetic pictures (the genre cue) and the canvas they draw on.

Each layout fills `Canvas.roles` with colour roles 0..3 (light ground, main hue,
second hue, dark accent); synthetic_paint.py then colours the roles with the
artist's palette and applies the style's texture on the same canvas.
"""

import numpy as np
from PIL import Image


class Canvas:
  """Per-image drawing context: pixel coordinates, rng, palette and colour roles."""

  def __init__(self, size, rng, palette):
    self.s = size
    self.r = rng
    self.pal = palette  # [4, 3]: light ground, main, second hue, dark accent
    self.y, self.x = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    self.v, self.u = self.y / size, self.x / size  # in [0, 1]
    self.roles = np.zeros((size, size), np.int64)

  def ellipse(self, cx, cy, rx, ry, role):
    self.roles[((self.u - cx) / rx) ** 2 + ((self.v - cy) / ry) ** 2 < 1] = role

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


# ----- genre = composition: each fills c.roles with colour roles 0..3 -----------------

def _landscape(c):
  h = c.r.uniform(0.45, 0.62)
  wave = np.sin(2 * np.pi * (c.u * c.r.uniform(0.7, 1.6) + c.r.uniform()))
  hills = h - c.r.uniform(0.08, 0.18) * (1 + wave)
  c.roles[:] = np.where(c.v < hills, 0, np.where(c.v < h, 2, 1))


def _portrait(c):
  cx = 0.5 + c.r.uniform(-0.06, 0.06)
  c.ellipse(cx, 1.02, c.r.uniform(0.34, 0.42), 0.36, 3)
  c.ellipse(cx, c.r.uniform(0.36, 0.42), c.r.uniform(0.14, 0.17), c.r.uniform(0.2, 0.24), 1)


def _cityscape(c):
  widths = c.r.uniform(0.12, 0.22, 8)
  bounds = np.cumsum(widths) - c.r.uniform(0, 0.1)
  col = np.searchsorted(bounds, c.u)
  tops = c.r.uniform(0.2, 0.6, 9)
  c.roles[:] = np.where(c.v > tops[col], 1 + col % 2, 0)
  windows = (np.sin(2 * np.pi * c.x / 6) > 0.3) & (np.sin(2 * np.pi * c.y / 7) > 0.3)
  c.roles[windows & (c.v > tops[col] + 0.06)] = 3


def _still_life(c):
  table = c.r.uniform(0.58, 0.68)
  c.roles[:] = np.where(c.v > table, 3, 0)
  xs = np.sort(c.r.uniform(0.2, 0.8, 3)) + np.array([-0.08, 0.0, 0.08])
  for i, cx in enumerate(xs):
    rad = c.r.uniform(0.09, 0.13)
    c.ellipse(cx, table - 0.7 * rad, rad, rad * (1.8 if i == 1 else 1.0), 1 + i % 2)


def _genre_painting(c):
  floor = c.r.uniform(0.62, 0.72)
  c.roles[:] = np.where(c.v > floor, 1, 0)
  n = c.r.integers(3, 6)
  for cx in (np.arange(n) + 0.5 + c.r.uniform(-0.2, 0.2, n)) / n:
    c.ellipse(cx, floor - 0.08, 0.05, 0.14, 3)
    c.ellipse(cx, floor - 0.27, 0.04, 0.04, 2)


def _religious(c):
  w, top = c.r.uniform(0.3, 0.36), c.r.uniform(0.06, 0.12)
  arch = (c.u - 0.5) ** 2 + (c.v - top - w) ** 2 < w * w
  inside = (np.abs(c.u - 0.5) < w) & (c.v > top + w) | arch
  c.roles[:] = np.where(inside, 0, 3)
  c.ellipse(0.5, top + 0.3, 0.11, 0.11, 2)
  c.ellipse(0.5, 0.72, 0.15, 0.32, 1)
  c.ellipse(0.5, top + 0.3, 0.055, 0.065, 1)


def _nude(c):
  cy = c.r.uniform(0.52, 0.6)
  c.roles[c.v > cy + 0.1] = 2
  side = c.r.choice([-1, 1])
  c.ellipse(0.5, cy, c.r.uniform(0.3, 0.36), 0.1, 1)
  c.ellipse(0.5 + side * 0.36, cy - 0.1, 0.07, 0.07, 1)


def _illustration(c):
  m = c.r.uniform(0.1, 0.16)
  inner = (np.abs(c.u - 0.5) < 0.5 - m) & (np.abs(c.v - 0.5) < 0.5 - m)
  frame = (np.abs(c.u - 0.5) < 0.56 - m) & (np.abs(c.v - 0.5) < 0.56 - m)
  c.roles[:] = np.where(inner, 2, np.where(frame, 3, 0))
  c.ellipse(c.r.uniform(0.4, 0.6), c.r.uniform(0.4, 0.6), 0.15, 0.15, 1)


def _sketch(c):
  for _ in range(c.r.integers(3, 5)):  # a few thin strokes on bare paper
    p, q = c.r.uniform(0.15, 0.85, (2, 2)) * c.s
    c.roles[c.segment(p, q, 0.03 * c.s)] = 3


def _abstract(c):
  slope = c.r.choice([-1.0, 1.0]) * c.r.uniform(0.6, 1.4)
  band = np.floor((c.u + slope * c.v) / c.r.uniform(0.22, 0.3) + c.r.uniform()).astype(np.int64)
  c.roles[:] = 1 + band % 3


LAYOUTS = {
    'abstract_painting': _abstract, 'cityscape': _cityscape, 'genre_painting': _genre_painting,
    'illustration': _illustration, 'landscape': _landscape, 'nude_painting': _nude,
    'portrait': _portrait, 'religious_painting': _religious, 'sketch_and_study': _sketch,
    'still_life': _still_life,
}
