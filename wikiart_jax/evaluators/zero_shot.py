"""The zero-shot CLIP baseline: style / genre / artist from text prompts, scored as the heads.

The same accumulator as the trained heads gives top-1 / top-5 / macro-F1, so the
baseline's numbers sit beside the fine-tuned model's in one table.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from wikiart_jax.inference.zero_shot import ZeroShotCLIP, templates
from wikiart_jax.metrics.classification import ClassificationAccumulator


def evaluate(zero_shot: ZeroShotCLIP, batches: Iterable[Mapping[str, np.ndarray]],
             class_names: Mapping[str, Sequence[str]], *, lang: str = 'both',
             normalization: str = 'imagenet', top_k: int = 5) -> dict[str, dict[str, Any]]:
  """Zero-shot classification of every task in `class_names` over eval batches.

  Args:
    zero_shot: the CLIP model and tokenizer.
    batches: dicts with 'image' [B,H,W,3] and int labels per task (-1 = missing).
    class_names: task -> prompt names in label order (see `class_names_from_vocab`).
    lang: prompt language: 'en', 'fr' or 'both' (ensemble of the two).
    normalization: how the batches' pixels are normalised ('imagenet' | 'clip').
    top_k: the k of the top-k accuracy.

  Returns:
    task -> {'top1', f'top{k}', 'f1_macro', 'count'} as for the trained heads.
  """
  classes = {t: zero_shot.class_embeddings(n, templates(t, lang)) for t, n in class_names.items()}
  acc = {t: ClassificationAccumulator(len(n), top_k) for t, n in class_names.items()}
  for batch in batches:
    img = zero_shot.encode_images(batch['image'], normalization)
    for task, emb in classes.items():
      acc[task].update(img @ emb.T, np.asarray(batch[task]))
  results = {}
  for task, a in acc.items():
    m = a.compute()
    results[task] = {k: m[k] for k in ('top1', f'top{top_k}', 'f1_macro', 'count')}
  return results
