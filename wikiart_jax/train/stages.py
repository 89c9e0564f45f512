"""Staged unfreezing: which parameters train when, at which learning rate.

`config.train.stages` lists the stages as `start:what` items, e.g.
`'0:heads, 2000:last4'`: heads only from step 0 (backbone frozen), then the last
4 blocks of the backbone (and its final norm and pooler) from step 2000. `what` is
`heads`, `last<K>` or `all`; with `train.stage_unit='epoch'` the starts count
epochs. An empty string is one stage that trains everything.

Each parameter gets a group label: 'heads', 'backbone' (or 'backbone_<i>' with
layer-wise decay) or 'frozen'. A BLIP-2 captioner's language model is frozen in
every stage (only LoRA adapters on it train, with the heads); its Q-Former,
projection and query tokens train with the heads. The optimizer gives each group its own AdamW and
learning rate and gives 'frozen' `optax.set_to_zero()` (no state); the train step
stops gradients at frozen parameters, so no backward pass runs through them.
"""

import dataclasses
import re

import jax
import ml_collections

FROZEN = 'frozen'
HEADS = 'heads'
BACKBONE = 'backbone'
_ITEM = re.compile(r'^\s*(\d+)\s*:\s*(heads|all|last(\d+))\s*$')
_LAYER = re.compile(r'^backbone/layers/(\d+)/')
# Frozen whatever the stage: BLIP-2's language model (models/blip2_captioner.py),
# except the LoRA adapters qwix adds next to its kernels (`kernel_lora_a` / `_b`).
_ALWAYS_FROZEN = 'captioner/decoder/language_model/'
_ADAPTER = re.compile(r'_lora_[ab]$')


@dataclasses.dataclass(frozen=True)
class Stage:
  """One stage: trains from `start` (a step) to `end`.

  Attributes:
    start: first step of the stage.
    end: first step of the next stage (or the run's num_steps).
    blocks: backbone blocks trained: 0 none (heads only), K the last K, -1 all.
  """
  start: int
  end: int
  blocks: int


def parse(train_config: ml_collections.ConfigDict, steps_per_epoch: int = 1) -> list[Stage]:
  """The stages of a run, in order, as steps; raises ValueError on a bad spec."""
  spec = train_config.stages
  unit = steps_per_epoch if train_config.stage_unit == 'epoch' else 1
  if not spec.strip():
    return [Stage(0, train_config.num_steps, -1)]
  starts, blocks = [], []
  for item in spec.split(','):
    match = _ITEM.match(item)
    if not match:
      raise ValueError(f"train.stages: cannot read {item.strip()!r}; expected "
                       "'<start>:heads', '<start>:last<K>' or '<start>:all'")
    starts.append(int(match.group(1)) * unit)
    what = match.group(2)
    blocks.append(0 if what == 'heads' else -1 if what == 'all' else int(match.group(3)))
  if starts[0] != 0 or starts != sorted(set(starts)):
    raise ValueError(f'train.stages: starts must begin at 0 and increase, got {spec!r}')
  ends = starts[1:] + [max(train_config.num_steps, starts[-1] + 1)]
  return [Stage(s, e, b) for s, e, b in zip(starts, ends, blocks)]


def index_at(stages: list[Stage], step: int) -> int:
  """The stage that step `step` belongs to."""
  return max(i for i, stage in enumerate(stages) if stage.start <= step)


def group(name: str, stage: Stage, num_layers: int, layer_decay: float) -> str:
  """The optimizer group of the parameter at path `name` during `stage`."""
  if name.startswith(_ALWAYS_FROZEN):
    return HEADS if _ADAPTER.search(name) else FROZEN
  if not name.startswith('backbone/'):
    return HEADS
  if stage.blocks == 0:
    return FROZEN
  layer = _LAYER.match(name)
  if stage.blocks > 0:
    first = num_layers - stage.blocks
    # Embeddings and the pre-norm feed the first block: frozen unless all train.
    trainable = (int(layer.group(1)) >= first if layer
                 else not name.startswith(('backbone/embeddings', 'backbone/pre_layernorm')))
    if not trainable:
      return FROZEN
  if layer_decay == 1.0:
    return BACKBONE
  if layer:
    return f'{BACKBONE}_{layer.group(1)}'
  depth = 0 if name.startswith(('backbone/embeddings', 'backbone/pre_layernorm')) else num_layers
  return f'{BACKBONE}_{depth - 1}' if depth else f'{BACKBONE}_embed'


def learning_rate_scale(group_name: str, num_layers: int, layer_decay: float) -> float:
  """Layer-wise decay: block i gets decay**(num_layers - 1 - i), embeddings the most."""
  if group_name in (HEADS, BACKBONE):
    return 1.0
  suffix = group_name[len(BACKBONE) + 1:]
  depth = -1 if suffix == 'embed' else int(suffix)
  return layer_decay ** (num_layers - 1 - depth)


def path_name(path: tuple) -> str:
  """'backbone/layers/0/mlp/fc1/kernel' for a pytree key path."""
  if path and isinstance(path[-1], jax.tree_util.GetAttrKey) and path[-1].name == 'value':
    path = path[:-1]  # an nnx.Variable's array sits under its `.value`
  parts = []
  for key in path:
    for attr in ('key', 'name', 'idx'):
      if hasattr(key, attr):
        parts.append(str(getattr(key, attr)))
        break
    else:
      parts.append(str(key))
  return '/'.join(parts)


def labels(params, stage: Stage, num_layers: int, layer_decay: float = 1.0):
  """A pytree like `params` with each leaf's group name."""
  return jax.tree_util.tree_map_with_path(
      lambda path, _: group(path_name(path), stage, num_layers, layer_decay), params)


def trainable_mask(group_labels):
  """True where a leaf trains (for stop_gradient in the step)."""
  return jax.tree.map(lambda g: g != FROZEN, group_labels)
