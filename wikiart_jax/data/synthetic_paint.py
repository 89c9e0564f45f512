"""Procedural painting for the synthetic set: texture = style, layout = genre, palette = artist.

`paint_picture` draws one small picture from a style, a genre and an artist's two
hues, and says which subjects it drew. Each cue is independent of the others, so a tiny ViT can learn all three
from 32-px crops; textures scale brightness rather than replace colour wherever
they can, so the palette and the layout stay visible under every style. The
genre layouts and the canvas live in synthetic_layouts.py.
"""

import colorsys
import functools

import numpy as np

from wikiart_jax.data import synthetic_subjects
from wikiart_jax.data.synthetic_layouts import LAYOUTS, Canvas, boundary


# ----- style = brush texture: each maps (canvas, float image [S,S,3]) -> image --------
# Textures scale brightness rather than replace colour wherever they can, so the
# artist's palette and the genre's layout stay visible under every style.

def _lum(img, t):
  """Scales brightness by t per pixel; scaling keeps the palette's hues."""
  return img * np.maximum(t, 0)[..., None]


def _blur(img, sigma):
  """Separable Gaussian blur as two matrix products (edge-renormalised)."""
  i = np.arange(img.shape[0])
  k = np.exp(-0.5 * ((i[:, None] - i[None]) / sigma) ** 2)
  k /= k.sum(1, keepdims=True)
  return np.einsum('xj,yjc->yxc', k, np.einsum('yi,ixc->yxc', k, img))


def _dabs(c, img, length, width, angles, wobble, jitter, gap):
  """Staggered rows of rounded dabs, each the colour under its centre.

  The stroke direction is one of `angles` (degrees) per picture, +- `wobble`.
  """
  angle = np.radians(c.r.choice(angles) + c.r.uniform(-wobble, wobble))
  ca, sa = np.cos(angle), np.sin(angle)
  along, across = c.x * ca + c.y * sa, c.y * ca - c.x * sa
  row = np.floor(across / width)
  along = along + c.cell_random(row, lo=0, hi=length)
  col = np.floor(along / length)
  fu, fv = along / length - col, across / width - row
  uc = (col + 0.5) * length - (along - c.x * ca - c.y * sa)  # undo the stagger
  vc = (row + 0.5) * width
  yc = np.clip(uc * sa + vc * ca, 0, c.s - 1).astype(int)
  xc = np.clip(uc * ca - vc * sa, 0, c.s - 1).astype(int)
  shade = 1 + jitter * c.cell_random(col, row) - 0.3 * (2 * fv - 1) ** 2
  inside = (2 * fu - 1) ** 2 + 0.5 * (2 * fv - 1) ** 2 < 1
  return np.where(inside[..., None], _lum(img[yc, xc], shade), img * gap)


def _random_dabs(c, img, cell, jitter):
  """Fauvist dabs: one short thick stroke per square cell, at a random angle."""
  iy, ix = np.floor(c.y / cell), np.floor(c.x / cell)
  angle = c.cell_random(iy, ix, lo=0, hi=np.pi)
  dy, dx = c.y - (iy + 0.5) * cell, c.x - (ix + 0.5) * cell
  a, b = dx * np.cos(angle) + dy * np.sin(angle), dy * np.cos(angle) - dx * np.sin(angle)
  inside = (a / (0.6 * cell)) ** 2 + (b / (0.25 * cell)) ** 2 < 1
  centre = img[np.minimum((iy + 0.5) * cell, c.s - 1).astype(int),
               np.minimum((ix + 0.5) * cell, c.s - 1).astype(int)]
  return np.where(inside[..., None], _lum(centre, 1 + jitter * c.cell_random(ix, iy)), img * 0.7)


def _dots(c, spacing, radius, jitter):
  """Dots on a grid of the given spacing, each centre displaced by up to `jitter` px."""
  iy, ix = np.floor(c.y / spacing), np.floor(c.x / spacing)
  cy = (iy + 0.5) * spacing + jitter * c.cell_random(iy, ix)
  cx = (ix + 0.5) * spacing + jitter * c.cell_random(ix, iy)
  return np.hypot(c.y - cy, c.x - cx) < radius, (iy, ix)


def _blobs(c, img):
  other = c.pal[(c.roles + 2) % 4]
  img = np.where((c.noise(3) > 0.35)[..., None], other, img)
  return _lum(img, 1 + 0.4 * c.noise(5))


def _splatter(c, img):
  drips = np.zeros((c.s, c.s), bool)
  for _ in range(10):
    p, a = c.r.uniform(0, c.s, 2), c.r.uniform(0, 2 * np.pi)
    drips |= c.segment(p, p + 0.6 * c.s * np.array([np.cos(a), np.sin(a)]), 0.9)
  img = np.where(drips[..., None], c.pal[3] * 0.7, img)
  spots, _ = _dots(c, 7, 1.4, 3)
  return np.where((spots & (c.noise(6) > 0))[..., None], c.pal[0], img)


