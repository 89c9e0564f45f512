"""Tests for wikiart_jax.data.images: every PIL mode, broken files, big scans decoded
reduced with bounded memory, resize, JPEG."""

import io
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
from PIL import Image
import pytest

from conftest import BIG_SIDE
from conftest import ROOT
from wikiart_jax.data import images

ORANGE = (230, 120, 30)


def _save(tmp_path, name, image, **kwargs):
  path = tmp_path / name
  image.save(path, **kwargs)
  return str(path)


def _assert_rgb(rgb, shape):
  assert rgb.dtype == np.uint8
  assert rgb.shape == shape


@pytest.mark.parametrize('name,kwargs,tolerance', [
    ('rgb.png', {}, 0),
    ('rgb.jpg', {'quality': 95}, 4),
    ('progressive.jpg', {'quality': 95, 'progressive': True}, 4),
    ('rgb.webp', {'lossless': True}, 0),
    ('rgb.bmp', {}, 0),
    ('rgb.tif', {}, 0),
])
def test_rgb_formats_keep_the_colour(tmp_path, name, kwargs, tolerance):
  path = _save(tmp_path, name, Image.new('RGB', (24, 16), ORANGE), **kwargs)
  rgb = images.load_rgb(path)
  _assert_rgb(rgb, (16, 24, 3))
  np.testing.assert_allclose(rgb.reshape(-1, 3).mean(0), ORANGE, atol=tolerance)


def test_progressive_jpeg_is_really_progressive(tmp_path):
  path = _save(tmp_path, 'p.jpg', Image.new('RGB', (8, 8), ORANGE),
               progressive=True)
  with Image.open(path) as image:
    assert image.info.get('progressive')
  _assert_rgb(images.load_rgb(path), (8, 8, 3))


def test_grey_modes_repeat_the_channel(tmp_path):
  path = _save(tmp_path, 'l.png', Image.new('L', (5, 3), 77))
  rgb = images.load_rgb(path)
  _assert_rgb(rgb, (3, 5, 3))
  assert (rgb == 77).all()
  path = _save(tmp_path, 'one.png', Image.new('1', (4, 4), 1))
  assert (images.load_rgb(path) == 255).all()


def test_alpha_is_composited_on_white(tmp_path):
  image = Image.new('RGBA', (2, 1))
  image.putpixel((0, 0), (*ORANGE, 255))  # opaque: unchanged
  image.putpixel((1, 0), (0, 0, 0, 0))  # transparent black: white
  rgb = images.load_rgb(_save(tmp_path, 'rgba.png', image))
  np.testing.assert_array_equal(rgb[0], [ORANGE, (255, 255, 255)])
  half = Image.new('RGBA', (1, 1), (0, 0, 0, 128))
  value = images.load_rgb(_save(tmp_path, 'half.png', half))[0, 0, 0]
  # alpha 128/255 of black over white: 255 * (1 - 128/255) = 127.
  assert abs(int(value) - 127) <= 1
  la = Image.new('LA', (1, 1), (0, 0))
  assert (images.load_rgb(_save(tmp_path, 'la.png', la)) == 255).all()


def test_palette_with_and_without_transparency(tmp_path):
  image = Image.new('P', (2, 1))
  image.putpalette([*ORANGE, 0, 0, 0] + [0] * 762)
  image.putpixel((0, 0), 0)
  image.putpixel((1, 0), 1)
  plain = images.load_rgb(_save(tmp_path, 'p.png', image))
  np.testing.assert_array_equal(plain[0], [ORANGE, (0, 0, 0)])
  # Index 1 transparent: the black pixel becomes white.
  path = _save(tmp_path, 'pt.png', image, transparency=1)
  with Image.open(path) as reread:
    assert reread.mode == 'P' and 'transparency' in reread.info
  np.testing.assert_array_equal(images.load_rgb(path)[0],
                                [ORANGE, (255, 255, 255)])
  gif = images.load_rgb(_save(tmp_path, 'pt.gif', image, transparency=1))
  np.testing.assert_array_equal(gif[0], [ORANGE, (255, 255, 255)])


def test_cmyk_jpeg(tmp_path):
  # Pure cyan in CMYK is (0, 255, 255) in RGB.
  path = _save(tmp_path, 'cmyk.jpg', Image.new('CMYK', (8, 8), (255, 0, 0, 0)),
               quality=95)
  with Image.open(path) as image:
    assert image.mode == 'CMYK'
  rgb = images.load_rgb(path)
  _assert_rgb(rgb, (8, 8, 3))
  np.testing.assert_allclose(rgb.reshape(-1, 3).mean(0), (0, 255, 255), atol=6)


def test_16_bit_grey_is_rescaled_not_clipped(tmp_path):
  values = np.array([[0, 32896, 65535]], dtype=np.uint16)
  path = _save(tmp_path, 'g16.png', Image.fromarray(values))
  with Image.open(path) as image:
    assert image.mode.startswith('I')
  rgb = images.load_rgb(path)
  _assert_rgb(rgb, (1, 3, 3))
  # 32896 / 65535 * 255 = 128.0
  np.testing.assert_array_equal(rgb[0, :, 0], [0, 128, 255])


