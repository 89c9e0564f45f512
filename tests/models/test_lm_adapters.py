"""LoRA adapters and int8 weights on a frozen language model (qwix), OPT and T5."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from wikiart_jax.inference import generate as gen
from wikiart_jax.models import lm_adapters
from wikiart_jax.models.opt import OPTConfig, OPTForCausalLM
from wikiart_jax.models.t5 import T5Config, T5ForConditionalGeneration
from wikiart_jax.train import stages

pytest.importorskip('qwix')

LMS = {'opt': lambda: OPTForCausalLM(OPTConfig(
           vocab_size=40, hidden_size=16, num_layers=2, num_heads=2, ffn_dim=24,
           max_position_embeddings=32, tie_word_embeddings=False), rngs=nnx.Rngs(0)),
       't5': lambda: T5ForConditionalGeneration(T5Config(
           vocab_size=40, d_model=16, d_kv=8, d_ff=24, num_layers=2, num_decoder_layers=2,
           num_heads=2, relative_attention_num_buckets=8, relative_attention_max_distance=16),
           rngs=nnx.Rngs(0))}
PROMPT = np.array([[3, 4, 5], [6, 7, 8]])


def _tokens(lm):
  """Greedy decoding: the prefill and the cached steps, both through the adapters."""
  return np.asarray(gen.generate(lm, PROMPT, max_new_tokens=5, eos_id=-1, pad_id=0))


@pytest.mark.parametrize('family', ['opt', 't5'])
def test_lora_starts_as_the_model_and_acts_on_every_path(family):
  base = LMS[family]()
  lm = lm_adapters.adapt(base, family, lora_rank=2, lora_alpha=4.0)
  adapters = {stages.path_name(p): v for p, v in
              jax.tree_util.tree_flatten_with_path(nnx.state(lm, nnx.LoRAParam))[0]}
  # A and B of q, k, v, o: OPT's 2 layers; T5's 2 encoder blocks, 2 decoder blocks x 2.
  assert len(adapters) == {'opt': 2 * 2 * 4, 't5': 2 * (2 * 4 + 2 * 8)}[family]
  assert all(v.dtype == jnp.float32 for v in adapters.values())
  np.testing.assert_array_equal(_tokens(lm), _tokens(base))  # B = 0: unchanged
  # Adapters that do something change the decoding: they are on the cached path too.
  lora = nnx.state(lm, nnx.LoRAParam)  # random: a constant A sums a normalised input to 0
  keys = iter(jax.random.split(jax.random.key(0), len(jax.tree.leaves(lora))))
  nnx.update(lm, jax.tree.map(lambda x: jax.random.normal(next(keys), x.shape), lora))
  assert not np.array_equal(_tokens(lm), _tokens(base))
  # Training: only the adapters of the language model leave the frozen group.
  for name in adapters:
    assert stages.group('captioner/decoder/language_model/' + name, stages.Stage(0, 1, 0), 1, 1.0) \
        == stages.HEADS
  assert stages.group('captioner/decoder/language_model/layers/0/fc1/kernel',
                      stages.Stage(0, 1, -1), 1, 1.0) == stages.FROZEN


@pytest.mark.parametrize('family', ['opt', 't5'])
def test_int8_stores_the_blocks_in_int8_and_decodes(family):
  base = LMS[family]()
  lm = lm_adapters.adapt(base, family, int8=True)
  leaves = {stages.path_name(p): v for p, v in
            jax.tree_util.tree_flatten_with_path(nnx.state(lm, nnx.Param))[0]}
  quantized = [n for n, v in leaves.items() if v.dtype == jnp.int8]
  assert quantized and all('/blocks/' in n or n.startswith('layers/') for n in quantized)
  assert _tokens(lm).shape == (2, 5)
  # Rounding the weights to int8 moves the logits a little, not a lot.
  ids = jnp.asarray(PROMPT)
  args = (ids,) if family == 'opt' else (ids, ids)
  want, got = base(*args)[0], lm(*args)[0]
  assert float(jnp.abs(got - want).max()) < 0.1 * float(jnp.abs(want).max())
