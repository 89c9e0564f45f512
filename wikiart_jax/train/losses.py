"""Classification losses with missing labels (-1), and the multi-task objective.

Each loss returns (sum of per-example losses over valid rows, number of valid rows),
both float32 scalars, so callers can average over any set of batches or devices.
Everything is computed in float32 whatever the logits dtype.
"""

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from wikiart_jax.core import PERIOD, PERIOD_STEP, TAGS, TAGS_MASK
from wikiart_jax.metrics import period as period_lib

# Tasks other than style and their weight field in config.train.
_WEIGHTED_TASKS = (('artist', 'lambda_artist'), ('genre', 'lambda_genre'),
                   ('style_family', 'lambda_family'), (TAGS, 'lambda_tags'),
                   (PERIOD, 'lambda_period'))


def _log_probs_and_labels(logits, labels):
  logits = jnp.asarray(logits, jnp.float32)
  labels = jnp.asarray(labels)
  if logits.ndim != 2 or labels.shape != logits.shape[:1]:
    raise ValueError(f'expected logits [B,C] and labels [B], got {logits.shape} and {labels.shape}')
  valid = labels >= 0
  safe = jnp.where(valid, labels, 0)  # any in-range index; the row is masked out
  return jax.nn.log_softmax(logits, axis=-1), safe, valid


def _masked_sum(per_example, valid):
  return (jnp.sum(jnp.where(valid, per_example, 0.0)),
          jnp.sum(valid).astype(jnp.float32))


def cross_entropy(logits: jax.Array, labels: jax.Array, *,
                  label_smoothing: float = 0.0) -> tuple[jax.Array, jax.Array]:
  """Softmax cross-entropy against (1 - eps) one-hot + eps / C (optax's smoothing).

  Args:
    logits: [B, C]; log-probabilities work too (log_softmax leaves them unchanged).
    labels: int [B]; -1 rows are ignored.
    label_smoothing: eps in [0, 1).

  Returns:
    (sum of losses over valid rows, number of valid rows), float32.
  """
  if not 0.0 <= label_smoothing < 1.0:
    raise ValueError(f'label_smoothing must be in [0, 1), got {label_smoothing}')
  log_p, safe, valid = _log_probs_and_labels(logits, labels)
  nll = -jnp.take_along_axis(log_p, safe[:, None], axis=-1)[:, 0]
  if label_smoothing:
    loss = (1.0 - label_smoothing) * nll - label_smoothing * log_p.mean(axis=-1)
  else:
    loss = nll
  return _masked_sum(loss, valid)


def focal_loss(logits: jax.Array, labels: jax.Array, *,
               gamma: float = 2.0) -> tuple[jax.Array, jax.Array]:
  """Focal loss -(1 - p_t)^gamma log p_t (Lin et al. 2017), no class weights.

  Args:
    logits: [B, C].
    labels: int [B]; -1 rows are ignored.
    gamma: focusing parameter; 0 gives cross-entropy.

  Returns:
    (sum of losses over valid rows, number of valid rows), float32.
  """
  if gamma < 0:
    raise ValueError(f'focal gamma must be >= 0, got {gamma}')
  log_p, safe, valid = _log_probs_and_labels(logits, labels)
  log_pt = jnp.take_along_axis(log_p, safe[:, None], axis=-1)[:, 0]
  loss = -log_pt
  if gamma:
    # -expm1 keeps 1 - p_t accurate when p_t is near 1; the floor keeps the gradient
    # of x**gamma finite at x = 0 when gamma < 1.
    one_minus_pt = jnp.maximum(-jnp.expm1(log_pt), jnp.finfo(jnp.float32).tiny)
    loss = loss * one_minus_pt ** gamma
  return _masked_sum(loss, valid)


