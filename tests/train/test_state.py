"""The train state: step 0, the optimizer's state for exactly the parameters, a pytree."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from wikiart_jax.train import state as state_lib


def test_create_starts_at_step_zero_with_the_optimizers_state():
  model = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
  params = nnx.state(model, nnx.Param)
  tx = optax.adam(1e-3)
  state = state_lib.create(params, tx)
  assert state.step.dtype == jnp.int32 and int(state.step) == 0
  assert jax.tree.structure(state.params) == jax.tree.structure(params)
  # Adam's moments have the parameters' structure and start at zero.
  mu = state.opt_state[0].mu
  assert jax.tree.structure(mu) == jax.tree.structure(params)
  assert all(not np.asarray(m).any() for m in jax.tree.leaves(mu))


def test_the_state_is_a_pytree_that_jit_can_carry():
  params = {'w': jnp.ones((2,))}
  state = state_lib.create(params, optax.sgd(0.5))

  @jax.jit
  def step(state):
    grads = {'w': jnp.ones((2,))}
    updates, opt_state = optax.sgd(0.5).update(grads, state.opt_state, state.params)
    return state.replace(step=state.step + 1, params=optax.apply_updates(state.params, updates),
                         opt_state=opt_state)

  state = step(step(state))
  assert int(state.step) == 2
  np.testing.assert_allclose(state.params['w'], [0.0, 0.0])