def test_32_bit_int_and_float_modes(tmp_path):
  ints = Image.fromarray(np.array([[0, 65535]], dtype=np.int32), mode='I')
  path = _save(tmp_path, 'i32.tif', ints)
  np.testing.assert_array_equal(images.load_rgb(path)[0, :, 1], [0, 255])
  floats = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32), mode='F')
  path = _save(tmp_path, 'f.tif', floats)
  # Floats in [0, 1] are intensities: 0.5 -> round(127.5) = 128.
  np.testing.assert_array_equal(images.load_rgb(path)[0, :, 2], [0, 128, 255])


def test_exif_orientation_is_applied(tmp_path):
  image = Image.new('RGB', (30, 10), ORANGE)
  exif = Image.Exif()
  exif[0x0112] = 6  # rotate 90 degrees clockwise for display
  path = _save(tmp_path, 'rot.jpg', image, exif=exif)
  _assert_rgb(images.load_rgb(path), (30, 10, 3))


def test_bytes_input_and_name_in_errors(tmp_path):
  buffer = io.BytesIO()
  Image.new('RGB', (3, 2), ORANGE).save(buffer, format='PNG')
  rgb = images.load_rgb(buffer.getvalue())
  np.testing.assert_array_equal(rgb, np.full((2, 3, 3), ORANGE, np.uint8))
  with pytest.raises(images.ImageError, match='^row 7: not an image$'):
    images.load_rgb(b'hello', name='row 7')


def test_not_an_image(tmp_path):
  path = tmp_path / 'notes.jpg'
  path.write_text('this is not a picture\n')
  with pytest.raises(images.ImageError, match='notes.jpg: not an image'):
    images.load_rgb(str(path))


def test_empty_and_missing_files(tmp_path):
  path = tmp_path / 'empty.png'
  path.write_bytes(b'')
  with pytest.raises(images.ImageError, match='empty.png: empty file'):
    images.load_rgb(str(path))
  with pytest.raises(images.ImageError, match='absent.png: cannot read'):
    images.load_rgb(str(tmp_path / 'absent.png'))


@pytest.mark.parametrize('fmt', ['JPEG', 'PNG'])
def test_truncated_file(tmp_path, fmt):
  rng = np.random.default_rng(0)
  noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
  buffer = io.BytesIO()
  Image.fromarray(noise).save(buffer, format=fmt)
  path = tmp_path / f'cut.{fmt.lower()}'
  path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
  with pytest.raises(images.ImageError, match=f'cut.{fmt.lower()}: cannot decode'
                     ) as info:
    images.load_rgb(str(path))
  assert '\n' not in str(info.value)


@pytest.mark.parametrize('width', [2**15, 2**16])  # 268M and 537M pixels
def test_decompression_bomb(tmp_path, width):
  # A 1-bit PNG of > 2**28 pixels is a few kB: a real bomb, not a mock.
  path = _save(tmp_path, 'bomb.png', Image.new('1', (width, 2**13 + 1)))
  assert (tmp_path / 'bomb.png').stat().st_size < 100_000
  with pytest.raises(images.ImageError, match=r'^bomb.png: more than 268435456 pixels '
                                              r'\(decompression bomb\?\)$'):
    images.load_rgb(path, name='bomb.png')
  with pytest.raises(images.ImageError, match='more than 1000 pixels'):  # a caller's limit
    images.load_rgb(path, max_pixels=1000)


def test_pixel_limit_is_checked_before_decoding(tmp_path, monkeypatch):
  monkeypatch.setattr(images, 'MAX_PIXELS', 100)
  small = _save(tmp_path, 'small.png', Image.new('L', (11, 10)))
  with pytest.raises(images.ImageError, match='small.png: more than 100 pixels'):
    images.load_rgb(small)
  assert images.load_rgb(_save(tmp_path, 'ok.png', Image.new('L', (10, 10)))
                         ).shape == (10, 10, 3)


def test_resize_shorter():
  rgb = np.zeros((400, 1000, 3), np.uint8)
  out = images.resize_shorter(rgb, 320)
  assert out.shape == (320, 800, 3) and out.dtype == np.uint8
  assert images.resize_shorter(np.zeros((1000, 401, 3), np.uint8), 320
                               ).shape == (798, 320, 3)
  small = np.zeros((100, 50, 3), np.uint8)
  assert images.resize_shorter(small, 320) is small  # never upscales
  flat = np.full((640, 640, 3), ORANGE, np.uint8)
  np.testing.assert_array_equal(images.resize_shorter(flat, 320), flat[:320, :320])


def test_resize_matches_pil_lanczos():
  rng = np.random.default_rng(1)
  rgb = rng.integers(0, 256, (90, 60, 3), dtype=np.uint8)
  expected = np.asarray(Image.fromarray(rgb).resize((30, 45), Image.Resampling.LANCZOS))
  out = images.resize_shorter(rgb, 30)
  assert out.shape == expected.shape
  # reducing_gap may differ from a direct Lanczos by a few levels at most.
  assert np.abs(out.astype(int) - expected.astype(int)).mean() < 2.0


