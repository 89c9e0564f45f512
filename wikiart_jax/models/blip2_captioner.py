"""BLIP-2 as our classifier's captioner (`config.model.captioner='blip2'`).

The classifier's backbone is BLIP-2's image tower (a ViT with qkv='fused',
pooler='norm'); its heads read the pooled output; this captioner is the rest of
BLIP-2 (`Blip2Decoder`: query tokens, Q-Former, projection, language model),
fed the backbone's tokens. `condition` returns a `Blip2Context`: those tokens and
the heads' top-1 labels, which the caption writer (inference/describer.py) puts
in the prompt as text (text/prompts.py), so the description agrees with them.

Caption rows (data/caption_targets.py with a BLIP-2 prompt) hold the prompt and
the description, the loss mask on the description:

  OPT: [BOS, prompt..., description..., EOS, pad...]; the queries are its prefix.
  T5:  [prompt..., EOS, description..., EOS, pad...]; the encoder reads the queries
       and the row up to its first EOS, the decoder the rest, with the decoder
       start token in that EOS's place. T5's positions are relative, so decoding
       the description in place (the slots before the start masked) equals
       decoding it from slot 0, and the logits line up with the row.
"""

from __future__ import annotations

import flax.struct
from flax import nnx
import jax
import jax.numpy as jnp

from wikiart_jax.core import TASKS
from wikiart_jax.models.blip2 import Blip2Config, Blip2Decoder
from wikiart_jax.text import prompts


@flax.struct.dataclass
class Blip2Context:
  """What a BLIP-2 captioner writes from.

  Attributes:
    image_tokens: [B, N, E] the image tower's last hidden state.
    labels: [B, len(TASKS)] int32 the heads' top-1 class per task, TASKS order.
  """
  image_tokens: jax.Array
  labels: jax.Array


class Blip2Captioner(nnx.Module):
  """A `Blip2Decoder` on the classifier's backbone tokens."""

  kind = 'blip2'

  def __init__(self, cfg: Blip2Config, *, rngs: nnx.Rngs):
    """Builds the decoder with random weights (the factory loads the checkpoint).

    Args:
      cfg: the BLIP-2 sizes (`vision` is unused: the tower is the classifier's).
      rngs: parameter initialisation keys.
    """
    self.decoder = Blip2Decoder(cfg, rngs=rngs)
    self.family = cfg.family
    self.framing = prompts.Framing(cfg.family, bos=cfg.bos_token_id, eos=cfg.eos_token_id,
                                   pad=cfg.pad_token_id)
    self.vocab_size = cfg.text.vocab_size
    # OPT pads a batch of prompts on the left (its positions skip the padding);
    # T5's encoder reads them padded on the right.
    self.padding_side = 'left' if cfg.family == 'opt' else 'right'

  @property
  def text_positions(self) -> int | None:
    """How many text tokens fit after the queries (OPT's learned positions); None: any (T5)."""
    if self.family != 'opt':
      return None
    cfg = self.decoder.config
    return cfg.text.max_position_embeddings - cfg.num_query_tokens

  def check_length(self, text_length: int) -> None:
    """Refuses rows of `text_length` tokens that, after the queries, outrun OPT's positions."""
    room = self.text_positions
    if room is not None and text_length > room:
      cfg = self.decoder.config
      raise ValueError(f'BLIP-2: {cfg.num_query_tokens} query tokens + '
                       f'data.caption.max_len={text_length} exceed OPT\'s '
                       f'{cfg.text.max_position_embeddings} positions: lower '
                       'data.caption.max_len')

  def condition(self, image_tokens: jax.Array, head_logits=None) -> Blip2Context:
    """The backbone's tokens and the heads' top-1 labels (-1 without heads' logits)."""
    b = image_tokens.shape[0]
    if head_logits is None:
      labels = jnp.full((b, len(TASKS)), -1, jnp.int32)
    else:
      labels = jnp.stack([jnp.argmax(head_logits[t], axis=-1).astype(jnp.int32)
                          if t in head_logits else jnp.full((b,), -1, jnp.int32)
                          for t in TASKS], axis=1)
    return Blip2Context(image_tokens=image_tokens, labels=labels)

  def __call__(self, context: Blip2Context, input_ids: jax.Array, *,
               deterministic: bool = True, rngs: nnx.Rngs | None = None) -> jax.Array:
    """Teacher forcing on caption rows [B, T]: logits [B, T, V] float32, position t
    predicting token t + 1 (the rows' layouts: module docstring)."""
    self.check_length(input_ids.shape[1])
    kwargs = dict(deterministic=deterministic, rngs=rngs)
    if self.family == 'opt':
      return self.decoder.forward(context.image_tokens, input_ids, text_logits_only=True,
                                  **kwargs)
    slots = jnp.arange(input_ids.shape[1])[None]
    start = jnp.argmax(input_ids == self.framing.eos, axis=1)[:, None]  # the prompt's EOS
    start_id = self.decoder.config.text.decoder_start_token_id
    return self.decoder.forward(
        context.image_tokens, input_ids, attention_mask=slots <= start,
        decoder_input_ids=jnp.where(slots == start, start_id, input_ids),
        decoder_attention_mask=slots >= start, **kwargs)

  def init_cache(self, batch_size: int, context_length: int, text_length: int, dtype=None):
    """The language model's cache (see `Blip2Decoder.init_cache`)."""
    self.check_length(text_length)
    return self.decoder.init_cache(batch_size, context_length, text_length, dtype)

  def prefill(self, input_ids: jax.Array, cache, *, context: jax.Array | None = None,
              attention_mask: jax.Array | None = None):
    """Feeds the image tokens `context` [B, N, E] and the (padded) prompts."""
    return self.decoder.prefill(input_ids, cache, context=context,
                                attention_mask=attention_mask)

  def decode_step(self, input_ids: jax.Array, cache):
    """Appends [B, T] tokens: (logits [B, T, V], cache)."""
    return self.decoder.decode_step(input_ids, cache)
