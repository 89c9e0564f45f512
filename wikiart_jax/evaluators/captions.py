"""Held-out evaluation of the captioner: generate, then score against references.

For every evaluation batch and every configured language, the captioner writes a
description from its context (`Captioner.condition`), by jitted generation with a
KV cache; the scores are BLEU-1..4, ROUGE-L and CIDEr-D against the label-built
references (pycocoevalcap), CLIPScore when CLIP weights are configured,
`style_named`: the share of descriptions that name the true style, and, per
language and overall, `faithful`: the share whose named facts (style, artist,
genre, year, title, content tags, period, colours: text/mentions.py) all agree
with the model's own predictions (tags at or above `describe.tag_probable`, the
period estimate), the pixels' palette (measured only for a description that
names a colour) and the metadata, and `invented`: the share naming a year or a
title that is not in the metadata.
"""

import numpy as np

from wikiart_jax.data import augment
from wikiart_jax.evaluators.base import EvalBatch, Evaluator
from wikiart_jax.inference import content
from wikiart_jax.inference import describer
from wikiart_jax.metrics import captions as caption_metrics
from wikiart_jax.text import references
from wikiart_jax.text import mentions

NUM_SAMPLES = 6


class CaptionEvaluator(Evaluator):
  """Generates descriptions for eval batches and accumulates their scores."""

  name = 'caption'
  needs_text = True  # the references need each image's title (and ArtEmis its path)

  def __init__(self, writer: describer.CaptionWriter, vocab, languages, *, clip=None,
               norm: augment.Normalization = augment.IMAGENET, tag_threshold: float = 0.5):
    """Args: the captioner's writer, the vocabularies, the languages to write in,
    a `ZeroShotCLIP` for CLIPScore (None = skip), the images' normalisation, and
    the probability from which a tag counts as predicted (`describe.tag_probable`)."""
    self.writer = writer
    self._tag_threshold = float(tag_threshold)
    self._norm = norm
    self._vocab = vocab
    self._languages = tuple(languages)
    self._clip = clip
    self._accumulator = caption_metrics.CaptionAccumulator()
    self._reader = mentions.MentionReader.of(vocab)
    # Per language: descriptions, naming the true style, faithful, inventing.
    self._counts = {lang: np.zeros(4, np.int64) for lang in self._languages}
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
        named = self._reader.read(text, lang)
        verdict = mentions.judge(named, self._expected(batch, i, bool(named.colours)))
        self._counts[lang] += (1, self._vocab.style[style] in named.styles, verdict.faithful,
                               verdict.invented)
        if len(self._samples) < NUM_SAMPLES:
          self._samples.append({'lang': lang, 'generated': text, 'reference': refs[i][0]})

  def _rgb(self, image) -> np.ndarray:
    """The model's normalised input back to RGB uint8 (for the palette)."""
    mean, std = np.asarray(self._norm.mean), np.asarray(self._norm.std)
    return np.clip(np.round((np.asarray(image, np.float32) * std + mean) * 255), 0,
                   255).astype(np.uint8)

  def _expected(self, batch: EvalBatch, i: int, with_palette: bool) -> mentions.Expected:
    """What row i's description may name: the heads' predictions, the metadata, and
    (`with_palette`) the palette of its pixels."""
    local = batch.local
    tags, period = batch.own_content
    year = int(local['year'][i]) if 'year' in local else -1
    title = references.as_text(local['title'][i]) if 'title' in local else ''
    palette = (content.palette_and_light(self._rgb(local['image'][i]))[0] if with_palette
               else None)
    return describer.expected(
        self._vocab, {task: p[i] for task, p in batch.own_probs.items()},
        tag_threshold=self._tag_threshold, tags=None if tags is None else tags[i],
        period=None if period is None else period[i], year=year if year >= 0 else None,
        title=title or None, palette=palette)

  @staticmethod
  def _shares(counts: np.ndarray) -> dict[str, float]:
    total = counts[0]
    share = (lambda k: float(counts[k] / total)) if total else (lambda k: float('nan'))
    return {'style_named': share(1), 'faithful': share(2), 'invented': share(3)}

  def result(self) -> dict[str, dict]:
    """{'caption': bleu1..4, rouge_l, cider, count, style_named, faithful, invented,
    by_lang (the same per language) [, clipscore]}."""
    out = self._accumulator.compute()
    out.update(self._shares(sum(self._counts.values())))
    for lang, counts in self._counts.items():
      out['by_lang'].setdefault(lang, {}).update(self._shares(counts))
    return {'caption': out}

  def line(self, result: dict[str, dict]) -> str:
    c = result['caption']
    return (f"caption BLEU-4 {c['bleu4']:.3f} ROUGE-L {c['rouge_l']:.3f} "
            f"CIDEr {c['cider']:.3f} style named {c['style_named']:.3f} "
            f"faithful {c['faithful']:.3f} invented {c['invented']:.3f}")
