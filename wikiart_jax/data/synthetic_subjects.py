"""What the synthetic pictures show: recognisable subjects, drawn in colour roles and recorded.

Each `draw_*` function paints one subject into a `synthetic_layouts.Canvas` (its
`roles`: 0 light ground, 1 main hue, 2 second hue, 3 dark accent, the artist's
palette; and from 4 on the subjects' own colours, `COLOURS`: a yellow sun, green
trees, a red roof ..., as painters colour them) and adds the subject's tag keys
(text/subjects.py) to `canvas.tags`, so the set of tags of a picture is exactly
what was drawn. Sizes are fractions of the side: subjects stay
inside the centre 80% (the eval crop) and are large enough to survive a 32-px crop
and the style textures. Coordinates are (u, v): u to the right, v down, in [0, 1].
"""

import numpy as np

# Subjects stay in this band of u and v, so crops of 80% of the side keep them.
LO, HI = 0.14, 0.86

# The subjects' own colours (sRGB in [0, 1]); colour role 4 + i is COLOURS[i].
COLOURS = (
    ('yellow', (1.0, 0.84, 0.2)), ('moonlight', (0.96, 0.95, 0.82)),
    ('brown', (0.42, 0.24, 0.1)), ('white', (0.97, 0.97, 0.95)), ('leaf', (0.16, 0.55, 0.2)),
    ('red', (0.8, 0.1, 0.08)), ('petal', (0.95, 0.4, 0.85)), ('fruit', (1.0, 0.55, 0.05)),
    ('blue', (0.2, 0.35, 0.9)), ('black', (0.05, 0.05, 0.06)), ('pane', (0.7, 0.86, 0.96)),
)
SUN, MOON, BROWN, WHITE, LEAF, ROOF, PETAL, FRUIT, GLAZE, BLACK, PANE = range(4, 4 + len(COLOURS))


def draw_sun(c, sky_bottom):
  top = LO + 0.14
  cx, cy = c.r.uniform(0.3, 0.7), c.r.uniform(top, max(top, sky_bottom - 0.1))
  for a in np.linspace(0, np.pi, 4, endpoint=False):  # rays: four strokes across the disc
    d = 0.17 * np.array([np.cos(a), np.sin(a)])
    c.roles[c.segment((np.array([cx, cy]) - d) * c.s, (np.array([cx, cy]) + d) * c.s,
                      0.02 * c.s)] = SUN
  c.ellipse(cx, cy, 0.1, 0.1, SUN)
  c.tags.add('sun')


def draw_night_and_moon(c, sky):
  """A dark sky (role 3 where `sky`) with a light crescent moon."""
  c.roles[sky] = 3
  cx, cy = c.r.uniform(0.25, 0.75), c.r.uniform(LO + 0.06, 0.3)
  disc = (c.u - cx) ** 2 + (c.v - cy) ** 2 < 0.08 ** 2
  bite = (c.u - cx - 0.045) ** 2 + (c.v - cy + 0.02) ** 2 < 0.07 ** 2
  c.roles[disc & ~bite] = MOON
  c.tags.update(('night', 'moon'))


def draw_sea(c, horizon):
  """Water below the horizon (role 2) with dark wave crests."""
  water = c.v >= horizon
  c.roles[water] = 2
  phase = c.r.uniform(0, 2 * np.pi)
  crest = np.sin(2 * np.pi * (c.v / 0.12 + 0.3 * np.sin(2 * np.pi * c.u * 2 + phase)))
  c.roles[water & (crest > 0.6) & (c.v > horizon + 0.04)] = 3
  c.tags.add('sea')


def draw_boat(c, horizon):
  cx = c.r.uniform(0.3, 0.7)
  deck = horizon + c.r.uniform(0.1, 0.16)
  hull = (c.v > deck) & (c.v < deck + 0.08) & (np.abs(c.u - cx) < 0.17 - (c.v - deck))
  c.roles[hull] = BROWN
  c.triangle((cx, deck - 0.28), (cx, deck - 0.01), (cx + 0.15, deck - 0.01), WHITE)  # the sail
  c.roles[(np.abs(c.u - cx) < 0.012) & (c.v > deck - 0.27) & (c.v < deck)] = BROWN  # the mast
  c.tags.add('boat')


def draw_trees(c, ground, xs=None):
  xs = c.r.uniform(0.2, 0.8, c.r.integers(1, 4)) if xs is None else xs
  for cx in xs:
    c.rect(cx - 0.025, ground - 0.12, cx + 0.025, ground + 0.01, BROWN)  # trunk
    c.ellipse(cx, ground - 0.23, 0.1, 0.13, LEAF)
  c.tags.add('trees')


def draw_house(c, ground, cx=None):
  cx = c.r.uniform(0.3, 0.7) if cx is None else cx
  w, h = c.r.uniform(0.12, 0.15), c.r.uniform(0.16, 0.2)
  c.rect(cx - w, ground - h, cx + w, ground, 1)
  c.triangle((cx - w - 0.03, ground - h), (cx, ground - h - 0.12), (cx + w + 0.03, ground - h),
             ROOF)
  c.rect(cx - 0.025, ground - 0.08, cx + 0.025, ground, BROWN)  # the door
  c.tags.add('house')


