"""The augmentations: torchvision's crop boxes, PIL's colour enhancements, the eval crop."""

import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from wikiart_jax.data import augment


def test_crop_box_respects_scale_and_ratio():
  rng = np.random.default_rng(0)
  fractions = []
  for _ in range(300):
    h = int(rng.integers(60, 400))
    w = int(h * rng.uniform(0.75, 1.33))
    left, top, right, bottom = augment.random_resized_crop_box(w, h, rng)
    assert 0 <= left < right <= w and 0 <= top < bottom <= h
    cw, ch = right - left, bottom - top
    # Rounding to whole pixels moves area and ratio by about a pixel's worth.
    assert 0.8 * w * h - (cw + ch) <= cw * ch <= w * h
    assert 3 / 4 - 2 / ch <= cw / ch <= 4 / 3 + 2 / ch
    fractions.append(cw * ch / (w * h))
  # The whole range is drawn (rejection of boxes that do not fit skews it low).
  assert min(fractions) < 0.82 and max(fractions) > 0.97


def test_crop_box_falls_back_to_a_clamped_centre_crop():
  # 400 x 40 fits no 3/4-4/3 box of 80% of the area: the centre crop of
  # ratio 4/3, round(40 * 4/3) = 53 px wide, starting at (400 - 53) // 2.
  box = augment.random_resized_crop_box(400, 40, np.random.default_rng(0))
  assert box == (173, 0, 226, 40)


class _FixedRng:
  """Stands in for np.random.Generator with chosen jitter factors and order."""

  def __init__(self, factors, order):
    self.factors, self.order = np.asarray(factors), np.asarray(order)

  def uniform(self, low, high, size):
    del low, high, size
    return self.factors

  def permutation(self, n):
    del n
    return self.order


@pytest.mark.parametrize('op,enhance', [(0, ImageEnhance.Brightness),
                                        (1, ImageEnhance.Contrast),
                                        (2, ImageEnhance.Color)])
def test_color_jitter_matches_pil_enhance(op, enhance):
  rgb = np.random.default_rng(op).integers(30, 220, (16, 20, 3), dtype=np.uint8)
  factors = [1.0, 1.0, 1.0]
  factors[op] = 1.1
  order = [op] + [o for o in range(3) if o != op]
  ours = augment.color_jitter(rgb.astype(np.float32), _FixedRng(factors, order))
  ref = np.asarray(enhance(Image.fromarray(rgb)).enhance(1.1), np.float32)
  # PIL rounds to uint8 (and its contrast mean to an integer): within 1.5 levels.
  np.testing.assert_allclose(ours, ref, atol=1.5)


def test_eval_transform_is_centre_square_resized_and_normalised():
  rgb = np.random.default_rng(0).integers(0, 256, (30, 50, 3), dtype=np.uint8)
  out = augment.eval_transform(rgb, 20)
  ref = np.asarray(Image.fromarray(rgb[:, 10:40]).resize((20, 20), Image.BILINEAR),
                   np.float32)
  ref = (ref / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
  assert out.shape == (20, 20, 3) and out.dtype == np.float32
  np.testing.assert_allclose(out, ref, atol=1e-4)


def test_train_transform_flips_about_thirty_percent():
  rgb = np.zeros((32, 32, 3), np.uint8)
  rgb[:, 16:] = 255  # dark left half, bright right half
  rng = np.random.default_rng(0)
  flips = 0
  for _ in range(600):
    out = augment.train_transform(rgb, 16, rng)
    flips += out[:, :8].mean() > out[:, 8:].mean()
  # Binomial(600, 0.3): mean 180, sd 11.2; +-4 sd.
  assert 135 <= flips <= 225


@pytest.mark.parametrize('mode', ['RGB', 'L', 'RGBA', 'P', 'CMYK'])
def test_decode_gives_rgb_of_any_stored_mode(mode):
  image = Image.new(mode, (6, 4))
  buf = io.BytesIO()
  image.save(buf, 'TIFF' if mode == 'CMYK' else 'PNG')
  decoded = augment.decode(buf.getvalue())
  assert decoded.mode == 'RGB' and decoded.size == (6, 4)


def test_pixels_must_be_a_uint8_rgb_array():
  with pytest.raises(ValueError, match=r'expected a uint8 \[H,W,3\] image, got float32 \(8, 8, 3\)'):
    augment.eval_transform(np.zeros((8, 8, 3), np.float32), 8)
  with pytest.raises(ValueError, match=r'got uint8 \(8, 8\)'):
    augment.eval_transform(np.zeros((8, 8), np.uint8), 8)
