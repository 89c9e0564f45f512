"""LoRA adapters and int8 weights for a frozen language model (OPT or T5), through qwix.

qwix (google/qwix) rewrites an NNX model's call: with a `LoraProvider` every
matched Linear gains `kernel_lora_a` / `kernel_lora_b` (`nnx.LoRAParam`, the
second zero, so the model starts unchanged) and adds x A B * alpha / rank to its
output; with int8 (`weight_qtype`) the matched kernels are stored quantized
(`kernel/array/{qvalue int8, scale}`) and the matmul reads them so; both together
is QLoRA. Only the intercepted method sees the rewrite, which is why every path
of our language models (teacher forcing, prefill, decode step) runs through
their `__call__`. train/stages.py keeps the language model frozen but for the
adapters. Adapters are kept in float32 whatever the model stores, for AdamW.
"""

from __future__ import annotations

from flax import nnx
import jax
import jax.numpy as jnp

# The attention projections LoRA adapts, by family (module paths inside the LM).
LORA_TARGETS = {'opt': r'.*/(q_proj|k_proj|v_proj|out_proj)$',
                't5': r'.*/(self_attention|cross_attention)/(q|k|v|o)$'}
# What int8 quantizes: every kernel of the LM's blocks (embeddings and the head stay).
INT8_TARGETS = {'opt': r'^layers/.*', 't5': r'^(encoder|decoder)/blocks/.*'}


def _sample_inputs(family: str) -> tuple:
  ids = jnp.zeros((1, 1), jnp.int32)
  return (ids,) if family == 'opt' else (ids, ids)


def adapt(lm: nnx.Module, family: str, *, lora_rank: int = 0, lora_alpha: float = 16.0,
          int8: bool = False, seed: int = 0) -> nnx.Module:
  """`lm` with LoRA adapters on its attention and / or int8 block weights; `lm` if neither.

  Quantize after loading the real weights: int8 rounds the weights it finds.

  Args:
    lm: an OPTForCausalLM or T5ForConditionalGeneration.
    family: 'opt' | 't5'.
    lora_rank: the adapters' rank; 0 = none.
    lora_alpha: their scale is alpha / rank.
    int8: store the blocks' kernels in int8.
    seed: the adapters' initialisation.
  """
  import qwix  # pylint: disable=g-import-not-at-top  (optional: only these runs need it)
  if family not in LORA_TARGETS:
    raise ValueError(f'LoRA / int8 language model family must be opt or t5, got {family!r}')
  if lora_rank < 0:
    raise ValueError(f'model.caption_decoder.lora_rank must be >= 0, got {lora_rank}')
  qtype = jnp.int8 if int8 else None
  if lora_rank:
    rules = [qwix.LoraRule(module_path=LORA_TARGETS[family], rank=lora_rank, alpha=lora_alpha,
                           weight_qtype=qtype)]
    if int8:  # the other block kernels are quantized too, without adapters
      rules.append(qwix.QtRule(module_path=INT8_TARGETS[family], weight_qtype=qtype))
    lm = qwix.apply_lora_to_model(lm, qwix.LoraProvider(rules), *_sample_inputs(family),
                                  rngs=nnx.Rngs(seed))
    lora = nnx.state(lm, nnx.LoRAParam)
    nnx.update(lm, jax.tree.map(lambda x: x.astype(jnp.float32), lora))
  elif int8:
    rules = [qwix.QtRule(module_path=INT8_TARGETS[family], weight_qtype=qtype)]
    lm = qwix.quantize_model(lm, qwix.PtqProvider(rules), *_sample_inputs(family))
  return lm