def tag_loss(logits: jax.Array, targets: jax.Array,
             mask: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Binary cross-entropy on soft targets, summed over the known tags of each image.

  Args:
    logits: [B, T] sigmoid logits.
    targets: [B, T] in [0, 1] (CLIP probabilities, or 0 / 1).
    mask: [B, T], 1 where the target is known; unknown tags add nothing.

  Returns:
    (sum over images of the per-image sums, number of images with a known tag), float32.
  """
  logits = jnp.asarray(logits, jnp.float32)
  if logits.ndim != 2 or targets.shape != logits.shape or mask.shape != logits.shape:
    raise ValueError(f'expected tag logits, targets and mask [B,T], got {logits.shape}, '
                     f'{targets.shape} and {mask.shape}')
  mask = jnp.asarray(mask, jnp.float32)
  bce = optax.sigmoid_binary_cross_entropy(logits, jnp.asarray(targets, jnp.float32))
  per_image = jnp.sum(jnp.where(mask > 0, bce, 0.0) * mask, axis=-1)
  return _masked_sum(per_image, jnp.any(mask > 0, axis=-1))


def period_loss(logits: jax.Array, bins: jax.Array, years: jax.Array, *,
                mean_weight: float = 1.0) -> tuple[jax.Array, jax.Array]:
  """Cross-entropy over the period bins plus `mean_weight` times the distance, in bins,
  from the expected year to the true year (the mean loss of Pan et al. 2018).

  The expected year is what the model reports; the second term pulls probability
  off far bins, which the cross-entropy alone leaves to shrink slowly.

  Args:
    logits: [B, P] over the bins of metrics/period.py.
    bins: int [B] the true bin, -1 = unknown year (the row is ignored).
    years: int [B] the true year.
    mean_weight: weight of |E[year] - year| / 25.

  Returns:
    (sum over dated rows, number of dated rows), float32.
  """
  log_p, safe, valid = _log_probs_and_labels(logits, bins)
  nll = -jnp.take_along_axis(log_p, safe[:, None], axis=-1)[:, 0]
  centres = jnp.asarray(period_lib.bin_centres(), jnp.float32)
  expected = jnp.sum(jnp.exp(log_p) * centres, axis=-1)
  distance = jnp.abs(expected - jnp.asarray(years, jnp.float32)) / PERIOD_STEP
  return _masked_sum(nll + mean_weight * distance, valid)


def family_labels(style_labels: jax.Array, style_to_family: np.ndarray) -> jax.Array:
  """Family label of each style label (-1 stays -1)."""
  table = jnp.asarray(style_to_family, jnp.int32)
  style_labels = jnp.asarray(style_labels)
  return jnp.where(style_labels >= 0, table[jnp.maximum(style_labels, 0)], -1)


def multitask_loss(
    outputs: Mapping[str, jax.Array], batch: Mapping[str, jax.Array],
    train_config: Any, *, style_to_family: np.ndarray | None = None,
    denominators: Mapping[str, jax.Array] | None = None,
) -> tuple[jax.Array, dict[str, jax.Array]]:
  """L = L_style + l_artist L_artist + l_genre L_genre (+ l_family L_family)
  (+ l_tags L_tags + l_period L_period).

  Style: cross-entropy with config.train.label_smoothing; artist: focal loss with
  config.train.focal_gamma; genre and style family: cross-entropy; tags: `tag_loss`;
  period: `period_loss` with config.train.period_mean_weight. Each task term is a mean over its valid labels (images with a known
  tag, for tags); a task with none in the batch contributes 0.

  Args:
    outputs: the classifier's outputs (task -> logits); tasks absent are skipped.
    batch: task -> int labels [B], -1 = missing; 'tags' and 'tags_mask' [B, T] when
      outputs has 'tags'; 'year' [B] when it has 'period'.
    train_config: `config.train`.
    style_to_family: int [num_styles] family of each style; needed when outputs has
      'style_family' (`ArtClassifier.style_to_family`).
    denominators: task -> label count to divide by instead of this batch's own.
      Gradient accumulation passes the whole batch's counts to each micro-batch,
      so the micro-batch losses add up to the whole batch's loss exactly.

  Returns:
    (total loss, {task: mean loss, f'{task}_count': valid labels}), float32.
  """
  terms = {}
  if 'style' in outputs:
    terms['style'] = cross_entropy(outputs['style'], batch['style'],
                                   label_smoothing=train_config.label_smoothing)
  if 'artist' in outputs:
    terms['artist'] = focal_loss(outputs['artist'], batch['artist'],
                                 gamma=train_config.focal_gamma)
  if 'genre' in outputs:
    terms['genre'] = cross_entropy(outputs['genre'], batch['genre'])
  if 'style_family' in outputs:
    if style_to_family is None:
      raise ValueError("outputs has 'style_family': pass style_to_family "
                       '(ArtClassifier.style_to_family) to multitask_loss')
    terms['style_family'] = cross_entropy(
        outputs['style_family'], family_labels(batch['style'], style_to_family))

  if TAGS in outputs:
    terms[TAGS] = tag_loss(outputs[TAGS], batch[TAGS], batch[TAGS_MASK])
  if PERIOD in outputs:
    terms[PERIOD] = period_loss(outputs[PERIOD], batch[PERIOD], batch['year'],
                                mean_weight=train_config.period_mean_weight)

  weight_fields = dict(_WEIGHTED_TASKS)
  total = jnp.zeros((), jnp.float32)
  per_task = {}
  for task, (loss_sum, count) in terms.items():
    if denominators is not None:
      count = denominators[task]
    mean = loss_sum / jnp.maximum(count, 1.0)  # 0 / 1 when the task has no label
    weight = 1.0 if task == 'style' else float(train_config[weight_fields[task]])
    total = total + weight * mean
    per_task[task] = mean
    per_task[f'{task}_count'] = count
  return total, per_task
