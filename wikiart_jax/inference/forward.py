"""The forward pass of a trained model on a batch of images, as one named result.

`make_step(parts)` is the jitted function evaluation, predict and serve all
run: params and a batch with 'image' -> a `Prediction` holding every class
head's probabilities, the content tags' and the period bins' when the model has
those heads and, when it has a captioner, the captioner's context
(`Captioner.condition` of the backbone's tokens and the heads' logits).
`make_forward` wraps it for host numpy images of any batch size.
"""

from __future__ import annotations

from typing import Callable

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from wikiart_jax.core import PERIOD, TAGS
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding


@flax.struct.dataclass
class Prediction:
  """What the model says about a batch.

  Attributes:
    probs: head name -> float32 class probabilities [B, C] ('style', 'artist',
      'genre', and 'style_family' with a hierarchical style head).
    context: the captioner's context [B, M, D], or None without a captioner.
    tags: float32 [B, T] probability of each content tag (independent sigmoids;
      the vocabulary's `tags` name them), or None without a tag head.
    period: float32 [B, P] probabilities of the period bins (metrics/period.py), or
      None without a period head.
  """
  probs: dict[str, jax.Array]
  context: jax.Array | None = None
  tags: jax.Array | None = None
  period: jax.Array | None = None


def make_step(parts: parts_lib.ModelParts) -> Callable[..., Prediction]:
  """jit(fn)(params, batch) -> Prediction; `batch['image']` is [B, S, S, 3] normalised."""

  def step(params, batch):
    model = parts.merge(params)
    outputs, aux = model(batch['image'], deterministic=True)
    probs = {name: jax.nn.softmax(logits.astype(jnp.float32), axis=-1)
             for name, logits in outputs.items() if name not in (TAGS, PERIOD)}
    context = (None if model.captioner is None
               else model.captioner.condition(aux['tokens'], outputs))
    tags = jax.nn.sigmoid(outputs[TAGS].astype(jnp.float32)) if TAGS in outputs else None
    period = (jax.nn.softmax(outputs[PERIOD].astype(jnp.float32), axis=-1)
              if PERIOD in outputs else None)
    return Prediction(probs=probs, context=context, tags=tags, period=period)

  return jax.jit(step)


def pad_to_devices(batch_images: np.ndarray) -> np.ndarray:
  """Pads the batch to a multiple of the device count (the mesh splits it)."""
  extra = -len(batch_images) % jax.device_count()
  if not extra:
    return batch_images
  pad = np.zeros((extra,) + batch_images.shape[1:], batch_images.dtype)
  return np.concatenate([batch_images, pad])


def make_forward(parts: parts_lib.ModelParts, mesh) -> Callable[[np.ndarray], Prediction]:
  """images float32 [B,S,S,3] (numpy, any B) -> Prediction with numpy probabilities
  (and the context as a device array), B rows each."""
  step = make_step(parts)

  def forward(batch_images: np.ndarray) -> Prediction:
    n = len(batch_images)
    out = step(parts.params, sharding.to_global({'image': pad_to_devices(batch_images)}, mesh))
    probs = {k: np.asarray(v)[:n] for k, v in jax.device_get(out.probs).items()}
    rows = lambda x: None if x is None else np.asarray(jax.device_get(x))[:n]
    return Prediction(probs=probs, context=None if out.context is None else out.context[:n],
                      tags=rows(out.tags), period=rows(out.period))

  return forward
