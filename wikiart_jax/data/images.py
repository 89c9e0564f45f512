"""Robust image decoding to RGB uint8, resizing and JPEG encoding.

WikiArt holds every kind of file a scraper meets: palette and grey images,
CMYK and 16-bit scans, RGBA PNGs, rotated phone photos, truncated downloads
and the odd huge scan. Each is either converted to an [H, W, 3] uint8 array
or rejected with a one-line `ImageError` that names the file.

Museum scans reach 15,000 x 12,000 pixels. An image with more than
REDUCE_ABOVE pixels is decoded at a reduced size, its shorter side kept at least
`min_side`: a JPEG by libjpeg itself at 1/2, 1/4 or 1/8 scale (`draft`), so its
full size never reaches memory; any other format is decoded once at its own
size and box-filtered down by a whole factor (`reduce`) before anything else
copies it. Smaller images decode exactly as before. Above `max_pixels`
(config.data.max_image_pixels) an image is refused before any pixel is decoded.
"""

import io
import os
import warnings

import numpy as np
from PIL import Image
from PIL import ImageFile
from PIL import ImageOps

from wikiart_jax.core import ImageError

# The default pixel limit (config.data.max_image_pixels): 2**28 = 268M pixels,
# 16,384 x 16,384; the largest museum scans (15,000 x 12,000) fit under it.
MAX_PIXELS = 2**28
# Images with more pixels (4,096 x 4,096) are decoded at a reduced size.
REDUCE_ABOVE = 2**24
# The shorter side a reduced decode keeps at least: 3x the 320 px that prepare
# stores and 2x the 512 px the web demo shows.
REDUCED_MIN_SIDE = 1024
# load_rgb checks each image against its caller's limit before decoding; PIL's
# process-wide guard would refuse scans that the caller allows.
Image.MAX_IMAGE_PIXELS = None
# Should another library turn PIL's guard back on, its warning is a bomb error,
# not a warning. A process-wide filter, not catch_warnings(), which is not thread-safe.
warnings.filterwarnings('error', category=Image.DecompressionBombWarning)
# Modes Image.reduce() works on; the others are converted first.
_REDUCIBLE = ('L', 'LA', 'RGB', 'RGBA', 'CMYK', 'I', 'F')


def _name(source, name: str | None) -> str:
  if name:
    return name
  if isinstance(source, (str, os.PathLike)):
    return os.fspath(source)
  return '<bytes>'


def _to_rgb(image: Image.Image) -> np.ndarray:
  """Converts any PIL mode to RGB uint8; transparency is put on white."""
  mode = image.mode
  if mode in ('I;16', 'I;16B', 'I;16L', 'I;16N', 'I', 'F'):
    # 16-bit / 32-bit / float greys: PIL's convert('L') clips instead of
    # scaling, so rescale to the type's range here.
    values = np.asarray(image).astype(np.float64)
    if mode == 'F':
      finite = values[np.isfinite(values)]
      lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
      # Floats in [0, 1] are intensities; any other range is stretched.
      if lo >= 0.0 and hi <= 1.0:
        lo, hi = 0.0, 1.0
      values = (np.nan_to_num(values, nan=lo) - lo) / max(hi - lo, 1e-12)
    else:
      hi = 65535.0 if mode.startswith('I;16') or values.max() <= 65535 else values.max()
      values = values / hi
    grey = np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)
  if mode == 'P':
    image = image.convert('RGBA' if 'transparency' in image.info else 'RGB')
  elif mode in ('L', 'RGB') and 'transparency' in image.info:
    image = image.convert('RGBA' if mode == 'RGB' else 'LA')
  if image.mode in ('RGBA', 'LA', 'PA', 'RGBa', 'La'):
    rgba = image.convert('RGBA')
    white = Image.new('RGBA', rgba.size, (255, 255, 255, 255))
    image = Image.alpha_composite(white, rgba)
  return np.asarray(image.convert('RGB'), dtype=np.uint8)


def _reducible(image: Image.Image) -> Image.Image:
  """`image` in a mode Image.reduce() averages, converted as _to_rgb would convert it."""
  mode, keyed = image.mode, 'transparency' in image.info
  if mode in ('L', 'RGB') and keyed:  # a transparent colour: averaging would lose it
    return image.convert({'L': 'LA', 'RGB': 'RGBA'}[mode])
  if mode in _REDUCIBLE:
    return image
  if mode.startswith('I;16'):  # _to_rgb scales 'I' within 0..65535 as it scales 'I;16'
    return image.convert('I')
  if mode == '1':
    return image.convert('L')
  return image.convert('RGBA' if keyed or 'A' in mode or 'a' in mode else 'RGB')


