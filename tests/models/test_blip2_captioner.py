"""The BLIP-2 captioner: its context, its caption rows' teacher forcing, its length check."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from wikiart_jax.models.blip2 import Blip2Config
from wikiart_jax.models.blip2_captioner import Blip2Captioner
from wikiart_jax.models.opt import OPTConfig
from wikiart_jax.models.qformer import QFormerConfig
from wikiart_jax.models.t5 import T5Config
from wikiart_jax.models.vit import ViTConfig

VISION = ViTConfig(image_size=28, patch_size=14, hidden_size=16, num_layers=1, num_heads=2,
                   mlp_dim=16, qkv='fused', pooler='norm')
QFORMER = QFormerConfig(hidden_size=16, num_layers=2, num_heads=2, mlp_dim=24,
                        encoder_hidden_size=16)
TEXT = {'opt': OPTConfig(vocab_size=50, hidden_size=16, num_layers=2, num_heads=2, ffn_dim=24,
                         max_position_embeddings=20),
        't5': T5Config(vocab_size=50, d_model=16, d_kv=8, d_ff=24, num_layers=2,
                       num_decoder_layers=2, num_heads=2, relative_attention_num_buckets=8,
                       relative_attention_max_distance=16)}
EOS = 2


def _captioner(family, abstract=False):
  cfg = Blip2Config(vision=VISION, qformer=QFORMER, text=TEXT[family], num_query_tokens=3,
                    bos_token_id=1, eos_token_id=EOS, pad_token_id=0)
  make = lambda: Blip2Captioner(cfg, rngs=nnx.Rngs(0))
  return nnx.eval_shape(make) if abstract else make()  # shapes suffice where no weight is read


def test_context_carries_the_heads_top_one_labels():
  captioner = _captioner('opt', abstract=True)
  tokens = np.ones((2, 5, 16), np.float32)
  logits = {'style': np.array([[0., 3., 1.], [5., 0., 0.]]), 'genre': np.array([[0., 1.],
                                                                                [2., 0.]])}
  context = captioner.condition(tokens, logits)
  np.testing.assert_array_equal(context.labels, [[1, -1, 1], [0, -1, 0]])  # no artist head
  assert context.image_tokens is tokens


def test_t5_rows_decode_their_description_in_place():
  """[prompt, EOS, description, EOS, pad]: the logits from the description's start on
  are those of decoding [start, description] from slot 0 after encoding the prompt."""
  tokens = jax.random.normal(jax.random.key(0), (2, 5, 16))
  rows = jnp.array([[7, 8, 9, EOS, 11, 12, 13, EOS, 0, 0],
                    [7, 8, EOS, 21, 22, 23, 24, EOS, 0, 0]])
  starts = (3, 2)  # each row's prompt EOS

  @nnx.jit
  def both(captioner):
    rows_logits = captioner(captioner.condition(tokens), rows)
    alone = []
    for b, start in enumerate(starts):
      dec = jnp.concatenate([jnp.zeros((1, 1), jnp.int32), rows[b:b + 1, start + 1:start + 5]],
                            1)
      alone.append(captioner.decoder.forward(tokens[b:b + 1], rows[b:b + 1, :start + 1],
                                             decoder_input_ids=dec)[0])
    return rows_logits, alone

  got, alone = both(_captioner('t5'))
  for b, start in enumerate(starts):
    np.testing.assert_allclose(got[b, start:start + 5], alone[b], atol=1e-5)
  assert np.isfinite(np.asarray(got)).all()  # masked slots stay finite (their loss is 0)


def test_opt_rows_are_the_text_after_the_queries():
  tokens = jax.random.normal(jax.random.key(1), (1, 5, 16))
  rows = jnp.array([[1, 7, 8, 9, 10, EOS, 0]])
  got, want = nnx.jit(lambda c: (c(c.condition(tokens), rows),
                                 c.decoder.forward(tokens, rows, text_logits_only=True)))(
                                     _captioner('opt'))
  np.testing.assert_array_equal(got, want)


def test_rows_longer_than_opts_positions_are_refused():
  captioner = _captioner('opt', abstract=True)
  captioner.check_length(17)  # 3 queries + 17 = 20 positions
  with pytest.raises(ValueError, match='3 query tokens \\+ data.caption.max_len=18 exceed '
                                       "OPT's 20 positions"):
    captioner.check_length(18)
  assert _captioner('t5', abstract=True).text_positions is None  # relative positions: no table to outrun