def test_encode_jpeg_round_trip():
  rgb = np.full((16, 24, 3), ORANGE, np.uint8)
  data = images.encode_jpeg(rgb, quality=95)
  assert data[:2] == b'\xff\xd8'
  back = images.load_rgb(data)
  assert back.shape == rgb.shape
  np.testing.assert_allclose(back.reshape(-1, 3).mean(0), ORANGE, atol=4)
  assert len(images.encode_jpeg(rgb, quality=20)) <= len(data)
  with pytest.raises(ValueError, match='uint8'):
    images.encode_jpeg(rgb.astype(np.float32))


def _gradient(size=(96, 72)):
  """Smooth colours: a box-filtered copy of them is close to a reduced decode."""
  x, y = np.meshgrid(np.linspace(0, 1, size[0]), np.linspace(0, 1, size[1]))
  return np.stack([x * 255, y * 255, (1 - x) * 200 + 20], -1).astype(np.uint8)


@pytest.mark.parametrize('name,convert,kwargs,tolerance', [
    ('rgb.png', 'RGB', {}, 1),
    ('grey.png', 'L', {}, 1),
    ('rgba.png', 'RGBA', {}, 1),
    ('palette.png', 'P', {}, 1),
    ('grey16.png', 'I;16', {}, 1),
    ('bilevel.png', '1', {}, 1),
    ('cmyk.tif', 'CMYK', {}, 1),
    ('rgb.webp', 'RGB', {'lossless': True}, 1),
    ('rgb.jpg', 'RGB', {'quality': 95}, 4),  # libjpeg's scaled IDCT, not a box filter
])
def test_big_images_are_decoded_reduced_in_every_mode(tmp_path, monkeypatch, name, convert,
                                                      kwargs, tolerance):
  rgb = _gradient()
  if convert == 'I;16':
    image = Image.fromarray((rgb[..., 0].astype(np.uint16) * 257))
  else:
    image = Image.fromarray(rgb).convert(convert)
  if convert == 'RGBA':
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, :24] = 0  # a transparent band: white once composited
    image.putalpha(Image.fromarray(alpha))
  path = _save(tmp_path, name, image, **kwargs)
  full = images.load_rgb(path)
  assert full.shape == (72, 96, 3)
  monkeypatch.setattr(images, 'REDUCE_ABOVE', 1000)  # a 'big' image: over 1,000 pixels
  reduced = images.load_rgb(path, min_side=18)
  assert reduced.shape == (18, 24, 3), reduced.shape  # 72 // 18: a quarter of each side
  expected = np.asarray(Image.fromarray(full).reduce(4)).astype(int)
  assert np.abs(reduced.astype(int) - expected).max() <= tolerance


def test_images_under_the_threshold_decode_exactly_as_before(tmp_path, monkeypatch):
  path = _save(tmp_path, 'scan.jpg', Image.fromarray(_gradient((400, 300))), quality=90)
  before = np.asarray(Image.open(path).convert('RGB'))
  monkeypatch.setattr(images, 'REDUCE_ABOVE', 400 * 300)  # not over it: decoded whole
  np.testing.assert_array_equal(images.load_rgb(path, min_side=10), before)


_PEAK_MEMORY = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from wikiart_jax.data import images

    def peak_mb():  # the process's resident high-water mark
      with open('/proc/self/status') as f:
        return next(int(l.split()[1]) for l in f if l.startswith('VmHWM')) / 1024

    before = peak_mb()
    rgb = images.load_rgb(sys.argv[2])
    print(json.dumps({'added_mb': peak_mb() - before, 'shape': rgb.shape,
                      'left': rgb[:, 0].mean(0).tolist(), 'right': rgb[:, -1].mean(0).tolist()}))
""")


@pytest.mark.skipif(not os.path.exists('/proc/self/status'), reason='reads VmHWM from /proc')
@pytest.mark.parametrize('kind, bound_mb', [
    ('jpeg', 100),  # libjpeg decodes at 1/8: 1,500 x 1,500 (a full decode adds ~1,900 MB)
    ('png', 800),  # one 12,000 x 12,000 frame (576 MB in PIL), reduced at once
])
def test_a_12000_px_scan_decodes_reduced_with_bounded_memory(big_scans, kind, bound_mb):
  proc = subprocess.run([sys.executable, '-c', _PEAK_MEMORY, ROOT, big_scans[kind]],
                        capture_output=True, text=True, timeout=300, check=False)
  assert proc.returncode == 0, proc.stderr[-2000:]
  out = json.loads(proc.stdout)
  height, width, _ = out['shape']
  assert height == width and images.REDUCED_MIN_SIDE <= width < BIG_SIDE // 4, out
  np.testing.assert_allclose(out['left'], (30, 60, 160), atol=3)  # the colours survive
  np.testing.assert_allclose(out['right'], (200, 180, 40), atol=3)
  assert out['added_mb'] < bound_mb, out
