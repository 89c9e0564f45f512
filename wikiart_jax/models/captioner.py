"""Caption decoders on the shared ViT backbone's tokens (the classifier's aux['tokens']).

`config.model.captioner` picks one:

  'git'     image tokens -> visual projection (Linear + LayerNorm) -> a BERT-style
            post-LayerNorm decoder over [image; text]: full attention among image
            tokens, causal over text (GIT, Wang et al. 2022). The decoder is
            models/git.py's, without its image tower, so GIT checkpoints load into it.
  'prefix'  image tokens -> per-token MLP -> a prefix to our GPT-2 (ClipCap-style,
            Mokady et al. 2021); GPT-2 checkpoints load into the language model.
  'none'    no captioner (`build_captioner` returns None).

Sizes come from `config.model.caption_decoder` unless `init_from` names a
checkpoint, whose config.json then decides them. Teacher forcing returns logits
over the text positions only; generation (wikiart_jax/generate.py) uses
`init_cache` / `prefill` / `decode_step` with the decoders' static KV cache.
"""

from __future__ import annotations

import dataclasses

from flax import nnx
import jax
import jax.numpy as jnp

from wikiart_jax.models.activations import activation
from wikiart_jax.models.git import GitConfig, GitForCausalLM
from wikiart_jax.models.gpt2 import GPT2Config, GPT2LMHeadModel
from wikiart_jax.models.kv_cache import KVCache
from wikiart_jax.models.vit import ViTConfig

KINDS = ('none', 'git', 'prefix')
# GIT checkpoint keys of the text decoder (everything but the image tower).
GIT_DECODER_KEYS = ('git.embeddings.', 'git.visual_projection.', 'git.encoder.', 'output.')


class GitDecoder(GitForCausalLM):
  """GitForCausalLM without its image tower: it is fed the shared backbone's tokens.

  Inherits `__call__` (with `prefix_embeds`) and `init_cache`; the parameter names
  are GitForCausalLM's, so `convert.git.mapping` applies minus the image tower.
  """

  def __init__(self, cfg: GitConfig, *, rngs: nnx.Rngs):  # pylint: disable=super-init-not-called
    # Deliberately not GitForCausalLM.__init__: it would build an image tower we never use.
    self.config = cfg
    self._init_decoder(cfg, rngs)

  def encode_images(self, images):
    raise TypeError('GitDecoder has no image tower: pass backbone tokens to Captioner')


class PrefixProjection(nnx.Module):
  """Per-token MLP from the vision width to GPT-2's width (Linear, GELU, Linear)."""

  def __init__(self, vision_width: int, width: int, *, dtype: str, rngs: nnx.Rngs):
    self.fc1 = nnx.Linear(vision_width, width, dtype=dtype, rngs=rngs)
    self.fc2 = nnx.Linear(width, width, dtype=dtype, rngs=rngs)

  def __call__(self, x):
    return self.fc2(activation('gelu')(self.fc1(x)))


def _section(model_config):
  if 'caption_decoder' not in model_config:
    raise ValueError('config.model.caption_decoder is missing (sizes of the caption decoder)')
  return model_config.caption_decoder


