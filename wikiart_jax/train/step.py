"""The jitted multi-task train step.

A pure function of arrays: the model is rebuilt from its parts inside the trace
(`ModelParts.merge`), so jit sees only (state, batch) and the train state is
donated. Only the trainable parameters are differentiated: frozen ones (a frozen
backbone, BLIP-2's language model) get no gradient buffer, no accumulation
carry and no backward pass of their own, and may be stored in any dtype (int8).
Gradient accumulation runs the micro-batches in a `lax.scan` (train/accumulation.py);
each task's loss is normalised by its label count over the whole batch, so k
micro-batches of b give the same update as one batch of k*b.
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from flax import nnx

from wikiart_jax.core import (CAPTION_ARTIST, CAPTION_STYLE, CAPTION_TAGS, PERIOD, STYLE_HEDGE,
                              TAGS, TAGS_MASK, TASKS)
from wikiart_jax.models import captioner as captioner_lib
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding
from wikiart_jax.train import accumulation
from wikiart_jax.train import losses
from wikiart_jax.train import metrics as metrics_lib
from wikiart_jax.train import state as state_lib

TrainMetrics = metrics_lib.make_train_metrics(TASKS, scalars=('grad_norm',))
CaptionTrainMetrics = metrics_lib.make_train_metrics(
    TASKS, scalars=('grad_norm', 'caption_loss'))


def head_tasks(params) -> tuple[str, ...]:
  """The tasks a model's parameters have a loss for: TASKS, then 'tags' and 'period'
  when it has those heads."""
  heads = params['heads']
  return TASKS + tuple(t for t in (TAGS, PERIOD) if t in heads)


def train_metrics_class(tasks, captioning: bool):
  """The TrainMetrics of a model with these tasks (tags have a loss, no accuracy)."""
  if tuple(tasks) == TASKS:  # the common shapes, built once at import
    return CaptionTrainMetrics if captioning else TrainMetrics
  return metrics_lib.make_train_metrics(
      [t for t in tasks if t != TAGS],
      scalars=('grad_norm', 'caption_loss') if captioning else ('grad_norm',),
      loss_only=[TAGS] if TAGS in tasks else [])


_CAPTION_LABELS = {'style': CAPTION_STYLE, 'artist': CAPTION_ARTIST}
_SURE_LOGIT = 20.0  # sigmoid(20) = 1 - 2e-9: a tag the labels say is there


def content_from_labels(outputs: dict, batch: dict, *, classes: bool = False) -> dict:
  """The heads' outputs with the tag and period logits replaced, where the labels are
  known, by the labels' (as Tag2Text trains on parsed tags): the captioner learns to
  name exactly the tags and the period its tokens hold, which at inference are the
  heads' own; a target names the labels' tags and period (text/references.py).

  With `classes` (one-hot label tokens, `caption_decoder.label_tokens_top1`) the
  style, artist and genre logits too: at inference those tokens are the heads'
  first choices, one-hot rows like the labels', and a target names the labels'
  classes. Fed the heads' rows instead, the decoder learns (while a head is still
  wrong, and on every train image it gets wrong) to name a class its token does
  not hold: 31% of a demo run's descriptions (with soft tokens) named another
  style than the head's, 0.9% with the labels' rows.

  The tag tokens hold `batch[CAPTION_TAGS]` where present: the tags a target that
  left some out (`data.caption.tag_drop`) may name; with `classes`, the style and
  artist tokens `batch[CAPTION_STYLE]` / `batch[CAPTION_ARTIST]`: the class a
  target names (`data.caption.style_swap` / `artist_swap`).
  """
  out = dict(outputs)
  if classes and STYLE_HEDGE in batch:  # how surely the target words the style
    out[STYLE_HEDGE] = batch[STYLE_HEDGE]
  if classes:
    for task in TASKS:
      if task in outputs and task in batch:
        labels = batch.get(_CAPTION_LABELS.get(task), batch[task])
        one_hot = jax.nn.one_hot(jnp.maximum(labels, 0), outputs[task].shape[-1])
        out[task] = jnp.where((labels >= 0)[:, None], (2 * one_hot - 1) * _SURE_LOGIT,
                              outputs[task]).astype(outputs[task].dtype)
  if TAGS in outputs and TAGS in batch:
    # The tags the target may name: CAPTION_TAGS when it left some present ones out.
    present = (batch.get(CAPTION_TAGS, batch[TAGS]) >= 0.5) & (batch[TAGS_MASK] > 0)
    out[TAGS] = jnp.where(present, _SURE_LOGIT, -_SURE_LOGIT).astype(outputs[TAGS].dtype)
  if PERIOD in outputs and PERIOD in batch:
    bins = batch[PERIOD]
    one_hot = jax.nn.one_hot(jnp.maximum(bins, 0), outputs[PERIOD].shape[-1])
    labelled = (2 * one_hot - 1) * _SURE_LOGIT
    out[PERIOD] = jnp.where((bins >= 0)[:, None], labelled,
                            outputs[PERIOD]).astype(outputs[PERIOD].dtype)
  return out


def _label_counts(batch: dict, style_to_family: np.ndarray | None, tasks=TASKS) -> dict:
  """Valid labels per task over the whole (global) batch: the loss denominators.

  A task with no label in the batch has count 0; its loss is 0 (losses.py). For
  tags, the images with at least one known tag.
  """
  counts = {t: jnp.sum(batch[t] >= 0).astype(jnp.float32) for t in tasks if t != TAGS}
  if TAGS in tasks:
    counts[TAGS] = jnp.sum(jnp.any(batch[TAGS_MASK] > 0, axis=-1)).astype(jnp.float32)
  if style_to_family is not None:
    counts['style_family'] = counts['style']
  if 'caption_mask' in batch:
    # Predicted tokens: the mask shifted by one, as in captioner.caption_loss.
    counts['caption'] = jnp.sum(batch['caption_mask'][:, 1:]).astype(jnp.float32)
  return counts


def make_train_step(parts: parts_lib.ModelParts, tx: optax.GradientTransformation,
                    train_config: ml_collections.ConfigDict,
                    schedule: optax.Schedule, dropout_key: jax.Array,
                    style_to_family: np.ndarray | None = None,
                    trainable=None, state_sharding=None, mesh=None,
                    ) -> Callable[[state_lib.TrainState, dict], tuple]:
  """Returns jit(step)(state, batch) -> (new state, TrainMetrics of this step).

  Args:
    parts: the model's parts (its parameters are the state's, not read here).
    tx: the optimizer of the current stage.
    train_config: `config.train` (loss weights, grad_accum_steps).
    schedule: the learning rate to log (the heads').
    dropout_key: base key, folded with the step (and micro-batch).
    style_to_family: for a hierarchical style head.
    trainable: a pytree of bools like the params; False leaves are not
      differentiated (their update is zero). None: all train.
    state_sharding, mesh: the train state's layout (FSDP) to keep across steps;
      None lets jit follow its inputs.
  """
  accum = int(train_config.grad_accum_steps)
  tasks = head_tasks(parts.params)
  metrics_cls = train_metrics_class(tasks, 'captioner' in parts.params)
  treedef = jax.tree.structure(parts.params)
  mask = ([True] * treedef.num_leaves if trainable is None
          else [bool(t) for t in jax.tree.leaves(trainable)])

  def split(params) -> tuple[list, list]:
    leaves = treedef.flatten_up_to(params)
    return ([x for x, t in zip(leaves, mask) if t],
            [x for x, t in zip(leaves, mask) if not t])

  def join(trained: list, frozen: list):
    trained, frozen = iter(trained), iter(frozen)
    return treedef.unflatten([next(trained) if t else next(frozen) for t in mask])

  def loss_fn(trained, frozen, micro, key, denominators):
    model = parts.merge(join(trained, frozen))
    outputs, aux = model(micro['image'], deterministic=False, rngs=nnx.Rngs(dropout=key))
    loss, per_task = losses.multitask_loss(
        outputs, micro, train_config, style_to_family=style_to_family,
        denominators=denominators)
    means = {t: per_task[t] for t in tasks}
    if model.captioner is not None:
      # Teacher forcing on the backbone's tokens (and the heads' predictions when
      # configured); padding is masked out.
      tokens = getattr(model.captioner, 'label_tokens', None)  # BLIP-2's prompts name the labels
      context = model.captioner.condition(aux['tokens'], content_from_labels(
          outputs, micro, classes=tokens is not None and tokens.top1))
      logits = model.captioner(context, micro['caption_tokens'], deterministic=False,
                               rngs=nnx.Rngs(dropout=jax.random.fold_in(key, 1)))
      total, _ = captioner_lib.caption_loss(
          logits, micro['caption_tokens'], micro['caption_mask'])
      means['caption'] = total / jnp.maximum(denominators['caption'], 1.0)
      loss = loss + train_config.lambda_caption * means['caption']
    return loss, (means, outputs)

  grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

  def train_step(state: state_lib.TrainState, batch: dict):
    denominators = _label_counts(batch, style_to_family, tasks)
    trained, frozen = split(state.params)
    def micro_step(params, micro, key):
      # The frozen weights pass a barrier with the micro-batch, so XLA cannot hoist
      # their casts (to the compute dtype) out of the accumulation loop: hoisted, a
      # cast copy of every frozen weight would stay alive through the whole step.
      frozen_here, micro = jax.lax.optimization_barrier((frozen, micro))
      return grad_fn(params, frozen_here, micro, key, denominators)

    (loss, (means, outputs)), grads = accumulation.accumulate_gradients(
        micro_step if accum > 1 else lambda p, m, k: grad_fn(p, frozen, m, k, denominators),
        trained, batch, accum, jax.random.fold_in(dropout_key, state.step))
    # Frozen leaves: zeros that the optimizer's set_to_zero ignores (XLA folds them);
    # float even for int8 weights, which gradient clipping could not scale.
    grads = join(grads, [jnp.zeros(x.shape, x.dtype if jnp.issubdtype(x.dtype, jnp.floating)
                                   else jnp.float32) for x in frozen])
    updates, opt_state = tx.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    # (sum, count) per task: the means were taken over the batch's label counts.
    task_loss = {t: (means[t] * jnp.maximum(denominators[t], 1.0), denominators[t])
                 for t in tasks}
    extra = {'caption_loss': means['caption']} if 'caption' in means else {}
    metrics = metrics_cls.single_from_model_output(
        loss=loss, learning_rate=schedule(state.step), logits=outputs,
        labels={t: batch[t] for t in tasks if t != TAGS}, task_loss=task_loss,
        grad_norm=optax.global_norm(grads), **extra)
    new_state = state.replace(step=state.step + 1, params=params, opt_state=opt_state)
    return new_state, metrics

  if state_sharding is None:
    return jax.jit(train_step, donate_argnums=0)
  in_shardings, out_shardings = sharding.train_step_shardings(state_sharding, mesh)
  return jax.jit(train_step, donate_argnums=0, in_shardings=in_shardings,
                 out_shardings=out_shardings)
