"""The multi-task artwork classifier: a ViT backbone and one head per task.

Parameters live under 'backbone/...' and 'heads/<task>/...' so staged unfreezing can
label them by path. Beside the softmax heads of TASKS, optional heads of their own
kind: 'tags' (one sigmoid logit per content tag, pooled over the backbone's tokens:
heads.PooledTagHead) and 'period' (softmax logits over the 25-year bins).
"""

from collections.abc import Mapping, Sequence
import math
from typing import Any

import jax
import numpy as np
from flax import nnx

from wikiart_jax.core import PERIOD, TAGS
from wikiart_jax.models import heads as heads_lib
from wikiart_jax.models import vit as vit_lib

# The tag head starts every tag at this probability (its bias): a typical tag is absent.
TAG_PRIOR = 0.05


class ArtClassifier(nnx.Module):
  """ViT -> {task: logits}; the style head may be hierarchical (style families)."""

  def __init__(self, model_config: Any, num_classes: Mapping[str, int], *,
               style_names: Sequence[str] | None = None, num_tags: int = 0,
               period_bins: int = 0, rngs: nnx.Rngs):
    """Builds the model.

    Args:
      model_config: `config.model` (configs/common.py defines every field).
      num_classes: task name ('style', 'artist', 'genre') -> number of classes.
      style_names: the style vocabulary in label order; required when
        model_config.hierarchical_style is set.
      num_tags: the content tags of a 'tags' head; 0 = no such head.
      period_bins: the bins of a 'period' head; 0 = no such head.
      rngs: parameter initialisation keys.
    """
    if not num_classes:
      raise ValueError('num_classes is empty: the classifier needs at least one task')
    for reserved in ('style_family', TAGS, PERIOD):
      if reserved in num_classes:
        raise ValueError(f'{reserved!r} is not a class task: it has its own head')
    self.backbone = vit_lib.ViT(vit_lib.ViTConfig.from_config(model_config), rngs=rngs)
    width = self.backbone.config.hidden_size
    hidden = int(model_config.head_hidden)
    dropout = float(model_config.head_dropout)
    self.hierarchical = bool(model_config.hierarchical_style)
    heads = {}
    for task, n in num_classes.items():
      if task == 'style' and self.hierarchical:
        if style_names is None or len(style_names) != n:
          raise ValueError(
              'model.hierarchical_style needs style_names with one name per style '
              f'class ({n}), got {None if style_names is None else len(style_names)}')
        heads[task] = heads_lib.HierarchicalStyleHead(
            width, list(style_names), model_config.style_families,
            hidden=hidden, dropout=dropout, rngs=rngs)
      else:
        heads[task] = heads_lib.MLPHead(width, int(n), hidden=hidden,
                                        dropout=dropout, rngs=rngs)
    if num_tags:
      heads[TAGS] = heads_lib.PooledTagHead(width, int(num_tags), hidden=hidden, dropout=dropout,
                                            bias_init=math.log(TAG_PRIOR / (1 - TAG_PRIOR)),
                                            rngs=rngs)
    if period_bins:
      heads[PERIOD] = heads_lib.MLPHead(width, int(period_bins), hidden=hidden,
                                        dropout=dropout, rngs=rngs)
    self.heads = nnx.Dict(heads)
    self.head_dropout = dropout

  @property
  def style_to_family(self) -> np.ndarray | None:
    """int32 [num_styles] family of each style label (hierarchical head), else None."""
    if not self.hierarchical or 'style' not in self.heads:
      return None
    return self.heads['style'].style_to_family

  def __call__(self, images: jax.Array, *, deterministic: bool = True,
               rngs: nnx.Rngs | jax.Array | None = None,
               return_hidden_states: bool = False, return_attention: bool = False):
    """Classifies a batch.

    Args:
      images: float [B, S, S, 3], normalised.
      deterministic: False turns dropout on (needs `rngs`).
      rngs: an `nnx.Rngs` with a 'dropout' stream, or a PRNG key for it.
      return_hidden_states, return_attention: add the backbone's per-block
        'hidden_states' / 'attention' tuples to `aux` (see `BackboneOutput`).

    Returns:
      (outputs, aux). outputs: task -> float32 logits [B, classes] (log-probabilities
      for a hierarchical 'style', plus 'style_family' logits; 'tags' are sigmoid
      logits [B, T], 'period' softmax logits over the bins); aux: 'pooled', 'tokens'
      and any requested extras.
    """
    if not deterministic and self.head_dropout > 0 and rngs is None:
      raise ValueError('deterministic=False with model.head_dropout > 0 needs rngs')
    if rngs is not None and not isinstance(rngs, nnx.Rngs):
      rngs = nnx.Rngs(dropout=rngs)
    features = self.backbone(
        images, deterministic=deterministic, rngs=rngs,
        return_hidden_states=return_hidden_states, return_attention=return_attention)
    aux = {'pooled': features.pooled, 'tokens': features.tokens}
    if return_hidden_states:
      aux['hidden_states'] = features.hidden_states
    if return_attention:
      aux['attention'] = features.attention
    outputs = {}
    for task, head in self.heads.items():
      if isinstance(head, heads_lib.PooledTagHead):
        outputs[task] = head(features.tokens, deterministic=deterministic, rngs=rngs)
        continue
      out = head(features.pooled, deterministic=deterministic, rngs=rngs)
      if isinstance(head, heads_lib.HierarchicalStyleHead):
        outputs[task], outputs['style_family'] = out
      else:
        outputs[task] = out
    return outputs, aux
