"""Self-attention with one fused query/key/value projection, as BLIP-2's EVA ViT-g.

transformers' `Blip2Attention` projects with one `qkv` Linear whose bias is
[q_bias, 0, v_bias]: EVA has no key bias (a key bias shifts every logit of a
query by the same amount, which the softmax ignores, so that third of the bias
also gets no gradient). The ViT builds this instead of its separate projections
with `ViTConfig.qkv='fused'`; the call signature is the ViT's `Attention`'s, so
blocks, remat and attention rollout are shared.

  qkv/{kernel [D, 3D], bias [3D]}  <- self_attn.qkv (q, k, v stacked in that order)
  output/{kernel, bias}            <- self_attn.projection
"""

from flax import nnx
import jax.numpy as jnp

from wikiart_jax.models import attention as attention_lib


class FusedQKVAttention(nnx.Module):
  """Multi-head self-attention: one qkv projection, then `output`."""

  def __init__(self, hidden_size: int, num_heads: int, *, implementation: str, dtype,
               param_dtype, kernel_init, rngs: nnx.Rngs):
    self.num_heads = num_heads
    self.implementation = implementation
    linear = lambda dout: nnx.Linear(hidden_size, dout, dtype=dtype, param_dtype=param_dtype,
                                     kernel_init=kernel_init, rngs=rngs)
    self.qkv = linear(3 * hidden_size)
    self.output = linear(hidden_size)

  def __call__(self, x, *, return_weights=False):
    b, n, d = x.shape
    split = lambda t: t.reshape(b, n, self.num_heads, d // self.num_heads)
    q, k, v = (split(t) for t in jnp.split(self.qkv(x), 3, axis=-1))
    weights = None
    if return_weights:
      out, weights = attention_lib.attention_with_weights(q, k, v)
    else:
      out = attention_lib.dot_product_attention(q, k, v, implementation=self.implementation)
    return self.output(out.reshape(b, n, d)), weights