def decoder_config(model_config, vision_width: int, vocab_size: int) -> GPT2Config | GitConfig:
  """The decoder's sizes: from `caption_decoder.init_from`'s config.json, else the config."""
  kind = model_config.captioner
  if kind not in ('git', 'prefix'):
    raise ValueError(f"config.model.captioner must be 'git' or 'prefix' here, got {kind!r}")
  dec = _section(model_config)
  dtype = str(model_config.dtype)
  if dec.init_from:
    from wikiart_jax.convert import git as convert_git  # pylint: disable=g-import-not-at-top
    from wikiart_jax.convert import gpt2 as convert_gpt2  # pylint: disable=g-import-not-at-top
    from wikiart_jax.convert import hub  # pylint: disable=g-import-not-at-top
    hf = hub.read_config(hub.resolve(dec.init_from))
    if kind == 'git':
      cfg = convert_git.config_from_hf(hf, dtype=dtype)
      # Only the projection's input width and epsilon are read from `vision`.
      cfg = dataclasses.replace(cfg, vision=dataclasses.replace(
          cfg.vision, hidden_size=vision_width, num_heads=1, mlp_dim=1))
    else:
      cfg = convert_gpt2.config_from_hf(hf, dtype=dtype)
    if cfg.vocab_size != vocab_size:
      raise ValueError(f'caption tokenizer has {vocab_size} tokens but {dec.init_from} '
                       f'expects {cfg.vocab_size}: use the checkpoint\'s tokenizer')
    return cfg
  if kind == 'git':
    vision = ViTConfig(hidden_size=vision_width, num_heads=1, mlp_dim=1,
                       layer_norm_eps=float(model_config.layer_norm_eps))
    return GitConfig(vision=vision, vocab_size=vocab_size, hidden_size=dec.hidden_size,
                     num_layers=dec.num_layers, num_heads=dec.num_heads, mlp_dim=dec.mlp_dim,
                     activation='gelu', max_position_embeddings=dec.max_positions,
                     dropout=dec.dropout, dtype=dtype)
  return GPT2Config(vocab_size=vocab_size, n_positions=dec.max_positions, n_embd=dec.hidden_size,
                    n_layer=dec.num_layers, n_head=dec.num_heads, n_inner=dec.mlp_dim,
                    dropout=dec.dropout, dtype=dtype)


class Captioner(nnx.Module):
  """A caption decoder conditioned on backbone tokens ('git' or 'prefix')."""

  def __init__(self, model_config, vision_width: int, vocab_size: int, *, rngs: nnx.Rngs,
               decoder: GPT2Config | GitConfig | None = None):
    """Builds the decoder (random weights; see `build_captioner` to load a checkpoint).

    Args:
      model_config: config.model (reads `captioner`, `caption_decoder`, `dtype`).
      vision_width: width D of the backbone tokens [B, N, D].
      vocab_size: the caption tokenizer's vocabulary size.
      rngs: parameter initialisation keys.
      decoder: explicit decoder sizes (default: `decoder_config(...)`).
    """
    self.kind = model_config.captioner
    cfg = decoder or decoder_config(model_config, vision_width, vocab_size)
    if self.kind == 'git':
      self.decoder = GitDecoder(cfg, rngs=rngs)
      self.projection = None  # GIT's visual projection lives in the decoder
    else:
      self.decoder = GPT2LMHeadModel(cfg, rngs=rngs)
      self.projection = PrefixProjection(vision_width, cfg.n_embd, dtype=cfg.dtype, rngs=rngs)
    self.vocab_size = vocab_size
    # Text positions (GIT: text only; GPT-2: the image prefix takes positions too).
    self.max_positions = cfg.max_position_embeddings if self.kind == 'git' else cfg.n_positions

  def _check_length(self, num_image_tokens: int, text_length: int) -> None:
    """Out-of-range positions would read NaN embeddings: refuse them (shapes are static)."""
    used = text_length + (0 if self.kind == 'git' else num_image_tokens)
    if used > self.max_positions:
      raise ValueError(f'{self.kind} caption decoder has {self.max_positions} positions but '
                       f'needs {used} ({num_image_tokens} image tokens, {text_length} text '
                       'tokens): raise model.caption_decoder.max_positions or lower '
                       'data.caption.max_len')

  def prefix(self, image_tokens: jax.Array) -> jax.Array:
    """Backbone tokens [B, N, D] -> the decoder's prefix embeddings [B, N, width]."""
    if self.kind == 'git':
      return self.decoder.visual_projection(image_tokens)
    return self.projection(image_tokens)

  def __call__(self, image_tokens: jax.Array, input_ids: jax.Array, *,
               deterministic: bool = True, rngs: nnx.Rngs | None = None) -> jax.Array:
    """Teacher forcing: logits [B, T, V] (float32) at the T text positions.

    Args:
      image_tokens: [B, N, D] backbone tokens.
      input_ids: [B, T] caption tokens (BOS first); padding after EOS is harmless
        because attention is causal and `caption_loss` masks it.
      deterministic: disables dropout when True.
      rngs: dropout keys.
    """
    self._check_length(image_tokens.shape[1], input_ids.shape[1])
    logits, _ = self.decoder(input_ids, prefix_embeds=self.prefix(image_tokens),
                             deterministic=deterministic, rngs=rngs)
    return logits[:, image_tokens.shape[1]:]

  def init_cache(self, batch_size: int, num_image_tokens: int, max_text_length: int,
                 dtype=None) -> KVCache:
    """An empty KV cache holding the image prefix and `max_text_length` text tokens."""
    self._check_length(num_image_tokens, max_text_length)
    return self.decoder.init_cache(batch_size, num_image_tokens + max_text_length, dtype)

  def prefill(self, image_tokens: jax.Array, input_ids: jax.Array,
              cache: KVCache) -> tuple[jax.Array, KVCache]:
    """Feeds the image prefix and the prompt (e.g. BOS): (text logits [B, T, V], cache)."""
    logits, cache = self.decoder(input_ids, prefix_embeds=self.prefix(image_tokens), cache=cache)
    return logits[:, image_tokens.shape[1]:], cache

  def decode_step(self, input_ids: jax.Array, cache: KVCache) -> tuple[jax.Array, KVCache]:
    """Appends [B, T] tokens (T = 1 when decoding): (logits [B, T, V], cache)."""
    return self.decoder(input_ids, cache=cache)


