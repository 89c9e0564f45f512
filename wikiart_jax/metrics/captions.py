"""Caption metrics: BLEU-1..4, ROUGE-L, CIDEr-D (pycocoevalcap) and CLIPScore.

The scores are pycocoevalcap's own scorers (the captioning literature's
reference code; Bleu, Rouge and Cider are pure Python). pycocoevalcap's `Cider`
is CIDEr-D (Gaussian length penalty, sigma 6, clipped counts), with document
frequencies taken from the evaluated references.

Tokenisation (both sides, instead of the Java PTBTokenizer): Unicode NFKC
(non-breaking spaces become spaces), lower-case, split into words (runs of
letters/digits, so "d'Albrecht" -> "d", "albrecht" and "Post-Impressionist" ->
"post", "impressionist") and punctuation marks, then drop the punctuation, as
the COCO tokenizer does. French and English go through the same rule.

CLIPScore (Hessel et al. 2021) is 2.5 * max(cos(image, "A photo depicts " +
caption), 0) with CLIP ViT-B/32, computed by inference/zero_shot.py's
`ZeroShotCLIP.clip_score`; CLIP reads English, so it is reported for English
captions only.
"""

from __future__ import annotations

import contextlib
import io
import re
import unicodedata
from typing import Mapping, Sequence

import numpy as np

_WORD = re.compile(r'[^\W_]+', re.UNICODE)  # letters and digits; the rest is punctuation
METRICS = ('bleu1', 'bleu2', 'bleu3', 'bleu4', 'rouge_l', 'cider')


def tokenize(text: str) -> str:
  """The documented tokenisation: NFKC, lower-case, words only, space-joined."""
  return ' '.join(_WORD.findall(unicodedata.normalize('NFKC', text).lower()))


def coco_scores(gts: Mapping, res: Mapping) -> dict[str, float]:
  """pycocoevalcap's Bleu(4), Rouge and Cider on already tokenised inputs.

  Args:
    gts: id -> list of tokenised reference strings.
    res: id -> [one tokenised hypothesis string].
  """
  from pycocoevalcap.bleu.bleu import Bleu  # pylint: disable=g-import-not-at-top
  from pycocoevalcap.cider.cider import Cider  # pylint: disable=g-import-not-at-top
  from pycocoevalcap.rouge.rouge import Rouge  # pylint: disable=g-import-not-at-top
  with contextlib.redirect_stdout(io.StringIO()):  # Bleu prints its ratios
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
  rouge, _ = Rouge().compute_score(gts, res)
  cider, _ = Cider().compute_score(gts, res)
  return {**{f'bleu{n + 1}': float(b) for n, b in enumerate(bleu)},
          'rouge_l': float(rouge), 'cider': float(cider)}


def score_captions(predictions: Sequence[str],
                   references: Sequence[Sequence[str]]) -> dict[str, float]:
  """Corpus BLEU-1..4, ROUGE-L and CIDEr-D of predictions against their references."""
  if len(predictions) != len(references):
    raise ValueError(f'{len(predictions)} predictions but {len(references)} reference lists')
  if not predictions:
    raise ValueError('no captions to score')
  for i, refs in enumerate(references):
    if not refs:
      raise ValueError(f'caption {i} has no reference')
  gts = {i: [tokenize(r) for r in refs] for i, refs in enumerate(references)}
  res = {i: [tokenize(p)] for i, p in enumerate(predictions)}
  return coco_scores(gts, res)


class CaptionAccumulator:
  """Collects (prediction, references, language[, CLIPScore]) over eval batches."""

  def __init__(self):
    self.rows: list[tuple[str, list[str], str]] = []
    self.clip: list[float] = []

  def update(self, predictions: Sequence[str], references: Sequence[Sequence[str] | None],
             lang: str, clip_scores: Sequence[float] | None = None) -> None:
    """Adds a batch; rows whose references are None (padding) are skipped."""
    if len(predictions) != len(references):
      raise ValueError(f'{len(predictions)} predictions but {len(references)} reference lists')
    for i, (pred, refs) in enumerate(zip(predictions, references)):
      if refs is None:
        continue
      self.rows.append((pred, list(refs), lang))
      if clip_scores is not None:
        self.clip.append(float(clip_scores[i]))

  def compute(self) -> dict:
    """{'bleu1'..'bleu4', 'rouge_l', 'cider', 'count', ['clipscore'], 'by_lang': {lang: ...}}."""
    if not self.rows:
      raise ValueError('no captions were added')
    preds, refs, langs = zip(*self.rows)
    out = {**score_captions(preds, refs), 'count': len(preds)}
    if self.clip:
      out['clipscore'] = float(np.mean(self.clip))
    out['by_lang'] = {}
    for lang in sorted(set(langs)):
      idx = [i for i, l in enumerate(langs) if l == lang]
      out['by_lang'][lang] = {**score_captions([preds[i] for i in idx], [refs[i] for i in idx]),
                              'count': len(idx)}
    return out


def clip_scores(zero_shot, images, captions: Sequence[str], **kwargs) -> np.ndarray:
  """Per-image CLIPScore [B] of English captions (inference/zero_shot.ZeroShotCLIP;
  `kwargs` go to its `clip_score`, e.g. the images' `normalization`)."""
  return np.asarray(zero_shot.clip_score(images, list(captions), **kwargs))
