"""A model split for the functional hot path: structure, parameters, the rest.

`nnx.split` once, then jit pure functions of the arrays. Everywhere in the
package the three parts travel together in this order, under these names.
"""

import dataclasses
from typing import Any

from flax import nnx


@dataclasses.dataclass(frozen=True)
class ModelParts:
  """(graphdef, params, rest) of an NNX model.

  Attributes:
    graphdef: the model's structure (static under jit).
    params: the `nnx.Param` state: what trains, is donated and checkpointed.
    rest: every other variable (none in our models today, kept for generality).
  """
  graphdef: nnx.GraphDef
  params: nnx.State
  rest: nnx.State

  def merge(self, params: Any = None) -> nnx.Module:
    """The model, with `params` instead of the stored parameters when given."""
    return nnx.merge(self.graphdef, self.params if params is None else params, self.rest)

  def with_params(self, params: Any) -> 'ModelParts':
    return dataclasses.replace(self, params=params)


def split(model: nnx.Module) -> ModelParts:
  """Splits a model into its parts (parameters first among the states)."""
  graphdef, params, rest = nnx.split(model, nnx.Param, ...)
  return ModelParts(graphdef, params, rest)
