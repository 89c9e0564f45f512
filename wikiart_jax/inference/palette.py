"""The palette and the light of a picture, measured from its pixels (nothing learned).

`analyse(rgb)` downscales the image (at most `MAX_SIDE` px a side, box filter),
converts it to CIELAB (scikit-image), clusters the pixels with k-means
(scikit-learn, k <= `MAX_COLOURS`) and names each cluster by the nearest colour
anchor of text/colours.py (CIEDE2000); clusters with the same name are merged
and those under `MIN_SHARE` of the pixels dropped. A picture whose pixels are
nearly all without chroma (an engraving, a drawing, a black-and-white photo) is
black and white: it gets no colours. The light is the mean lightness L*/100, the
contrast the standard deviation of L*/100 (RMS contrast) and the saturation the
mean HSV saturation, each in [0, 1].

It works on any decoded image (`data.images.load_rgb` turns grey, CMYK, 16-bit,
RGBA and palette files into RGB), of any shape down to one pixel.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image
from skimage import color as skcolor
from sklearn.cluster import KMeans
import threadpoolctl

from wikiart_jax.text import colours as colours_lib

MAX_SIDE = 48  # pixels clustered: at most 48 x 48 = 2,304
MAX_COLOURS = 5
MIN_SHARE = 0.05  # smaller clusters are specks, not the palette
# A picture is black and white when 95% of its pixels have a chroma C* under this:
# JPEG noise in a grey scan stays under ~4, a sepia print reaches ~15.
GREY_CHROMA = 10.0
# k-means on a few thousand pixels runs in one thread: its OpenMP and BLAS pools,
# spinning beside the model's threads on a busy CPU, made one picture take seconds.
_THREADS = threadpoolctl.ThreadpoolController()
_ANCHORS = list(colours_lib.COLOURS.values())
_ANCHOR_LAB = skcolor.rgb2lab(np.array([[c.rgb for c in _ANCHORS]], np.float64) / 255.0)[0]


@dataclasses.dataclass(frozen=True)
class Swatch:
  """One dominant colour: its name, its mean colour and the share of pixels it covers."""
  colour: colours_lib.Colour
  hex: str
  share: float

  def to_json(self) -> dict:
    return {'colour': self.colour.key, 'en': self.colour.en, 'fr': self.colour.fr,
            'hex': self.hex, 'share': round(self.share, 4)}


@dataclasses.dataclass(frozen=True)
class Palette:
  """What the pixels say.

  Attributes:
    black_and_white: no colour to speak of (then `colours` is empty).
    colours: the dominant colours, largest share first.
    lightness, contrast, saturation: the light, each in [0, 1].
  """
  black_and_white: bool
  colours: tuple[Swatch, ...]
  lightness: float
  contrast: float
  saturation: float

  def palette_json(self) -> dict:
    """predict's 'palette' record."""
    return {'black_and_white': self.black_and_white,
            'colours': [s.to_json() for s in self.colours]}

  def light_json(self) -> dict:
    """predict's 'light' record."""
    return {'lightness': round(self.lightness, 4), 'contrast': round(self.contrast, 4),
            'saturation': round(self.saturation, 4)}


def _downscale(rgb: np.ndarray) -> np.ndarray:
  h, w = rgb.shape[:2]
  scale = min(1.0, MAX_SIDE / max(h, w))
  if scale == 1.0:
    return rgb
  size = (max(1, round(w * scale)), max(1, round(h * scale)))
  return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))


def _name(lab: np.ndarray) -> colours_lib.Colour:
  """The anchor nearest to one CIELAB colour (CIEDE2000)."""
  distance = skcolor.deltaE_ciede2000(np.broadcast_to(lab, _ANCHOR_LAB.shape), _ANCHOR_LAB)
  return _ANCHORS[int(np.argmin(distance))]


def _hex(lab: np.ndarray) -> str:
  rgb = np.clip(skcolor.lab2rgb(lab[None, None])[0, 0], 0, 1)
  return '#' + ''.join(f'{int(round(v * 255)):02x}' for v in rgb)


def _clusters(lab: np.ndarray) -> list[tuple[np.ndarray, float]]:
  """(mean CIELAB, share of pixels) of each k-means cluster of the pixels [N, 3]."""
  k = min(MAX_COLOURS, len(np.unique(np.round(lab, 1), axis=0)))
  if k == 1:
    return [(lab.mean(axis=0), 1.0)]
  with _THREADS.limit(limits=1):
    labels = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(lab)
  counts = np.bincount(labels, minlength=k)
  return [(lab[labels == i].mean(axis=0), counts[i] / len(lab)) for i in range(k) if counts[i]]


def analyse(rgb: np.ndarray) -> Palette:
  """The palette and light of an RGB uint8 image [H, W, 3].

  Raises:
    ValueError: not a uint8 [H, W, 3] image with at least one pixel.
  """
  rgb = np.asarray(rgb)
  if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[-1] != 3 or not rgb.size:
    raise ValueError(f'palette needs a uint8 [H, W, 3] image, got {rgb.dtype} {rgb.shape}')
  small = _downscale(rgb)
  lab = skcolor.rgb2lab(small.astype(np.float64) / 255.0).reshape(-1, 3)
  lightness = lab[:, 0] / 100.0
  saturation = skcolor.rgb2hsv(small)[..., 1]
  chroma = np.hypot(lab[:, 1], lab[:, 2])
  black_and_white = bool(np.percentile(chroma, 95) < GREY_CHROMA)
  swatches = []
  if not black_and_white:
    merged: dict[str, list] = {}
    for centre, share in _clusters(lab):
      colour = _name(centre)
      entry = merged.setdefault(colour.key, [colour, np.zeros(3), 0.0])
      entry[1] = entry[1] + centre * share
      entry[2] += share
    ranked = sorted(merged.values(), key=lambda e: -e[2])
    swatches = [Swatch(colour, _hex(total / share), float(share))
                for i, (colour, total, share) in enumerate(ranked)
                if share >= MIN_SHARE or i == 0]
  return Palette(black_and_white=black_and_white, colours=tuple(swatches),
                 lightness=float(lightness.mean()), contrast=float(lightness.std()),
                 saturation=float(saturation.mean()))
