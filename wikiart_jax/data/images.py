"""Robust image decoding to RGB uint8, resizing and JPEG encoding.

WikiArt holds every kind of file a scraper meets: palette and grey images,
CMYK and 16-bit scans, RGBA PNGs, rotated phone photos, truncated downloads
and the odd huge scan. Each is either converted to an [H, W, 3] uint8 array
or rejected with a one-line `ImageError` that names the file.
"""

import io
import os
import warnings

import numpy as np
from PIL import Image
from PIL import ImageFile
from PIL import ImageOps

from wikiart_jax.core import ImageError

# Larger images are rejected as decompression bombs (2**27 = 134M pixels,
# about 11,600 x 11,600; the largest WikiArt scans are well below).
MAX_PIXELS = 2**27
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# PIL only warns between MAX_IMAGE_PIXELS and twice that; a bomb is an error.
# A process-wide filter, not catch_warnings(), which is not thread-safe.
warnings.filterwarnings('error', category=Image.DecompressionBombWarning)


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


def load_rgb(path_or_bytes, *, name: str | None = None) -> np.ndarray:
  """Decodes an image file or its bytes to uint8 [H, W, 3].

  EXIF orientation is applied; transparent pixels are composited on white.

  Args:
    path_or_bytes: a file path, or the encoded bytes.
    name: how to name the image in errors (default: the path).

  Raises:
    ImageError: empty, truncated, not an image, or over MAX_PIXELS pixels.
  """
  label = _name(path_or_bytes, name)
  if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
    data = bytes(path_or_bytes)
  else:
    try:
      with open(path_or_bytes, 'rb') as f:
        data = f.read()
    except OSError as e:
      raise ImageError(f'{label}: cannot read ({e.strerror or e})') from None
  if not data:
    raise ImageError(f'{label}: empty file')
  # A process-wide PIL switch: reset it per call so that another library
  # cannot make truncated files decode silently (as grey bands).
  ImageFile.LOAD_TRUNCATED_IMAGES = False
  try:
    with Image.open(io.BytesIO(data)) as image:
      # Checked here too, before decoding: MAX_PIXELS may have been lowered.
      if image.width * image.height > MAX_PIXELS:
        raise Image.DecompressionBombError('too many pixels')
      image.load()
      image = ImageOps.exif_transpose(image)
      rgb = _to_rgb(image)
  except (Image.DecompressionBombError, Image.DecompressionBombWarning):
    raise ImageError(f'{label}: more than {MAX_PIXELS} pixels '
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
