"""BLIP-2 (Flax NNX), laid out as transformers' `Blip2ForConditionalGeneration`.

    images -> vision_model: our ViT with qkv='fused', pooler='norm' (EVA ViT-g, as
              `Blip2VisionModel`) -> its last hidden state, the image tokens [B, N, E]
           -> query_tokens [1, Q, D] through the Q-Former (models/qformer.py),
              cross-attending the image tokens -> language_projection -> [B, Q, D_lm]
           -> the language model's prefix: OPT (models/opt.py) reads [queries; prompt]
              and continues it; T5 (models/t5.py) encodes [queries; prompt] once and
              its decoder writes.

`Blip2Decoder` is everything after the image tower: the captioner
(models/blip2_captioner.py) feeds it the shared backbone's tokens, the
standalone `Blip2ForConditionalGeneration` its own tower's. Both offer the text
models' decoding interface (`init_cache` / `prefill` / `decode_step`, with the
image tokens as `context`), so inference/generate.py decodes them with a KV
cache: OPT's cache holds the Q query slots then the text, T5's holds the
decoder's tokens and the encoder's cross-attention keys and values.

Checkpoint keys: `vision_model.*` (convert/blip2.py), `query_tokens`,
`qformer.*`, `language_projection`, `language_model.*` (convert/opt.py, convert/t5.py).
"""

from __future__ import annotations

import dataclasses

from flax import nnx
import jax
import jax.numpy as jnp

from wikiart_jax.models.opt import OPTConfig, OPTForCausalLM
from wikiart_jax.models.qformer import QFormer, QFormerConfig
from wikiart_jax.models.t5 import T5Config, T5ForConditionalGeneration
from wikiart_jax.models.vit import ViT, ViTConfig

FAMILIES = ('opt', 't5')


@dataclasses.dataclass(frozen=True)
class Blip2Config:
  """The parts' sizes; `vision` may be a placeholder where the tower is elsewhere."""
  vision: ViTConfig
  qformer: QFormerConfig
  text: OPTConfig | T5Config
  num_query_tokens: int = 32
  # The language model's special ids (its text_config's): the prompt's first token
  # (OPT), the end of a description (and of T5's prompt), the padding.
  bos_token_id: int = 2
  eos_token_id: int = 2
  pad_token_id: int = 1

  @property
  def family(self) -> str:
    """'opt' (decoder-only) or 't5' (encoder-decoder)."""
    return 'opt' if isinstance(self.text, OPTConfig) else 't5'