def _reduce(image: Image.Image, min_side: int) -> Image.Image:
  """The opened (not yet decoded) `image`, decoded at a reduced size when it is big."""
  width, height = image.size
  if width * height <= REDUCE_ABOVE or min(width, height) // min_side < 2:
    image.load()
    return image
  if image.format == 'JPEG':
    # libjpeg decodes at the largest of 1/8, 1/4, 1/2 that keeps this size.
    factor = min(width, height) // min_side
    image.draft(image.mode, (-(-width // factor), -(-height // factor)))
  image.load()
  factor = min(image.size) // min_side  # what draft left to do
  return _reducible(image).reduce(factor) if factor >= 2 else image


def load_rgb(path_or_bytes, *, name: str | None = None, max_pixels: int | None = None,
             min_side: int = REDUCED_MIN_SIDE) -> np.ndarray:
  """Decodes an image file or its bytes to uint8 [H, W, 3].

  EXIF orientation is applied; transparent pixels are composited on white. An
  image over REDUCE_ABOVE pixels comes out reduced, its shorter side >= min_side.

  Args:
    path_or_bytes: a file path, or the encoded bytes.
    name: how to name the image in errors (default: the path).
    max_pixels: refuse larger images (default MAX_PIXELS).
    min_side: the shorter side a reduced decode keeps at least.

  Raises:
    ImageError: empty, truncated, not an image, or over `max_pixels` pixels.
  """
  label = _name(path_or_bytes, name)
  limit = MAX_PIXELS if max_pixels is None else max_pixels
  if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
    data = bytes(path_or_bytes)
    source, size = io.BytesIO(data), len(data)
  else:
    try:  # PIL reads the file as it decodes: its bytes are never all in memory
      source = open(path_or_bytes, 'rb')  # pylint: disable=consider-using-with
    except OSError as e:
      raise ImageError(f'{label}: cannot read ({e.strerror or e})') from None
    size = os.fstat(source.fileno()).st_size
  with source:
    if not size:
      raise ImageError(f'{label}: empty file')
    return _decode(source, label, limit, min_side)


def _decode(source, label: str, limit: int, min_side: int) -> np.ndarray:
  """load_rgb's decoding of an open, non-empty file."""
  # A process-wide PIL switch: reset it per call so that another library
  # cannot make truncated files decode silently (as grey bands).
  ImageFile.LOAD_TRUNCATED_IMAGES = False
  try:
    with Image.open(source) as opened:
      # From the header, before any pixel is decoded.
      if opened.width * opened.height > limit:
        raise Image.DecompressionBombError('too many pixels')
      image = _reduce(opened, min_side)
      image = ImageOps.exif_transpose(image)
      rgb = _to_rgb(image)
  except (Image.DecompressionBombError, Image.DecompressionBombWarning):
    raise ImageError(f'{label}: more than {limit} pixels '
                     '(decompression bomb?)') from None
  except Image.UnidentifiedImageError:
    raise ImageError(f'{label}: not an image') from None
  except (OSError, ValueError, SyntaxError, EOFError) as e:
    message = str(e).splitlines()[0] if str(e) else type(e).__name__
    raise ImageError(f'{label}: cannot decode ({message})') from None
  if rgb.ndim != 3 or rgb.shape[-1] != 3 or 0 in rgb.shape:
    raise ImageError(f'{label}: decoded to an unusable shape {rgb.shape}')
  return rgb


def resize_shorter(rgb: np.ndarray, size: int) -> np.ndarray:
  """Resizes so the shorter side is `size` (never upscales); Lanczos filter."""
  if size <= 0:
    raise ValueError(f'size must be positive, got {size}')
  height, width = rgb.shape[:2]
  shorter = min(height, width)
  if shorter <= size:
    return rgb
  scale = size / shorter
  # round() so the shorter side is exactly `size` and the aspect is kept.
  new = (max(1, round(width * scale)), max(1, round(height * scale)))
  new = (size, new[1]) if width == shorter else (new[0], size)
  # reducing_gap pre-shrinks by whole factors first: much faster on big scans
  # with no visible change to the Lanczos result.
  resized = Image.fromarray(rgb).resize(new, Image.Resampling.LANCZOS,
                                         reducing_gap=3.0)
  return np.asarray(resized, dtype=np.uint8)


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
  """Encodes uint8 [H, W, 3] as a baseline JPEG (4:2:0 chroma)."""
  if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[-1] != 3:
    raise ValueError(f'expected uint8 [H, W, 3], got {rgb.dtype} {rgb.shape}')
  buffer = io.BytesIO()
  Image.fromarray(rgb).save(buffer, format='JPEG', quality=quality, optimize=True)
  return buffer.getvalue()
