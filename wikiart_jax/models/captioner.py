"""Caption decoders on the shared ViT backbone's tokens (the classifier's aux['tokens']).

`config.model.captioner` picks one:

  'git'     image tokens -> visual projection (Linear + LayerNorm) -> a BERT-style
            post-LayerNorm decoder over [image; text]: full attention among image
            tokens, causal over text (GIT, Wang et al. 2022). The decoder is
            models/git.py's, without its image tower, so GIT checkpoints load into it.
  'prefix'  image tokens -> per-token MLP -> a prefix to our GPT-2 (ClipCap-style,
            Mokady et al. 2021); GPT-2 checkpoints load into the language model.
  'blip2'   BLIP-2's Q-Former and OPT / Flan-T5 on BLIP-2's own image tower as
            the backbone (models/blip2_captioner.py).
  'none'    no captioner.

Sizes come from `config.model.caption_decoder` (`decoder_config`); loading a
checkpoint into the decoder is the factory's (wikiart_jax/factory.py), whose
config.json then decides the sizes. `caption_decoder.image_tokens`
says which backbone tokens the decoder sees: 'all' (as GIT), 'cls', or 'grid<K>'
(CLS plus the patch grid average-pooled to K x K). Fewer tokens make a small
decoder cheaper and leave its attention less to search. `Captioner.condition` turns the backbone's
tokens (and, with `caption_decoder.label_tokens`, the heads' logits) into the
decoder's context. Teacher forcing returns logits over the text positions only;
generation (inference/generate.py) uses `init_cache` / `prefill` /
`decode_step`, the interface every text model here offers (models/kv_cache.py).
"""

from __future__ import annotations

from collections.abc import Mapping
import math
import re

from flax import nnx
import jax
import jax.numpy as jnp

from wikiart_jax.core import HEDGE_PROBABLE, HEDGE_SURE, STYLE_HEDGE, TAGS
from wikiart_jax.models.activations import activation
from wikiart_jax.models.git import GitConfig, GitForCausalLM
from wikiart_jax.models.gpt2 import GPT2Config, GPT2LMHeadModel
from wikiart_jax.models.kv_cache import KVCache, refuse_padding
from wikiart_jax.models.vit import ViTConfig

KINDS = ('none', 'git', 'prefix', 'blip2')  # blip2: models/blip2_captioner.py


def check_image_tokens(spec: str) -> str:
  """Validates `caption_decoder.image_tokens` ('all', 'cls' or 'grid<K>')."""
  if spec in ('all', 'cls') or re.fullmatch(r'grid[1-9][0-9]*', spec):
    return spec
  raise ValueError("model.caption_decoder.image_tokens must be 'all', 'cls' or 'grid<K>' "
                   f'(e.g. grid4), got {spec!r}')


