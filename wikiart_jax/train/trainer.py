"""The trainer set-up of a run: the optimizer, the jitted step and the state of each stage.

One `Trainer` serves the training loop and `mode=bench`, so bench times the step
a run really takes: its stages (staged unfreezing: frozen parameters get no
gradient and no optimizer state), its accumulation and its sharding.
"""

import jax
import ml_collections
import numpy as np

from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding
from wikiart_jax.train import optimizer
from wikiart_jax.train import stages as stages_lib
from wikiart_jax.train import state as state_lib
from wikiart_jax.train import step as step_lib


class Trainer:
  """The optimizer and the jitted step of the current unfreezing stage."""

  def __init__(self, config: ml_collections.ConfigDict, parts: parts_lib.ModelParts, mesh, *,
               num_layers: int, steps_per_epoch: int = 1,
               style_to_family: np.ndarray | None = None):
    """Args:
      config: the run's config (train section, seed).
      parts: the model's parts; their parameters are the template of the state.
      mesh: where the state lives (`train.fsdp` shards it).
      num_layers: the backbone's blocks (for `last<K>` stages and layer decay).
      steps_per_epoch: for `train.stage_unit='epoch'`.
      style_to_family: for a hierarchical style head.
    """
    self._config = config
    self._mesh = mesh
    # Shapes only: the trainer must not keep the initial parameters alive.
    self._parts = parts.with_params(jax.eval_shape(lambda p: p, parts.params))
    self._style_to_family = style_to_family
    self.num_layers = num_layers
    self.stages = stages_lib.parse(config.train, steps_per_epoch)
    self.index = None
    self.tx = self.step_fn = self.schedule = self.state_sharding = None

  def enter(self, index: int) -> None:
    """Builds the optimizer and the step of stage `index`."""
    cfg = self._config.train
    stage = self.stages[index]
    params = self._parts.params
    self.index = index
    self.tx = optimizer.make_optimizer(cfg, params, stage, self.num_layers)
    stage_schedule = optimizer.make_schedule(cfg, stage)
    self.schedule = lambda step: stage_schedule(step - stage.start)  # global step
    labels = stages_lib.labels(params, stage, self.num_layers, cfg.layer_decay)
    all_train = all(g != stages_lib.FROZEN for g in jax.tree.leaves(labels))
    self.state_sharding = sharding.state_shardings(
        jax.eval_shape(lambda p: state_lib.create(p, self.tx), params), self._mesh)
    self.step_fn = step_lib.make_train_step(
        self._parts, self.tx, cfg, self.schedule,
        dropout_key=jax.random.key(self._config.seed + 1),
        style_to_family=self._style_to_family,
        trainable=None if all_train else stages_lib.trainable_mask(labels),
        state_sharding=self.state_sharding, mesh=self._mesh)

  def init_state(self, params) -> state_lib.TrainState:
    """A fresh state of the current stage (step 0), laid out on the mesh."""
    return jax.device_put(state_lib.create(params, self.tx), self.state_sharding)

  def abstract_state(self):
    """Shapes, dtypes and shardings of the current stage's state: a restore's template."""
    shapes = jax.eval_shape(lambda p: state_lib.create(p, self.tx), self._parts.params)
    return jax.tree.map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s),
                        shapes, self.state_sharding)

  def reset_optimizer(self, state: state_lib.TrainState) -> state_lib.TrainState:
    """`state` with a fresh optimizer state for the current stage's trainable set."""
    return jax.device_put(state.replace(opt_state=self.tx.init(state.params)),
                          self.state_sharding)

  def describe(self) -> str:
    stage = self.stages[self.index]
    what = {0: 'the heads (backbone frozen)', -1: 'every parameter'}.get(
        stage.blocks, f'the heads and the last {stage.blocks} blocks')
    return f'stage {self.index + 1}/{len(self.stages)} from step {stage.start}: training {what}'
