"""Held-out evaluation of the captioner: generate, then score against references.

For every evaluation batch and every configured language, the captioner writes a
description from its context (`Captioner.condition`), by jitted generation with a
KV cache; the scores are BLEU-1..4, ROUGE-L and CIDEr-D against the label-built references
(pycocoevalcap), CLIPScore when CLIP weights are configured, and `style_named`:
the share of descriptions that name the true style.
"""

import re

import ml_collections
import numpy as np
from flax import nnx

from wikiart_jax import description
from wikiart_jax import generate
from wikiart_jax.data import captions
from wikiart_jax.data import tokenizer as tokenizer_lib
from wikiart_jax.eval import caption_metrics


def _style_forms() -> dict[str, list[tuple[str, str]]]:
  """Lower-cased ways each style is written, per language, longest first."""
  forms = {}
  for lang, tables in (('en', (description.STYLE_EN,)),
                       ('fr', (description.STYLE_FR, description.STYLE_FR_NOUN))):
    pairs = []
    for table in tables:
      for style, text in table.items():
        text = re.sub(r"^(l'|le |la |les )", '', text.lower())
        pairs.append((text, style))
    forms[lang] = sorted(set(pairs), key=lambda p: -len(p[0]))
  return forms


_FORMS = _style_forms()


def named_style(text: str, lang: str) -> str | None:
  """The style a description names: its longest style form found, or None.

  Longest first, so 'Analytical Cubist' is not read as 'Cubist'.
  """
  lowered = text.lower()
  for form, style in _FORMS[lang]:
    if re.search(rf'(?<!\w){re.escape(form)}(?!\w)', lowered):
      return style
  return None


class Describer:
  """The trained captioner and its tokenizer: its context -> descriptions."""

  def __init__(self, config: ml_collections.ConfigDict, vocab, workdir: str,
               graphdef, params, rest):
    from wikiart_jax.models import build  # pylint: disable=g-import-not-at-top
    self._config = config
    self.tokenizer = build.caption_tokenizer(config, vocab, workdir)
    self._ids = tokenizer_lib.special_ids(self.tokenizer)
    self._captioner = nnx.merge(graphdef, params, rest).captioner

  def describe(self, context, lang: str) -> list[str]:
    """One generated description per row of the captioner's `context` [B,M,D]
    (`Captioner.condition`, as the eval step returns it)."""
    prompt = captions.prompt_ids(self.tokenizer, lang)
    cfg = self._config.eval.caption
    out = generate.generate(
        self._captioner, np.tile(prompt, (context.shape[0], 1)),
        image_tokens=context,
        max_new_tokens=self._config.data.caption.max_len - len(prompt),
        eos_id=self._ids.eos, pad_id=self._ids.pad, method=cfg.method,
        num_beams=cfg.num_beams, length_penalty=cfg.length_penalty, top_p=cfg.top_p)
    return generate.decode_texts(np.asarray(out), self.tokenizer, self._ids.eos)


class CaptionEvaluator:
  """Generates descriptions for eval batches and accumulates their scores."""

  def __init__(self, config: ml_collections.ConfigDict, vocab, workdir: str,
               graphdef, params, rest):
    self._vocab = vocab
    self._config = config
    self.describer = Describer(config, vocab, workdir, graphdef, params, rest)
    self._accumulator = caption_metrics.CaptionAccumulator()
    self._named = self._total = 0
    self._clip = None
    if config.eval.caption.clip_from:
      from wikiart_jax.eval import zero_shot  # pylint: disable=g-import-not-at-top
      self._clip = zero_shot.ZeroShotCLIP.from_pretrained(config.eval.caption.clip_from)
    self.samples: list[dict] = []

  def update(self, context, batch: dict) -> None:
    """Scores one batch; `batch` is host numpy with labels, 'title' and 'path'."""
    references = captions.batch_references(self._vocab, batch)
    for lang in self._config.data.caption.languages:
      texts = self.describer.describe(context, lang)
      refs = [r and r[lang] for r in references]
      clip = None
      if self._clip is not None and lang == 'en':
        clip = caption_metrics.clip_scores(self._clip, np.asarray(batch['image']), texts)
      self._accumulator.update(texts, refs, lang, clip_scores=clip)
      for i, text in enumerate(texts):
        style = int(batch['style'][i])
        if style < 0:
          continue
        self._total += 1
        self._named += named_style(text, lang) == self._vocab.style[style]
        if len(self.samples) < 6:
          self.samples.append({'lang': lang, 'generated': text, 'reference': refs[i][0]})

  def compute(self) -> dict:
    """bleu1..4, rouge_l, cider, count, by_lang, style_named [, clipscore]."""
    out = self._accumulator.compute()
    out['style_named'] = self._named / self._total if self._total else float('nan')
    return out
