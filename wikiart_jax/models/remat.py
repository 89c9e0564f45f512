"""Rematerialisation policies shared by every stack of blocks (ViT, OPT, T5).

Remat trades compute for activation memory: 'full' recomputes each block in the
backward pass; 'dots' keeps the matmul outputs and recomputes the cheap
elementwise work (softmax, GELU, LayerNorm). A frozen language model that a
prefix is trained through (BLIP-2) needs its backward pass but none of its
weights' gradients: its activations are what remat saves.
"""

import jax

POLICIES = {
    'none': None,
    'full': jax.checkpoint_policies.nothing_saveable,
    'dots': jax.checkpoint_policies.dots_with_no_batch_dims_saveable,
}


def check(remat: str, field: str = 'model.remat') -> str:
  """`remat` if it names a policy, else a ValueError naming the field."""
  if remat not in POLICIES:
    raise ValueError(f'{field} must be one of {sorted(POLICIES)}, got {remat!r}')
  return remat
