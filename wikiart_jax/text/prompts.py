"""What a BLIP-2 captioner is asked: its prompts as text, and as the token ids its
language model reads.

A trained captioner is asked with the classification heads' top-1 labels and an
instruction naming the language, so that its description agrees with the labels:

    Style: Impressionism. Artist: Claude Monet. Genre: landscape. Description in English:
    Style: Impressionism. Artist: Claude Monet. Genre: landscape. Description en français :

Training writes the true labels there (data/caption_targets.py), generation the
heads' predictions (inference/describer.py). Zero-shot, BLIP-2 as released is
asked nothing in English (its own caption) and for French an instruction, which
only Flan-T5 follows. A `Framing` (from the checkpoint's config) says how the
language model reads a row: OPT a prompt after BOS; T5's encoder a prompt
ending with EOS (as their own tokenizers frame text); both end a description
with the checkpoint's EOS (for BLIP-2's OPT that is a newline, as it was trained).
"""

from __future__ import annotations

import dataclasses

from wikiart_jax.core import LANGUAGES
from wikiart_jax.text import lexicon

FAMILIES = ('opt', 't5')
INSTRUCTIONS = {'en': 'Description in English:', 'fr': f'Description en français{lexicon.NBSP}:'}
ZERO_SHOT = {'en': '', 'fr': 'Describe this painting in French:'}


def _check(lang: str, family: str | None = None) -> None:
  if lang not in LANGUAGES:
    raise ValueError(f'caption language must be one of {LANGUAGES}, got {lang!r}')
  if family is not None and family not in FAMILIES:
    raise ValueError(f'BLIP-2 language model family must be one of {FAMILIES}, got {family!r}')


def label_prompt(style: str | None, artist: str | None, genre: str | None, lang: str) -> str:
  """The prompt naming the labels (ArtGAN class names; None = unknown, left out)."""
  _check(lang)
  parts = []
  if style:
    parts.append(f"Style: {style.replace('_', ' ')}.")
  if artist:
    parts.append(f'Artist: {artist}.')
  if genre:
    parts.append(f"Genre: {lexicon.GENRE_EN.get(genre, genre.replace('_', ' '))}.")
  return ' '.join(parts + [INSTRUCTIONS[lang]])


def zero_shot_prompt(lang: str) -> str:
  """What released BLIP-2 is asked, with no labels: '' (its own caption) in English."""
  _check(lang)
  return ZERO_SHOT[lang]


@dataclasses.dataclass(frozen=True)
class Framing:
  """How a BLIP-2 language model reads a caption row: its family and special ids."""
  family: str  # 'opt' | 't5'
  bos: int  # OPT's first prompt token
  eos: int  # ends a description (and T5's prompt)
  pad: int  # fills a row after EOS

  def __post_init__(self):
    _check('en', self.family)

  def prompt(self, tokenizer, text: str) -> list[int]:
    """The prompt's ids as the language model reads them: OPT [BOS, ...]; T5 [..., EOS]."""
    ids = tokenizer.encode(text, add_special_tokens=False) if text else []
    return [self.bos, *ids] if self.family == 'opt' else [*ids, self.eos]
