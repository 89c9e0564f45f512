"""Held-out evaluation of the captioner: generate, then score against references.

For every evaluation batch and every configured language, the captioner writes a
description from its context (`Captioner.condition`), by jitted generation with a
KV cache; the scores are BLEU-1..4, ROUGE-L and CIDEr-D against the label-built
references (pycocoevalcap), CLIPScore when CLIP weights are configured, and
`style_named`: the share of descriptions that name the true style.
"""

import numpy as np

from wikiart_jax.data import augment
from wikiart_jax.evaluators.base import EvalBatch, Evaluator
from wikiart_jax.inference.describer import CaptionWriter
from wikiart_jax.metrics import captions as caption_metrics
from wikiart_jax.text import references
from wikiart_jax.text.style_mentions import named_style

NUM_SAMPLES = 6


class CaptionEvaluator(Evaluator):
  """Generates descriptions for eval batches and accumulates their scores."""

  name = 'caption'
  needs_text = True  # the references need each image's title (and ArtEmis its path)

  def __init__(self, writer: CaptionWriter, vocab, languages, *, clip=None,
               norm: augment.Normalization = augment.IMAGENET):
    """Args: the captioner's writer, the vocabularies, the languages to write in,
    a `ZeroShotCLIP` for CLIPScore (None = skip), and the images' normalisation."""
    self.writer = writer
    self._norm = norm
    self._vocab = vocab
    self._languages = tuple(languages)
    self._clip = clip
    self._accumulator = caption_metrics.CaptionAccumulator()
    self._named = self._total = 0
    self._samples: list[dict] = []

  @property
  def samples(self) -> list[dict]:
    return self._samples

  def update(self, batch: EvalBatch) -> None:
    """Scores this process's rows (on several hosts the caption metrics are
    process 0's share of the split)."""
    local = batch.local
    refs_all = references.batch_references(self._vocab, local)
    for lang in self._languages:
      texts = self.writer.write(batch.context, lang)
      refs = [r and r[lang] for r in refs_all]
      clip = None
      if self._clip is not None and lang == 'en':
        clip = caption_metrics.clip_scores(self._clip, np.asarray(local['image']), texts,
                                           normalization=self._norm)
      self._accumulator.update(texts, refs, lang, clip_scores=clip)
      for i, text in enumerate(texts):
        style = int(local['style'][i])
        if style < 0:
          continue
        self._total += 1
        self._named += named_style(text, lang) == self._vocab.style[style]
        if len(self._samples) < NUM_SAMPLES:
          self._samples.append({'lang': lang, 'generated': text, 'reference': refs[i][0]})

  def result(self) -> dict[str, dict]:
    """{'caption': bleu1..4, rouge_l, cider, count, by_lang, style_named [, clipscore]}."""
    out = self._accumulator.compute()
    out['style_named'] = self._named / self._total if self._total else float('nan')
    return {'caption': out}

  def line(self, result: dict[str, dict]) -> str:
    c = result['caption']
    return (f"caption BLEU-4 {c['bleu4']:.3f} ROUGE-L {c['rouge_l']:.3f} "
            f"CIDEr {c['cider']:.3f} style named {c['style_named']:.3f}")
