"""AdamW per parameter group, with warm-up and cosine decay in each stage.

Groups come from `stages.labels`: 'heads', 'backbone' (or one group per block
with layer-wise decay) and 'frozen'. `optax.multi_transform` gives 'frozen'
`optax.set_to_zero()`, so frozen leaves get a zero update and no optimizer state
(DESIGN.md: `optax.masked` alone would still pass raw gradients through).
"""

import jax
import ml_collections
import optax

from wikiart_jax.train import stages as stages_lib


def make_schedule(train_config: ml_collections.ConfigDict,
                  stage: stages_lib.Stage | None = None,
                  peak: float | None = None) -> optax.Schedule:
  """Learning rate at a step of the stage: linear warm-up, then cosine decay to 0.

  The step counts from the stage's start: optax calls the schedule with its own
  update count, which starts afresh with each stage's new optimizer state.

  Args:
    train_config: `config.train`.
    stage: the stage the schedule spans (default: the whole run).
    peak: peak learning rate (default `train_config.learning_rate`).
  """
  stage = stage or stages_lib.Stage(0, train_config.num_steps, -1)
  length = max(stage.end - stage.start, 1)
  warmup = (train_config.warmup_steps if stage.start == 0
            else train_config.stage_warmup_steps)
  warmup = min(warmup, length - 1)
  return optax.warmup_cosine_decay_schedule(
      init_value=0.0, peak_value=train_config.learning_rate if peak is None else peak,
      warmup_steps=warmup, decay_steps=max(length, warmup + 1), end_value=0.0)


def group_peak(train_config: ml_collections.ConfigDict, group: str,
               num_layers: int) -> float:
  """Peak learning rate of a group: heads, backbone (x layer-wise decay)."""
  if group == stages_lib.HEADS:
    return train_config.learning_rate
  backbone = train_config.backbone_learning_rate
  backbone = train_config.learning_rate if backbone is None else backbone
  return backbone * stages_lib.learning_rate_scale(group, num_layers, train_config.layer_decay)


def make_optimizer(train_config: ml_collections.ConfigDict, params,
                   stage: stages_lib.Stage | None = None, num_layers: int = 0,
                   ) -> optax.GradientTransformation:
  """Clipping, then AdamW per trainable group and zero updates for frozen leaves."""
  stage = stage or stages_lib.Stage(0, train_config.num_steps, -1)
  labels = stages_lib.labels(params, stage, num_layers, train_config.layer_decay)
  transforms = {}
  for group in sorted(set(jax.tree.leaves(labels))):
    if group == stages_lib.FROZEN:
      transforms[group] = optax.set_to_zero()
    else:
      schedule = make_schedule(train_config, stage,
                               group_peak(train_config, group, num_layers))
      transforms[group] = optax.adamw(
          schedule, weight_decay=train_config.weight_decay,
          mu_dtype=train_config.adam_mu_dtype or None)  # '' = float32
  # Always in the chain (inf = off) so the state's structure, and so resuming,
  # does not depend on the setting. Frozen leaves have zero gradients: no effect.
  clip = optax.clip_by_global_norm(train_config.grad_clip_norm or float('inf'))
  return optax.chain(clip, optax.multi_transform(transforms, labels))
