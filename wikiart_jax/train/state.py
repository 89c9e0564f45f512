"""The train state: an explicit step, the parameters and the optimizer state.

The model's structure (graphdef) stays outside the state: the hot path is pure
functions of (state, batch), and only arrays are donated, saved and restored.
"""

import flax
import jax
import jax.numpy as jnp
import optax
from flax import nnx


@flax.struct.dataclass
class TrainState:
  """What a checkpoint holds for the model; the step is ours, never optax's."""
  step: jax.Array
  params: nnx.State
  opt_state: optax.OptState


def create(params: nnx.State, tx: optax.GradientTransformation) -> TrainState:
  return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                    opt_state=tx.init(params))