def draw_flowers(c, ground, x_range=(0.22, 0.78), stem=0.12):
  for cx in c.r.uniform(*x_range, c.r.integers(3, 6)):
    top = ground - stem * c.r.uniform(0.7, 1.2)
    c.roles[(np.abs(c.u - cx) < 0.012) & (c.v > top) & (c.v < ground)] = LEAF
    for a in np.linspace(0, 2 * np.pi, 5, endpoint=False):  # five petals round a heart
      c.ellipse(cx + 0.036 * np.cos(a), top + 0.036 * np.sin(a), 0.028, 0.028, PETAL)
    c.ellipse(cx, top, 0.02, 0.02, SUN)
  c.tags.add('flowers')


def draw_fruit(c, table, x_range=(0.25, 0.75)):
  for cx in np.sort(c.r.uniform(*x_range, c.r.integers(2, 4))):
    rad = c.r.uniform(0.07, 0.09)
    c.ellipse(cx, table - rad, rad, rad, FRUIT)
  c.tags.add('fruit')


def draw_vase(c, table, cx):
  c.ellipse(cx, table - 0.12, 0.09, 0.12, GLAZE)  # the belly
  c.rect(cx - 0.035, table - 0.3, cx + 0.035, table - 0.18, GLAZE)  # the neck
  c.tags.add('vase')


def draw_window(c, cx, cy, w=0.11, h=0.14):
  c.rect(cx - w - 0.02, cy - h - 0.02, cx + w + 0.02, cy + h + 0.02, 3)  # the frame
  c.rect(cx - w, cy - h, cx + w, cy + h, PANE)  # the panes
  c.rect(cx - 0.012, cy - h, cx + 0.012, cy + h, 3)  # the cross bars
  c.rect(cx - w, cy - 0.012, cx + w, cy + 0.012, 3)
  c.tags.add('window')


def draw_figure(c, cx, foot, height=0.34, body=3, head=2):
  """A standing figure: a long body and a round head."""
  c.ellipse(cx, foot - 0.36 * height, 0.055 * height / 0.34, 0.36 * height, body)
  c.ellipse(cx, foot - 0.86 * height, 0.042 * height / 0.34, 0.13 * height, head)
  c.tags.add('figure')


def draw_horse(c, ground, cx):
  side = 1.0 if cx < 0.5 else -1.0  # facing the middle of the picture
  back = ground - 0.17
  c.ellipse(cx, back, 0.14, 0.065, BROWN)  # the body
  for dx in (-0.1, -0.05, 0.05, 0.1):  # four legs
    c.rect(cx + dx - 0.012, back, cx + dx + 0.012, ground, BROWN)
  head = np.array([cx + side * 0.17, back - 0.13])
  neck = np.array([cx + side * 0.1, back - 0.01])
  c.roles[c.segment(neck * c.s, head * c.s, 0.035 * c.s)] = BROWN
  c.ellipse(head[0] + side * 0.025, head[1] + 0.01, 0.045, 0.028, BROWN)
  c.tags.add('horse')


def draw_cross(c, cx, top):
  c.rect(cx - 0.025, top, cx + 0.025, top + 0.42, BROWN)
  c.rect(cx - 0.15, top + 0.09, cx + 0.15, top + 0.14, BROWN)
  c.tags.add('cross')


def draw_colour_fields(c):
  """Two or three large rectangles stacked on a light ground (Rothko's fields)."""
  c.roles[:] = 0
  n = c.r.integers(2, 4)
  edges = np.linspace(0.1, 0.9, n + 1)
  for i in range(n):
    c.rect(0.12, edges[i] + 0.025, 0.88, edges[i + 1] - 0.025, 1 + i % 2)
  c.tags.add('colour_fields')


def draw_geometric_shapes(c):
  """Circles, squares and triangles in flat primaries, rimmed in black (Kandinsky's)."""
  for _ in range(c.r.integers(3, 6)):
    cx, cy = c.r.uniform(0.26, 0.74, 2)
    size = c.r.uniform(0.09, 0.13)
    kind = c.r.integers(3)
    for rim, role in ((0.025, BLACK), (0.0, (SUN, ROOF, GLAZE)[c.r.integers(3)])):
      r = size + rim
      if kind == 0:
        c.ellipse(cx, cy, r, r, role)
      elif kind == 1:
        c.rect(cx - r, cy - r, cx + r, cy + r, role)
      else:
        c.triangle((cx - r, cy + r), (cx, cy - r - rim), (cx + r, cy + r), role)
  c.tags.add('geometric_shapes')


def draw_lines(c, count=(3, 6), width=0.03, roles=(3,)):
  """Long straight strokes across the picture."""
  for _ in range(c.r.integers(*count)):
    p, q = c.r.uniform(LO, HI, (2, 2)) * c.s
    length = np.hypot(*(q - p))
    if length < 0.4 * c.s:  # a line, not a dab
      q = np.clip(p + (q - p) * 0.4 * c.s / max(length, 1e-6), LO * c.s, HI * c.s)
    c.roles[c.segment(p, q, width * c.s)] = roles[c.r.integers(len(roles))]
  c.tags.add('lines')
