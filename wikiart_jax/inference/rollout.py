"""Attention rollout (Abnar & Zuidema 2020): where the ViT's CLS token looked.

Each layer's attention is averaged over heads, the identity is added (the residual
connection carries a token's own information forward), rows are renormalised to
sum to 1, and the layers are multiplied from the first to the last. The CLS row of
the product, without the CLS column, is the patch grid's relevance; it is
upsampled and laid over the centre crop the model saw.
"""

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from PIL import Image

from wikiart_jax.data import augment
from wikiart_jax.models import parts as parts_lib

# Anchors of a perceptually ordered dark-blue -> yellow ramp (viridis-like),
# so the overlay needs no plotting library.
_RAMP = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98],
                  [253, 231, 37]], np.float32)
# The ramp sampled at 256 levels: a table lookup is ~50x faster than interpolating
# every pixel of the upsampled map.
_LUT = np.rint(np.stack(
    [np.interp(np.linspace(0, len(_RAMP) - 1, 256), np.arange(len(_RAMP)), _RAMP[:, c])
     for c in range(3)], axis=-1)).astype(np.uint8)


def rollout(attentions: Sequence[jax.Array]) -> jax.Array:
  """Rolled-out attention through all layers.

  Args:
    attentions: one array per layer, first layer first, [B, heads, N, N]
      (rows are queries, each row a softmax over keys).

  Returns:
    float32 [B, N, N]: A_L' @ ... @ A_1' with A' = rownorm(mean_heads(A) + I).
  """
  if not attentions:
    raise ValueError('rollout needs the attention of at least one layer')
  result = None
  for weights in attentions:
    if weights.ndim != 4 or weights.shape[-1] != weights.shape[-2]:
      raise ValueError(f'attention must be [B,heads,N,N], got {tuple(weights.shape)}')
    a = jnp.mean(weights.astype(jnp.float32), axis=1)
    a = a + jnp.eye(a.shape[-1], dtype=a.dtype)
    a = a / jnp.sum(a, axis=-1, keepdims=True)
    # Later layers act on the mixture the earlier ones produced: left-multiply.
    result = a if result is None else jnp.matmul(a, result)
  return result


def cls_patch_map(rolled: jax.Array, prefix: int = 1) -> jax.Array:
  """CLS row over the patches as a square grid, scaled to [0, 1] per image.

  Args:
    rolled: [B, N, N] from `rollout`, token 0 the CLS token, then `prefix` - 1
      register tokens, then a row-major square grid of patches.
    prefix: the tokens before the patches (CLS and the registers).

  Returns:
    float32 [B, g, g] with g * g = N - prefix.
  """
  patches = rolled[:, 0, prefix:]
  grid = int(round(np.sqrt(patches.shape[-1])))
  if grid * grid != patches.shape[-1]:
    raise ValueError(f'{patches.shape[-1]} patch tokens do not form a square grid')
  lo = jnp.min(patches, axis=-1, keepdims=True)
  hi = jnp.max(patches, axis=-1, keepdims=True)
  scaled = (patches - lo) / jnp.maximum(hi - lo, 1e-12)
  return scaled.reshape(-1, grid, grid)


def make_rollout_fn(parts: parts_lib.ModelParts
                    ) -> Callable[[nnx.State, jax.Array], jax.Array]:
  """jit(fn)(params, images [B,S,S,3]) -> rollout maps [B, g, g] in [0, 1].

  The attention weights come from the model's XLA attention path
  (`return_attention=True`), whatever kernel the classifier uses otherwise.
  """

  def maps(params, images):
    model = parts.merge(params)
    _, aux = model(images, deterministic=True, return_attention=True)
    return cls_patch_map(rollout(aux['attention']), 1 + model.backbone.config.registers)

  return jax.jit(maps)


def colorize(heat: np.ndarray) -> np.ndarray:
  """Maps [H, W] values in [0, 1] to uint8 RGB along the ramp."""
  index = np.rint(np.clip(np.asarray(heat, np.float32), 0.0, 1.0) * 255.0)
  return _LUT[index.astype(np.uint8)]


def overlay(rgb: np.ndarray, heat: np.ndarray, *, size: int = 384,
            alpha: float = 0.5) -> np.ndarray:
  """The heat map laid over the centre crop the model saw.

  Args:
    rgb: the uploaded image, uint8 [H, W, 3].
    heat: [g, g] in [0, 1] (a `cls_patch_map` row).
    size: side of the returned square picture.
    alpha: weight of the heat map in the blend.

  Returns:
    uint8 [size, size, 3].
  """
  image = Image.fromarray(np.asarray(rgb, np.uint8))
  # Same crop as the eval transform, so each patch lands on what it saw.
  crop = image.crop(augment.centre_square_box(*image.size))
  crop = crop.resize((size, size), Image.Resampling.BILINEAR)
  heat_img = Image.fromarray(np.asarray(heat, np.float32))  # mode 'F'
  heat_up = np.asarray(heat_img.resize((size, size), Image.Resampling.BILINEAR))
  return np.asarray(Image.blend(crop, Image.fromarray(colorize(heat_up)), alpha))