def _shards(c, img):
  cell, seeds = c.voronoi(45)
  g = c.r.uniform(-0.06, 0.06, (45, 3))
  t = 1 + 5 * g[cell, 0] + g[cell, 1] * (c.y - seeds[cell, 0]) + g[cell, 2] * (c.x - seeds[cell, 1])
  return _lum(img, np.where(boundary(cell, 1), 0.7 * t, t))


def _waves(c, img):
  t = np.sin(2 * np.pi * (c.y / 7 + 0.5 * np.sin(2 * np.pi * c.x / 24 + c.r.uniform(0, 7))))
  return _lum(img, np.where(t > 0.55, 0.5, 1.05))


def _chiaroscuro(c, img):
  d = np.hypot(c.u - c.r.uniform(0.35, 0.65), c.v - c.r.uniform(0.35, 0.6))
  return _lum(img, 1.2 - 1.1 * np.clip(d / 0.6, 0, 1) ** 1.5)


def _sfumato(c, img):
  del c  # no randomness: only soft edges
  return _blur(img, 1.8)


def _soft_bands(c, img):
  return _lum(_blur(img, 2.5), 1 + 0.3 * np.sin(2 * np.pi * c.y / 14 + c.r.uniform(0, 7)))


def _grain(c, img):
  g = c.r.normal(0, 1, (c.s // 2 + 1,) * 2).repeat(2, 0).repeat(2, 1)[:c.s, :c.s]
  return _lum(img, 1 + 0.15 * g)


def _facets(c, img):
  cell, _ = c.voronoi(10)
  t = 1 + 0.3 * c.r.uniform(-1, 1, 10)[cell]
  return _lum(img, np.where(boundary(cell, 1), 0.3, t))


def _lines(c, img, period, angles, duty, shade):
  """Families of parallel lines (one per angle, degrees) darkened to `shade`."""
  on = np.zeros((c.s, c.s), bool)
  for a in np.radians(angles):
    phase = 2 * np.pi * (c.x * np.cos(a) + c.y * np.sin(a)) / period + c.r.uniform(0, 7)
    on |= np.sin(phase) > duty
  return _lum(img, np.where(on, shade, 1.05))


def _outline(c, img, width, shade):
  return _lum(img, np.where(boundary(c.roles, width), shade, 1.0))


def _ukiyo(c, img):
  img = _outline(c, img, 1, 0.25)
  return _lum(img, np.where(c.v < 0.25, 0.5 + 2 * c.v, 1.0))  # bokashi: graded dark sky


def _pointillism(c, img):
  spots, (iy, ix) = _dots(c, 4, 1.6, 0.8)
  pick = c.pal[((c.cell_random(iy, ix, lo=0, hi=3.99) + c.roles) % 4).astype(int)]
  own = c.cell_random(ix, iy) > -0.6  # most dots take the colour beneath, some another hue
  dot = np.where(own[..., None], _lum(img, 1 + 0.3 * c.cell_random(iy + 7, ix)), pick)
  return np.where(spots[..., None], dot, 0.8 * img + 0.2)


def _halftone(c, img):
  spots, _ = _dots(c, 7, 2.1, 0)  # Ben-Day dots of full colour on white
  return np.where(spots[..., None], img, 0.55 * img + 0.45)


def _rings_at(c, centres, period):
  d = np.min([np.hypot(c.y - cy, c.x - cx) for cy, cx in centres], axis=0)
  return np.sin(2 * np.pi * d / period)


def _swirls(c, img):
  t = _rings_at(c, c.r.uniform(0, c.s, (4, 2)), 4.5)
  return _lum(img, np.where(t > 0.2, 1.15, 0.72))


def _halo(c, img):
  t = _rings_at(c, [c.s * c.r.uniform(0.4, 0.6, 2)], 8)
  return _lum(img, 1 + 0.28 * t)


def _knife(c, img):
  cell = 6
  iy = np.floor(c.y / cell)
  ix = np.floor(c.x / cell + 0.5 * (iy % 2))  # brick-like rows of palette-knife blocks
  yc = np.minimum((iy + 0.5) * cell, c.s - 1).astype(int)
  xc = np.clip((ix + 0.5 - 0.5 * (iy % 2)) * cell, 0, c.s - 1).astype(int)
  return _lum(img[yc, xc], 1 + 0.28 * c.cell_random(iy, ix))


def _pastel(c, img):
  return _lum(0.6 * img + 0.4, 1 + 0.08 * c.noise(8))


def _storm(c, img):
  a = c.r.uniform(0, 2 * np.pi)
  ramp = 0.5 + (np.cos(a) * (c.u - 0.5) + np.sin(a) * (c.v - 0.5))
  return _lum(img, 1.3 - 0.9 * np.clip(ramp, 0, 1) + 0.18 * c.noise(5))


def _collage(c, img):
  out = img.copy()
  edges = np.zeros((c.s, c.s), bool)
  for k in range(5):
    h, w = c.r.uniform(0.25, 0.45, 2) * c.s
    y0, x0 = c.r.uniform(-0.1, 0.8, 2) * c.s
    inside = (c.y > y0) & (c.y < y0 + h) & (c.x > x0) & (c.x < x0 + w)
    fill = _lum(img, np.full(img.shape[:2], c.r.choice([0.6, 1.35])))
    if k == 0:  # pasted newsprint: one striped piece
      fill = _lum(img, np.where(np.sin(2 * np.pi * c.x / 4) > 0, 0.55, 1.1))
    out = np.where(inside[..., None], fill, out)
    edges |= boundary(inside, 1) & inside
  return _lum(out, np.where(edges, 0.3, 1.0))


TEXTURES = {
    'Abstract_Expressionism': _blobs,  # gestural patches of another palette colour
    'Action_painting': _splatter,  # drips and spatters
    'Analytical_Cubism': _shards,  # many small shaded facets
    'Art_Nouveau': _waves,  # whiplash lines
    'Baroque': _chiaroscuro,  # a lit centre in darkness
    'Color_Field_Painting': _soft_bands,  # blurred, soft horizontal bands
    'Contemporary_Realism': _grain,  # photographic grain
    'Cubism': _facets,  # a few large planes with dark edges
    'Early_Renaissance': functools.partial(  # tempera hatching
        _lines, period=5, angles=(0,), duty=0.4, shade=0.7),
    'Expressionism': functools.partial(  # slashing diagonal strokes
        _dabs, length=18, width=5, angles=(45, 135), wobble=0, jitter=0.35, gap=0.6),
    'Fauvism': functools.partial(_random_dabs, cell=8, jitter=0.35),  # dabs every way
    'High_Renaissance': _sfumato,  # soft edges
    'Impressionism': functools.partial(  # short horizontal dabs
        _dabs, length=8, width=3, angles=(0,), wobble=9, jitter=0.25, gap=0.85),
    'Mannerism_Late_Renaissance': functools.partial(  # elongated
        _dabs, length=12, width=4, angles=(90,), wobble=6, jitter=0.3, gap=0.7),
    'Minimalism': functools.partial(  # pencil grid
        _lines, period=11, angles=(0, 90), duty=0.84, shade=0.6),
    'Naive_Art_Primitivism': functools.partial(_outline, width=2, shade=0.3),  # thick contours
    'New_Realism': functools.partial(  # clapboard lines
        _lines, period=7, angles=(90,), duty=0.4, shade=0.6),
    'Northern_Renaissance': functools.partial(  # engraving
        _lines, period=4.5, angles=(45, 135), duty=0.6, shade=0.62),
    'Pointillism': _pointillism,  # dense dots, some of another hue
    'Pop_Art': _halftone,  # Ben-Day dots
    'Post_Impressionism': _swirls,  # swirling rings
    'Realism': _knife,  # palette-knife blocks
    'Rococo': _pastel,  # pale, feathery
    'Romanticism': _storm,  # stormy light across the picture
    'Symbolism': _halo,  # a halo of soft rings
    'Synthetic_Cubism': _collage,  # pasted paper rectangles
    'Ukiyo_e': _ukiyo,  # thin outlines, graded sky
}


# ----- artist = palette, and the assembled picture --------------------------------------

def _palette(hues, rng):
  """Four colours [4, 3] in 0-1 from an artist's two hues, lightly varied per picture."""
  h1, h2 = (np.asarray(hues) + rng.uniform(-6, 6, 2)) / 360.0
  hsv = ((h1, 0.3, 0.93), (h1, 0.75, 0.72), (h2, 0.7, 0.82), (h2, 0.65, 0.32))
  return np.array([colorsys.hsv_to_rgb(h % 1.0, s, np.clip(v + rng.uniform(-0.04, 0.04), 0, 1))
                   for h, s, v in hsv], np.float32)


def paint_picture(style: str, genre: str, hues, size: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, tuple[str, ...]]:
  """Paints one picture: (uint8 [size, size, 3], the subjects drawn, sorted).

  Args:
    style: a STYLES name (picks the texture).
    genre: a GENRES name (picks the composition and its subjects).
    hues: the artist's two palette hues, in degrees.
    size: side in pixels.
    rng: np.random.Generator for everything random in the picture.
  """
  for kind, name, table in (('style', style, TEXTURES), ('genre', genre, LAYOUTS)):
    if name not in table:
      raise ValueError(f'no synthetic {kind} {name!r}')
  # The artist's four colours, then the subjects' own (roles 4 and up).
  colours = np.array([rgb for _, rgb in synthetic_subjects.COLOURS], np.float32)
  c = Canvas(size, rng, np.concatenate([_palette(hues, rng), colours]))
  LAYOUTS[genre](c)
  img = TEXTURES[style](c, c.pal[c.roles])
  return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8), tuple(sorted(c.tags))
