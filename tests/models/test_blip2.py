"""BLIP-2's own behaviour (its logits equal transformers': tests/convert/test_blip2.py):
its tower's pooled output, the queries as the language model's prefix, its checks."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from wikiart_jax.models.blip2 import Blip2Config, Blip2ForConditionalGeneration
from wikiart_jax.models.opt import OPTConfig
from wikiart_jax.models.qformer import QFormerConfig
from wikiart_jax.models.t5 import T5Config
from wikiart_jax.models.vit import ViT, ViTConfig

VISION = ViTConfig(image_size=28, patch_size=14, hidden_size=16, num_layers=1, num_heads=2,
                   mlp_dim=16, qkv='fused', pooler='norm')
QFORMER = QFormerConfig(hidden_size=16, num_layers=2, num_heads=2, mlp_dim=24,
                        encoder_hidden_size=16)
TEXT = {'opt': OPTConfig(vocab_size=50, hidden_size=12, num_layers=1, num_heads=2, ffn_dim=24,
                         max_position_embeddings=20),
        't5': T5Config(vocab_size=50, d_model=12, d_kv=6, d_ff=24, num_layers=1,
                       num_decoder_layers=1, num_heads=2, relative_attention_num_buckets=8,
                       relative_attention_max_distance=16)}
Q = 3


def _model(family):
  cfg = Blip2Config(vision=VISION, qformer=QFORMER, text=TEXT[family], num_query_tokens=Q)
  model = Blip2ForConditionalGeneration(cfg, rngs=nnx.Rngs(0))
  # transformers starts the queries at zero; trained ones differ from each other.
  model.query_tokens[...] = jax.random.normal(jax.random.key(5), model.query_tokens.shape)
  return model


def _images(seed=1):
  return jax.random.normal(jax.random.key(seed), (2, 28, 28, 3))


def test_the_towers_pooled_output_is_its_cls_token_normalised_again():
  tower = ViT(VISION, rngs=nnx.Rngs(0))  # the tower BLIP-2 builds
  # At its initial scale 1 and bias 0, a LayerNorm twice is once: make it a real one.
  scale, bias = jax.random.normal(jax.random.key(3), (2, 16))
  tower.layernorm.scale[...], tower.layernorm.bias[...] = scale + 2.0, bias
  out = tower(_images())
  assert out.tokens.shape == (2, 5, 16)  # CLS + 4 patches, every token normalised
  np.testing.assert_allclose(out.pooled, tower.layernorm(out.tokens[:, 0]), atol=1e-6)
  assert not np.allclose(out.pooled, out.tokens[:, 0], atol=1e-3)


@pytest.mark.parametrize('family', ['opt', 't5'])
def test_the_queries_are_the_language_models_prefix(family):
  model = _model(family)
  tokens = model.encode_images(_images())
  prefix = model.query_embeds(tokens)
  assert prefix.shape == (2, Q, 12)  # num_query_tokens x the language model's width
  other = model.query_embeds(model.encode_images(_images(2)))
  assert not np.allclose(other, prefix, atol=1e-3)  # the queries read the image
  ids = jnp.array([[2, 7, 8, 9], [2, 10, 11, 12]])
  lm = model.language_model
  if family == 'opt':
    logits = model(ids, images=_images())
    assert logits.shape == (2, Q + 4, 50)
    np.testing.assert_allclose(logits, lm(ids, prefix_embeds=prefix)[0], atol=1e-5)
    text = model(ids, image_tokens=tokens, text_logits_only=True)
    np.testing.assert_allclose(text, logits[:, Q:], atol=1e-5)
  else:
    dec = jnp.array([[0, 5], [0, 6]])
    logits = model(ids, images=_images(), decoder_input_ids=dec)
    assert logits.shape == (2, 2, 50)
    np.testing.assert_allclose(
        logits, lm(ids, dec, prefix_embeds=prefix)[0], atol=1e-5)
    with pytest.raises(ValueError, match='a T5 BLIP-2 needs decoder_input_ids'):
      model(ids, images=_images())


def test_bad_input_is_refused():
  model = _model('opt')
  ids = jnp.array([[2, 7]])
  with pytest.raises(ValueError, match='pass images or image_tokens'):
    model(ids)
  with pytest.raises(ValueError, match='pass images or image_tokens'):
    model(ids, images=_images()[:1], image_tokens=jnp.zeros((1, 5, 16)))
  with pytest.raises(ValueError, match='needs images or image tokens to generate'):
    model.prefill(ids, model.init_cache(1, 5, 4))
  with pytest.raises(ValueError, match="qkv='fused', pooler='norm'"):
    Blip2ForConditionalGeneration(
        Blip2Config(vision=dataclasses.replace(VISION, qkv='separate'), qformer=QFORMER,
                    text=TEXT['opt'], num_query_tokens=Q), rngs=nnx.Rngs(0))
  assert model.init_cache(1, 5, 4).keys[0].shape[2] == Q + 4  # [B, heads, S, head_dim]: the Q query slots, then text