class Blip2Decoder(nnx.Module):
  """Query tokens, Q-Former, language projection and language model."""

  def __init__(self, cfg: Blip2Config, *, rngs: nnx.Rngs):
    self.config = cfg
    self._init_decoder(cfg, rngs)

  def _init_decoder(self, cfg: Blip2Config, rngs: nnx.Rngs) -> None:
    width = cfg.qformer.hidden_size
    # transformers starts the queries at zero; the released ones are trained.
    self.query_tokens = nnx.Param(jnp.zeros((1, cfg.num_query_tokens, width)))
    self.qformer = QFormer(cfg.qformer, rngs=rngs)
    lm_width = cfg.text.hidden_size if cfg.family == 'opt' else cfg.text.d_model
    self.language_projection = nnx.Linear(width, lm_width, dtype=cfg.text.dtype, rngs=rngs)
    self.language_model = (OPTForCausalLM(cfg.text, rngs=rngs) if cfg.family == 'opt'
                           else T5ForConditionalGeneration(cfg.text, rngs=rngs))

  @property
  def family(self) -> str:
    return self.config.family

  def query_embeds(self, image_tokens: jax.Array, *, deterministic: bool = True,
                   rngs: nnx.Rngs | None = None) -> jax.Array:
    """Image tokens [B, N, E] -> the language model's prefix [B, Q, D_lm]."""
    queries = jnp.broadcast_to(self.query_tokens[...],
                               (image_tokens.shape[0],) + self.query_tokens.shape[1:])
    out = self.qformer(queries, image_tokens, deterministic=deterministic, rngs=rngs)
    return self.language_projection(out)

  def forward(self, image_tokens: jax.Array, input_ids: jax.Array, *,
              attention_mask: jax.Array | None = None,
              decoder_input_ids: jax.Array | None = None,
              decoder_attention_mask: jax.Array | None = None, deterministic: bool = True,
              rngs: nnx.Rngs | None = None, text_logits_only: bool = False) -> jax.Array:
    """Teacher forcing on image tokens: logits float32.

    OPT: [B, Q + T, vocab] over the queries then the text (text only with
    `text_logits_only`); T5: [B, T_dec, vocab] of `decoder_input_ids`, the
    encoder reading [queries; input_ids].
    """
    prefix = self.query_embeds(image_tokens, deterministic=deterministic, rngs=rngs)
    lm = self.language_model
    if self.family == 'opt':
      logits, _ = lm(input_ids, prefix_embeds=prefix, attention_mask=attention_mask,
                     deterministic=deterministic, rngs=rngs, text_logits_only=text_logits_only)
      return logits
    if decoder_input_ids is None:
      raise ValueError('a T5 BLIP-2 needs decoder_input_ids for teacher forcing')
    logits, _ = lm(input_ids, decoder_input_ids, prefix_embeds=prefix,
                   attention_mask=attention_mask, decoder_attention_mask=decoder_attention_mask,
                   deterministic=deterministic, rngs=rngs)
    return logits

  def __call__(self, input_ids: jax.Array, *, image_tokens: jax.Array, **kwargs) -> jax.Array:
    """`forward` with the image tokens as a keyword."""
    return self.forward(image_tokens, input_ids, **kwargs)

  def init_cache(self, batch_size: int, context_length: int, text_length: int, dtype=None):
    """The language model's cache: the Q query slots (whatever `context_length`, the
    image tokens, is) and `text_length` text slots."""
    del context_length  # the Q-Former turns any number of image tokens into Q queries
    return self.language_model.init_cache(batch_size, self.config.num_query_tokens,
                                          text_length, dtype)

  def prefill(self, input_ids: jax.Array, cache, *, context: jax.Array | None = None,
              attention_mask: jax.Array | None = None):
    """Feeds the image tokens `context` [B, N, E] (as Q query embeddings) and the prompt:
    (logits [B, T, vocab] of the prompt (T5: of the decoder start token), cache)."""
    if context is None:
      raise ValueError('BLIP-2 needs images or image tokens to generate from')
    return self.language_model.prefill(input_ids, cache, context=self.query_embeds(context),
                                       attention_mask=attention_mask)

  def decode_step(self, input_ids: jax.Array, cache):
    """Appends [B, T] tokens: (logits [B, T, vocab], cache)."""
    return self.language_model.decode_step(input_ids, cache)


class Blip2ForConditionalGeneration(Blip2Decoder):
  """BLIP-2 with its own image tower."""

  def __init__(self, cfg: Blip2Config, *, rngs: nnx.Rngs):  # pylint: disable=super-init-not-called
    if cfg.vision.qkv != 'fused' or cfg.vision.pooler != 'norm' or cfg.vision.final_norm != 'all':
      raise ValueError("BLIP-2's image tower is a ViT with qkv='fused', pooler='norm', "
                       "final_norm='all'")
    self.config = cfg
    self.vision_model = ViT(cfg.vision, rngs=rngs)
    self._init_decoder(cfg, rngs)

  def encode_images(self, images: jax.Array) -> jax.Array:
    """Normalised images [B, S, S, 3] -> image tokens [B, N, E] (the tower's last hidden state)."""
    return self.vision_model(images).tokens

  def __call__(self, input_ids: jax.Array, *, images: jax.Array | None = None,
               image_tokens: jax.Array | None = None, **kwargs) -> jax.Array:
    """Teacher forcing on images (or their tokens); see `Blip2Decoder.forward`."""
    if (images is None) == (image_tokens is None):
      raise ValueError('pass images or image_tokens (one of them)')
    if images is not None:
      image_tokens = self.encode_images(images)
    return self.forward(image_tokens, input_ids, **kwargs)