def build_captioner(model_config, vision_width: int, vocab_size: int, *,
                    rngs: nnx.Rngs) -> Captioner | None:
  """The configured captioner (None for 'none'), its decoder loaded from `init_from`.

  A 'git' captioner loads every GIT key but the image tower's; a 'prefix'
  captioner loads the whole GPT-2 (the prefix MLP stays random).
  """
  kind = model_config.get('captioner', 'none')
  if kind not in KINDS:
    raise ValueError(f'config.model.captioner must be one of {KINDS}, got {kind!r}')
  if kind == 'none':
    return None
  captioner = Captioner(model_config, vision_width, vocab_size, rngs=rngs)
  source = _section(model_config).init_from
  if source:
    from wikiart_jax.convert import git as convert_git  # pylint: disable=g-import-not-at-top
    from wikiart_jax.convert import gpt2 as convert_gpt2  # pylint: disable=g-import-not-at-top
    from wikiart_jax.convert import hub  # pylint: disable=g-import-not-at-top
    folder = hub.resolve(source)
    if kind == 'git':
      convert_git.load_weights(captioner.decoder, folder, include=list(GIT_DECODER_KEYS))
    else:
      convert_gpt2.load_weights(captioner.decoder, folder)
  return captioner


def caption_loss(logits: jax.Array, tokens: jax.Array,
                 mask: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Next-token cross-entropy summed over real target tokens, in float32.

  Args:
    logits: [B, T, V] from `Captioner(image_tokens, tokens)`.
    tokens: [B, T] int caption tokens (BOS ... EOS, then padding).
    mask: [B, T], 1 on real tokens (BOS..EOS), 0 on padding.

  Returns:
    (sum of -log p(tokens[:, t+1] | ..t), number of predicted tokens): divide for the mean.
  """
  if logits.shape[:2] != tokens.shape or tokens.shape != mask.shape:
    raise ValueError(f'caption_loss shapes disagree: logits {logits.shape}, tokens '
                     f'{tokens.shape}, mask {mask.shape}')
  logp = jax.nn.log_softmax(logits[:, :-1].astype(jnp.float32), axis=-1)
  nll = -jnp.take_along_axis(logp, tokens[:, 1:, None].astype(jnp.int32), axis=-1)[..., 0]
  weight = mask[:, 1:].astype(jnp.float32)
  return (nll * weight).sum(), weight.sum()