def select_image_tokens(tokens: jax.Array, spec: str) -> jax.Array:
  """The backbone tokens [B, 1 + P, D] (CLS first) that the decoder sees.

  Args:
    tokens: the backbone's tokens, CLS then a square grid of P patch tokens.
    spec: 'all' (unchanged), 'cls' ([B, 1, D]) or 'grid<K>': CLS then the patch
      grid average-pooled to K x K ([B, 1 + K*K, D]); K must divide the grid side.
  """
  if check_image_tokens(spec) == 'all':
    return tokens
  cls = tokens[:, :1]
  if spec == 'cls':
    return cls
  k = int(spec[4:])
  b, n, d = tokens.shape
  side = math.isqrt(n - 1)
  if side * side != n - 1 or side % k:
    raise ValueError(f'image_tokens={spec!r} needs a square patch grid whose side is a '
                     f'multiple of {k}; the backbone gives {n - 1} patch tokens')
  grid = tokens[:, 1:].reshape(b, k, side // k, k, side // k, d)
  grid = grid.astype(jnp.float32).mean(axis=(2, 4)).astype(tokens.dtype)
  return jnp.concatenate([cls, grid.reshape(b, k * k, d)], axis=1)


class LabelTokens(nnx.Module):
  """The heads' predictions as prefix tokens: per task, softmax(logits) @ a learned table.

  Tag-guided captioning (as Tag2Text, Huang et al. 2023): the decoder reads what the
  heads recognised, so the description agrees with the top-1 the demo shows. The
  content tags (independent sigmoids) make one token, their probabilities (with
  `top1`: the tags at or above `tag_threshold`, those the composer may name) @ the
  table; the period bins one token like a class head. The probabilities are
  stop-gradient: the caption loss does not move the heads.

  With `top1`, two options make the tokens say exactly what the text names:
  `tag_slots` > 0 gives each named tag its own token (the most probable at or above
  the threshold, at most `tag_slots`, ties to the lower index as the targets'
  order; in index order, then the empty slots, each a learned 'none' row) instead of one summed token, which
  a small decoder read back with tags it did not hold; `style_hedge` (sure,
  probable) adds a last token for how sure the style is: a learned row per level
  ('sure' at or above the first limit of the head's own softmax, 'probable' at or
  above the second, else 'two'), plus, for 'two', the style table's row of the
  runner-up, which the text names beside the first.
  """

  def __init__(self, label_classes: Mapping[str, int], width: int, *, rngs: nnx.Rngs,
               top1: bool = False, tag_threshold: float = 0.5, tag_slots: int = 0,
               style_hedge: tuple[float, float] | None = None):
    if not label_classes:
      raise ValueError('caption_decoder.label_tokens needs at least one classification head')
    if (tag_slots or style_hedge) and not top1:
      raise ValueError('caption_decoder.tag_slots and hedge_style_* need label_tokens_top1')
    if style_hedge is not None:
      if 'style' not in label_classes:
        raise ValueError('caption_decoder.hedge_style_* needs the style head')
      if not 0.0 < style_hedge[1] <= style_hedge[0] <= 1.0:
        raise ValueError('caption_decoder: 0 < hedge_style_probable <= hedge_style_sure <= 1, '
                         f'got {tuple(style_hedge)}')
    self.tasks = tuple(label_classes)
    self.top1 = top1
    self.tag_threshold = float(tag_threshold)
    self.tag_slots = int(tag_slots) if TAGS in label_classes else 0
    self.style_hedge = None if style_hedge is None else tuple(map(float, style_hedge))
    # Unit scale like the LayerNormed backbone tokens the projection also reads.
    self.tables = nnx.Dict({task: nnx.Param(jax.random.normal(rngs.params(), (n, width)))
                            for task, n in label_classes.items()})
    if self.tag_slots:
      self.tag_none = nnx.Param(jax.random.normal(rngs.params(), (width,)))
    if self.style_hedge is not None:
      self.hedge_levels = nnx.Param(jax.random.normal(rngs.params(), (3, width)))  # sure, probable, two

  @property
  def num_tokens(self) -> int:
    """How many tokens `__call__` returns."""
    slots = self.tag_slots - 1 if self.tag_slots else 0
    return len(self.tasks) + slots + (self.style_hedge is not None)

  def _tag_tokens(self, logits: jax.Array) -> jax.Array:
    """[B, T] tag logits -> [B, tag_slots, width]: the named tags' rows, or 'none'."""
    probs = jax.nn.sigmoid(logits)
    top, index = jax.lax.top_k(probs, self.tag_slots)  # equal values: the lower index first
    named = top >= self.tag_threshold
    # The named tags by index, then the empty slots: the labels' order in training (their
    # tags are all sure), so a slot means the same at inference, whatever the probabilities.
    order = jnp.argsort(jnp.where(named, index, index + probs.shape[-1]), axis=-1)
    index = jnp.take_along_axis(index, order, -1)
    named = jnp.take_along_axis(named, order, -1)[..., None]
    table = self.tables[TAGS][...].astype(jnp.float32)
    return jnp.where(named, table[index], self.tag_none[...].astype(jnp.float32))

  def hedge_of(self, style_logits: jax.Array) -> jax.Array:
    """The style head's level: int [B], HEDGE_SURE, HEDGE_PROBABLE or the runner-up."""
    sure, probable = self.style_hedge
    probs = jax.nn.softmax(style_logits.astype(jnp.float32), -1)
    top, index = jax.lax.top_k(probs, 2)
    return jnp.where(top[:, 0] >= sure, HEDGE_SURE,
                     jnp.where(top[:, 0] >= probable, HEDGE_PROBABLE, index[:, 1]))

  def _hedge_token(self, head_logits: Mapping[str, jax.Array]) -> jax.Array:
    """[B, width]: the level's row, plus the runner-up's style row for 'two'."""
    hedge = head_logits.get(STYLE_HEDGE)
    hedge = (self.hedge_of(jax.lax.stop_gradient(head_logits['style'])) if hedge is None
             else jnp.asarray(hedge, jnp.int32))
    level = jnp.where(hedge == HEDGE_SURE, 0, jnp.where(hedge == HEDGE_PROBABLE, 1, 2))
    levels = self.hedge_levels[...].astype(jnp.float32)
    second = self.tables['style'][...].astype(jnp.float32)[jnp.maximum(hedge, 0)]
    return levels[level] + jnp.where((hedge >= 0)[:, None], second, 0.0)

  def __call__(self, head_logits: Mapping[str, jax.Array], dtype) -> jax.Array:
    """{task: logits [B, C]} -> [B, num_tokens, width].

    With the style-hedge token, `head_logits[STYLE_HEDGE]` (int [B], core.py: the
    training targets' level) overrides the level the style head's softmax gives.
    """
    missing = [t for t in self.tasks if t not in head_logits]
    if missing:
      raise ValueError(f'label tokens need the logits of {missing}')
    tokens = []
    for task in self.tasks:
      logits = jax.lax.stop_gradient(head_logits[task]).astype(jnp.float32)
      if task == TAGS and self.tag_slots:
        tokens.extend(jnp.unstack(self._tag_tokens(logits), axis=1))
        continue
      if task == TAGS:  # multi-label: every tag present, not one class
        probs = jax.nn.sigmoid(logits)
        if self.top1:
          probs = (probs >= self.tag_threshold).astype(jnp.float32)
      elif self.top1:  # the row of the heads' first choice: the text names what they name
        probs = jax.nn.one_hot(jnp.argmax(logits, -1), logits.shape[-1], dtype=jnp.float32)
      else:
        probs = jax.nn.softmax(logits, -1)
      tokens.append(probs @ self.tables[task][...].astype(jnp.float32))
    if self.style_hedge is not None:
      tokens.append(self._hedge_token(head_logits))
    return jnp.stack(tokens, axis=1).astype(dtype)


def has_style_hedge(model_config) -> bool:
  """Whether the configured captioner has a style-hedge token (`LabelTokens`), so its
  training targets are hedged at `data.caption.hedge_ratio`."""
  section = model_config.caption_decoder
  return (model_config.captioner in ('git', 'prefix') and bool(section.label_tokens)
          and section.get('hedge_style_sure', 0.0) > 0)


def has_tag_tokens(model_config) -> bool:
  """Whether the configured captioner's context holds the tag head's tags (its label
  and content tokens), so its training targets leave tags out at
  `data.caption.tag_drop`."""
  section = model_config.caption_decoder
  return (model_config.captioner in ('git', 'prefix') and bool(section.label_tokens)
          and bool(section.get('content_tokens', True)))


def has_class_tokens(model_config) -> bool:
  """Whether the configured captioner's context holds the heads' first choices
  (one-hot label tokens), so its training targets name another style / artist at
  `data.caption.style_swap` / `artist_swap`."""
  section = model_config.caption_decoder
  return (model_config.captioner in ('git', 'prefix') and bool(section.label_tokens)
          and bool(section.get('label_tokens_top1', False)))


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


def decoder_config(model_config, vision_width: int, vocab_size: int) -> GPT2Config | GitConfig:
  """The decoder's sizes from `config.model.caption_decoder` (random initialisation)."""
  kind = model_config.captioner
  if kind not in ('git', 'prefix'):
    raise ValueError(f"config.model.captioner must be 'git' or 'prefix' here, got {kind!r}")
  dec = model_config.caption_decoder
  dtype = str(model_config.dtype)
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
               decoder: GPT2Config | GitConfig | None = None,
               label_classes: Mapping[str, int] | None = None, tag_threshold: float = 0.5):
    """Builds the decoder with random weights (the factory loads checkpoints).

    Args:
      model_config: config.model (reads `captioner`, `caption_decoder`, `dtype`).
      vision_width: width D of the backbone tokens [B, N, D].
      vocab_size: the caption tokenizer's vocabulary size.
      rngs: parameter initialisation keys.
      decoder: explicit decoder sizes (default: `decoder_config(...)`).
      label_classes: task -> number of classes of the heads, for
        `caption_decoder.label_tokens` (the tag and period heads too, by their names).
      tag_threshold: with `label_tokens_top1`, the tags the tag token holds.
    """
    if model_config.captioner not in ('git', 'prefix'):
      raise ValueError(f"config.model.captioner must be one of {KINDS}, got "
                       f'{model_config.captioner!r}')
    self.kind = model_config.captioner
    section = model_config.caption_decoder
    self.image_tokens = check_image_tokens(str(section.image_tokens))
    self.label_tokens = (LabelTokens(
        label_classes or {}, vision_width, rngs=rngs,
        top1=bool(section.get('label_tokens_top1', False)), tag_threshold=tag_threshold,
        tag_slots=int(section.get('tag_slots', 0)),
        style_hedge=((float(section.hedge_style_sure), float(section.hedge_style_probable))
                     if section.get('hedge_style_sure', 0.0) > 0 else None))
                         if section.label_tokens else None)
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

  def _check_length(self, context_length: int, text_length: int) -> None:
    """Out-of-range positions would read NaN embeddings: refuse them (shapes are static)."""
    used = text_length + (0 if self.kind == 'git' else context_length)
    if used > self.max_positions:
      raise ValueError(f'{self.kind} caption decoder has {self.max_positions} positions but '
                       f'needs {used} ({context_length} context tokens, {text_length} text '
                       'tokens): raise model.caption_decoder.max_positions or lower '
                       'data.caption.max_len')

  def condition(self, image_tokens: jax.Array,
                head_logits: Mapping[str, jax.Array] | None = None) -> jax.Array:
    """What the decoder is conditioned on: [B, M, D], its `context` below.

    Args:
      image_tokens: [B, N, D] the backbone's tokens (CLS first).
      head_logits: {task: [B, C]} the heads' outputs; needed with label tokens.

    Returns:
      the tokens `image_tokens` selects, then the label tokens (one per head; see
      `LabelTokens` for the tag slots and the style-hedge token).
    """
    context = select_image_tokens(image_tokens, self.image_tokens)
    if self.label_tokens is None:
      return context
    if head_logits is None:
      raise ValueError('caption_decoder.label_tokens: condition() needs the heads\' logits')
    return jnp.concatenate([context, self.label_tokens(head_logits, context.dtype)], axis=1)

  def prefix(self, context: jax.Array) -> jax.Array:
    """Context [B, M, D] -> the decoder's prefix embeddings [B, M, width]."""
    if self.kind == 'git':
      return self.decoder.visual_projection(context)
    return self.projection(context)

  def __call__(self, context: jax.Array, input_ids: jax.Array, *,
               deterministic: bool = True, rngs: nnx.Rngs | None = None) -> jax.Array:
    """Teacher forcing: logits [B, T, V] (float32) at the T text positions.

    Args:
      context: [B, M, D] from `condition` (the backbone tokens themselves with
        the default image_tokens='all' and no label tokens).
      input_ids: [B, T] caption tokens (BOS first); padding after EOS is harmless
        because attention is causal and `caption_loss` masks it.
      deterministic: disables dropout when True.
      rngs: dropout keys.
    """
    prefix = self.prefix(context)
    self._check_length(prefix.shape[1], input_ids.shape[1])
    logits, _ = self.decoder(input_ids, prefix_embeds=prefix, deterministic=deterministic,
                             rngs=rngs, text_logits_only=True)
    return logits

  def init_cache(self, batch_size: int, context_length: int, text_length: int,
                 dtype=None) -> KVCache:
    """An empty KV cache holding the context (M tokens) and `text_length` text tokens."""
    self._check_length(context_length, text_length)
    return self.decoder.init_cache(batch_size, context_length, text_length, dtype)

  def prefill(self, input_ids: jax.Array, cache: KVCache, *, context: jax.Array | None = None,
              attention_mask: jax.Array | None = None) -> tuple[jax.Array, KVCache]:
    """Feeds the context [B, M, D] (`condition`) and the prompt (BOS and the language
    tag): (logits [B, 1, V] at the prompt's last position, cache)."""
    refuse_padding(attention_mask, 'captioner')
    if context is None:
      raise ValueError('a Captioner needs its context (the backbone tokens)')
    return self.decoder.prefill(input_ids, cache, context=self.prefix(context))

  def decode_step(self, input_ids: jax.Array, cache: KVCache) -> tuple[jax.Array, KVCache]:
    """Appends [B, T] tokens (T = 1 when decoding): (logits [B, T, V], cache)."""
    return self.decoder.decode_step(input_ids, cache)


def caption_loss(logits: jax.Array, tokens: jax.Array,
                 mask: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Next-token cross-entropy summed over real target tokens, in float32.

  Args:
    logits: [B, T, V] from `Captioner(context, tokens)`.
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
