"""Image decoding and augmentation on the CPU, in numpy and PIL (no TensorFlow).

Train: RandomResizedCrop (area 0.8-1.0, aspect 3/4-4/3), horizontal flip, colour
jitter (brightness, contrast, saturation), normalisation. Eval: resize the
shorter side to the crop size and take the centre square. Both crop first, then
resize the crop in PIL (so no pixel outside the crop leaks in at the border).
Randomness comes from a `np.random.Generator` handed in by the caller (grain's
`random_map` derives one per example from the pipeline seed and the index).

The pixel statistics and the resize filter are the backbone checkpoint's own
(`Normalization`: transformers' preprocessor_config.json, timm's pretrained_cfg;
ImageNet's when training from scratch): a pretrained backbone must see inputs
distributed as in its pre-training.
"""

import dataclasses
import io
import math

import numpy as np
from PIL import Image


@dataclasses.dataclass(frozen=True)
class Normalization:
  """How pixels reach the model: (x / 255 - mean) / std, resized with `interpolation`."""
  mean: tuple[float, float, float]
  std: tuple[float, float, float]
  interpolation: str = 'bilinear'  # bilinear | bicubic

  def __post_init__(self):
    if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
      raise ValueError(f'normalisation needs 3 means and 3 positive stds, got {self.mean}, '
                       f'{self.std}')
    if self.interpolation not in _FILTERS:
      raise ValueError(f'interpolation must be one of {sorted(_FILTERS)}, '
                       f'got {self.interpolation!r}')

  def to_dict(self) -> dict:
    return {'mean': list(self.mean), 'std': list(self.std),
            'interpolation': self.interpolation}

  @classmethod
  def from_dict(cls, d: dict) -> 'Normalization':
    return cls(tuple(float(x) for x in d['mean']), tuple(float(x) for x in d['std']),
               str(d.get('interpolation', 'bilinear')))


_FILTERS = {'bilinear': Image.BILINEAR, 'bicubic': Image.BICUBIC}
IMAGENET = Normalization((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
# ImageNet statistics on the 0-255 scale, as the Hugging Face ViT processors use.
IMAGENET_MEAN = np.array(IMAGENET.mean, np.float32) * 255.0
IMAGENET_STD = np.array(IMAGENET.std, np.float32) * 255.0
# ITU-R 601 luma, what torchvision and PIL use for grayscale.
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)

CROP_SCALE = (0.8, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)
FLIP_PROB = 0.3
JITTER = 0.1


def decode(data: bytes) -> Image.Image:
  """Decodes encoded image bytes (our stored JPEGs) into an RGB PIL image."""
  image = Image.open(io.BytesIO(data))
  image.draft('RGB', image.size)  # keeps JPEGs in RGB without a mode round trip
  return image if image.mode == 'RGB' else image.convert('RGB')


def random_resized_crop_box(width: int, height: int, rng: np.random.Generator,
                            scale=CROP_SCALE, ratio=CROP_RATIO
                           ) -> tuple[int, int, int, int]:
  """Draws a crop box (left, top, right, bottom) as torchvision's RandomResizedCrop.

  Ten tries at a box with a random area fraction in `scale` and a log-uniform
  aspect ratio in `ratio`; if none fits, the centre crop with the ratio clamped.
  """
  area = width * height
  log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
  for _ in range(10):
    target_area = area * rng.uniform(*scale)
    aspect = math.exp(rng.uniform(*log_ratio))
    w = int(round(math.sqrt(target_area * aspect)))
    h = int(round(math.sqrt(target_area / aspect)))
    if 0 < w <= width and 0 < h <= height:
      top = int(rng.integers(0, height - h + 1))
      left = int(rng.integers(0, width - w + 1))
      return left, top, left + w, top + h
  in_ratio = width / height
  if in_ratio < ratio[0]:
    w, h = width, int(round(width / ratio[0]))
  elif in_ratio > ratio[1]:
    w, h = int(round(height * ratio[1])), height
  else:
    w, h = width, height
  left, top = (width - w) // 2, (height - h) // 2
  return left, top, left + w, top + h


def centre_square_box(width: int, height: int) -> tuple[int, int, int, int]:
  """The centre square of side min(width, height): resize-shorter + centre-crop."""
  side = min(width, height)
  left, top = (width - side) // 2, (height - side) // 2
  return left, top, left + side, top + side


def color_jitter(x: np.ndarray, rng: np.random.Generator,
                 strength: float = JITTER) -> np.ndarray:
  """Brightness, contrast and saturation jitter on a float32 [H,W,3] 0-255 image.

  Each factor is uniform in [1 - strength, 1 + strength], applied in a random
  order (as torchvision's ColorJitter), with clipping to 0-255 after each step.
  """
  factors = rng.uniform(1 - strength, 1 + strength, size=3)
  for op in rng.permutation(3):
    f = np.float32(factors[op])
    if op == 0:  # brightness: blend with black
      x = x * f
    elif op == 1:  # contrast: blend with the mean grey level
      mean = np.float32((x @ _LUMA).mean())
      x = (x - mean) * f + mean
    else:  # saturation: blend with the per-pixel grey
      grey = (x @ _LUMA)[..., None]
      x = (x - grey) * f + grey
    np.clip(x, 0.0, 255.0, out=x)
  return x


def normalize(x: np.ndarray, norm: Normalization = IMAGENET) -> np.ndarray:
  """Mean/std normalisation of a 0-255 float image."""
  mean = np.asarray(norm.mean, np.float32) * 255.0
  std = np.asarray(norm.std, np.float32) * 255.0
  return ((x - mean) / std).astype(np.float32, copy=False)


def _resize(image: Image.Image, size: int, norm: Normalization) -> Image.Image:
  if image.size == (size, size):
    return image  # already the model's size: no filter, every pixel as it is
  return image.resize((size, size), _FILTERS[norm.interpolation])


def _as_pil(image) -> Image.Image:
  if isinstance(image, Image.Image):
    return image if image.mode == 'RGB' else image.convert('RGB')
  image = np.asarray(image)
  if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
    raise ValueError(
        f'expected a uint8 [H,W,3] image, got {image.dtype} {image.shape}')
  return Image.fromarray(image)


def train_transform(image, image_size: int, rng: np.random.Generator,
                    norm: Normalization = IMAGENET) -> np.ndarray:
  """Random crop + flip + jitter + normalise: float32 [S,S,3].

  Args:
    image: an RGB PIL image or a uint8 [H,W,3] array.
    image_size: side S of the output.
    rng: per-example generator.
    norm: the backbone's pixel statistics and resize filter.
  """
  image = _as_pil(image)
  box = random_resized_crop_box(*image.size, rng)
  image = _resize(image.crop(box), image_size, norm)
  if rng.random() < FLIP_PROB:
    image = image.transpose(Image.FLIP_LEFT_RIGHT)
  x = np.asarray(image, dtype=np.float32)
  return normalize(color_jitter(x, rng), norm)


def eval_transform(image, image_size: int, norm: Normalization = IMAGENET) -> np.ndarray:
  """Shorter side resized to S, centre S x S crop, normalised: float32 [S,S,3].

  The crop covers the whole shorter side, matching the train crops, which keep
  80-100% of the picture. Used by the eval pipeline, predict, serve and embed.
  """
  image = _as_pil(image)
  box = centre_square_box(*image.size)
  image = _resize(image.crop(box), image_size, norm)
  return normalize(np.asarray(image, dtype=np.float32), norm)
