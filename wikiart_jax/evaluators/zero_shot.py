"""The zero-shot CLIP baseline: style / genre / artist from text prompts, scored as the heads.

The same accumulator as the trained heads gives top-1 / top-5 / macro-F1, so the
baseline's numbers sit beside the fine-tuned model's in one table.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from wikiart_jax.data.augment import IMAGENET, Normalization
from wikiart_jax.evaluators.base import EvalBatch, Evaluator
from wikiart_jax.inference.zero_shot import ZeroShotCLIP, templates
from wikiart_jax.metrics.classification import ClassificationAccumulator


def evaluate(zero_shot: ZeroShotCLIP, batches: Iterable[Mapping[str, np.ndarray]],
             class_names: Mapping[str, Sequence[str]], *, lang: str = 'both',
             normalization: Normalization = IMAGENET, top_k: int = 5
             ) -> dict[str, dict[str, Any]]:
  """Zero-shot classification of every task in `class_names` over eval batches.

  Args:
    zero_shot: the CLIP model and tokenizer.
    batches: dicts with 'image' [B,H,W,3] and int labels per task (-1 = missing).
    class_names: task -> prompt names in label order (see `class_names_from_vocab`).
    lang: prompt language: 'en', 'fr' or 'both' (ensemble of the two).
    normalization: how the batches' pixels are normalised (re-normalised to CLIP's).
    top_k: the k of the top-k accuracy.

  Returns:
    task -> {'top1', f'top{k}', 'f1_macro', 'count'} as for the trained heads.
  """
  evaluator = ZeroShotEvaluator(zero_shot, class_names, norm=normalization, languages=(lang,),
                                top_k=top_k)
  for batch in batches:
    evaluator.update(EvalBatch(local=batch, labels={}, probs={}))
  return evaluator.result()['zero_shot'][lang]


class ZeroShotEvaluator(Evaluator):
  """The CLIP baseline on the evaluation batches, per prompt language.

  Built by the runner when `config.eval.zero_shot_from` names a CLIP checkpoint;
  its entry `zero_shot` holds {lang: {task: top1, top5, f1_macro, count}} for
  the prompts in English ('en'), in French ('fr') and both ensembled ('both').
  """

  name = 'zero_shot'

  def __init__(self, zero_shot: ZeroShotCLIP, class_names: Mapping[str, Sequence[str]], *,
               norm: Normalization = IMAGENET, languages: Sequence[str] = ('en', 'fr', 'both'),
               top_k: int = 5):
    self._zs = zero_shot
    self._norm = norm
    self._top_k = top_k
    self._classes = {lang: {t: zero_shot.class_embeddings(n, templates(t, lang))
                            for t, n in class_names.items()} for lang in languages}
    self._acc = {lang: {t: ClassificationAccumulator(len(n), top_k)
                        for t, n in class_names.items()} for lang in languages}

  def update(self, batch: EvalBatch) -> None:
    images = self._zs.encode_images(np.asarray(batch.local['image']), self._norm)
    for lang, classes in self._classes.items():
      for task, emb in classes.items():
        self._acc[lang][task].update(images @ emb.T, np.asarray(batch.local[task]))

  def result(self) -> dict[str, dict]:
    keys = ('top1', f'top{self._top_k}', 'f1_macro', 'count')
    return {'zero_shot': {lang: {task: {k: m[k] for k in keys}
                                 for task, m in ((t, a.compute()) for t, a in accs.items())}
                          for lang, accs in self._acc.items()}}

  def line(self, result: dict[str, dict]) -> str:
    z = result['zero_shot']
    return 'zero-shot CLIP style top1 ' + ' '.join(
        f"{lang} {z[lang]['style']['top1']:.3f}" for lang in z)
