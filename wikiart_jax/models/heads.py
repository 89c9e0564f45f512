"""Classification heads on the backbone's features.

The class heads read the pooled features; the content-tag head reads every token
(`PooledTagHead`). Heads run in float32 whatever the backbone's compute dtype:
they are cheap, and the 1,119-way artist logits lose ranking precision in bfloat16.
"""

from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

_HIDDEN_INIT = nnx.initializers.truncated_normal(stddev=0.02)


class MLPHead(nnx.Module):
  """Linear, or Linear-GELU-Dropout-Linear when `hidden` > 0; float32 logits."""

  def __init__(self, in_features: int, num_classes: int, *, hidden: int = 0,
               dropout: float = 0.0, bias_init: float = 0.0, rngs: nnx.Rngs):
    if num_classes < 1:
      raise ValueError(f'a head needs at least one class, got {num_classes}')
    if hidden > 0:
      self.hidden = nnx.Linear(in_features, hidden, kernel_init=_HIDDEN_INIT, rngs=rngs)
      in_features = hidden
    else:
      self.hidden = None
    self.dropout = nnx.Dropout(dropout)
    # Zero-initialised classifier (big_vision's head_zeroinit): every head starts at
    # the uniform prediction, so no task dominates the first steps of the sum of losses.
    # A sigmoid head starts at a prior instead (`bias_init`, RetinaNet's): most tags
    # are absent from most pictures.
    self.output = nnx.Linear(in_features, num_classes,
                             kernel_init=nnx.initializers.zeros,
                             bias_init=nnx.initializers.constant(bias_init), rngs=rngs)

  def __call__(self, x: jax.Array, *, deterministic: bool = True,
               rngs: nnx.Rngs | None = None) -> jax.Array:
    x = x.astype(jnp.float32)
    if self.hidden is not None:
      x = jax.nn.gelu(self.hidden(x), approximate=False)
      x = self.dropout(x, deterministic=deterministic, rngs=rngs)
    return self.output(x)


class PooledTagHead(nnx.Module):
  """Multi-label logits pooled over the tokens: a tag is there if some part shows it.

  Each token gets a score per tag (an `MLPHead` applied token by token); a tag's
  logit is their log-sum-exp pooling, (1/r) log(mean_i exp(r s_i)), plus a bias:
  a smooth maximum over the picture's parts (r -> infinity) that still lets every
  token learn (multiple-instance pooling, Pinheiro & Collobert 2015). A boat in
  one corner is found by the tokens that see it, not by the CLS token alone,
  which the class heads keep busy with style, artist and genre.
  """

  def __init__(self, in_features: int, num_tags: int, *, hidden: int = 0,
               dropout: float = 0.0, bias_init: float = 0.0, sharpness: float = 5.0,
               rngs: nnx.Rngs):
    self.scores = MLPHead(in_features, num_tags, hidden=hidden, dropout=dropout, rngs=rngs)
    self.bias = nnx.Param(jnp.full((num_tags,), bias_init, jnp.float32))
    self.sharpness = float(sharpness)

  def __call__(self, tokens: jax.Array, *, deterministic: bool = True,
               rngs: nnx.Rngs | None = None) -> jax.Array:
    """tokens [B, N, D] -> float32 logits [B, T]."""
    scores = self.scores(tokens, deterministic=deterministic, rngs=rngs)  # [B, N, T]
    r = self.sharpness
    pooled = (jax.nn.logsumexp(r * scores, axis=1) - jnp.log(scores.shape[1])) / r
    return pooled + self.bias[...]


def style_family_index(
    style_names: Sequence[str], style_families: Mapping[str, Sequence[str]]
) -> tuple[list[str], np.ndarray]:
  """Maps the style vocabulary onto families.

  Args:
    style_names: the style vocabulary, in label order.
    style_families: family name -> style names (config.model.style_families).

  Returns:
    (family names in `style_families` order, int32 [num_styles] family index per style).
  """
  position = {name: i for i, name in enumerate(style_names)}
  style_to_family = np.full(len(style_names), -1, np.int32)
  family_names = []
  for f, (family, members) in enumerate(style_families.items()):
    if not members:
      raise ValueError(f'style family {family!r} has no style')
    for style in members:
      if style not in position:
        raise ValueError(f'style {style!r} of family {family!r} is not in the style vocabulary')
      if style_to_family[position[style]] >= 0:
        raise ValueError(f'style {style!r} is in two families')
      style_to_family[position[style]] = f
    family_names.append(family)
  orphans = [style_names[i] for i in np.flatnonzero(style_to_family < 0)]
  if orphans:
    raise ValueError(f'styles in no family of model.style_families: {orphans}')
  return family_names, style_to_family


class HierarchicalStyleHead(nnx.Module):
  """log P(style) = log P(family) + log P(style | family).

  P(family) is a softmax over family logits; P(style | family) a softmax over the
  style logits of that family's members only.
  """

  def __init__(self, in_features: int, style_names: Sequence[str],
               style_families: Mapping[str, Sequence[str]], *, hidden: int = 0,
               dropout: float = 0.0, rngs: nnx.Rngs):
    family_names, style_to_family = style_family_index(style_names, style_families)
    self.family_names = tuple(family_names)
    # A tuple, not an array: a static attribute that survives nnx.split/merge.
    self._style_to_family = tuple(int(f) for f in style_to_family)
    self.family = MLPHead(in_features, len(family_names), hidden=hidden,
                          dropout=dropout, rngs=rngs)
    self.style = MLPHead(in_features, len(style_names), hidden=hidden,
                         dropout=dropout, rngs=rngs)

  @property
  def style_to_family(self) -> np.ndarray:
    """int32 [num_styles]: the family index of each style label."""
    return np.asarray(self._style_to_family, np.int32)

  def __call__(self, x: jax.Array, *, deterministic: bool = True,
               rngs: nnx.Rngs | None = None) -> tuple[jax.Array, jax.Array]:
    """Returns (style log-probabilities [B,S], family logits [B,F]), float32."""
    family_logits = self.family(x, deterministic=deterministic, rngs=rngs)
    style_logits = self.style(x, deterministic=deterministic, rngs=rngs)
    index = jnp.asarray(self._style_to_family)
    member = index[None, :] == jnp.arange(len(self.family_names))[:, None]  # [F,S]
    masked = jnp.where(member, style_logits[:, None, :], -jnp.inf)  # [B,F,S]
    family_lse = jax.nn.logsumexp(masked, axis=-1)  # [B,F]
    log_p_style_given_family = style_logits - family_lse[:, index]
    log_p_family = jax.nn.log_softmax(family_logits, axis=-1)
    return log_p_family[:, index] + log_p_style_given_family, family_logits
