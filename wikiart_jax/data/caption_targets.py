"""The caption target of each training example: a grain map from labels to tokens.

`CaptionTransform` turns a decoded example's labels into int32 'caption_tokens' /
'caption_mask' [max_len] and 'caption_lang' (0 en, 1 fr): a random composer
sentence of the example's labels (text/references.py: style, artist, genre, the
content tags present, the year as the part of its century in words; never a
title or a year) in a random configured language, as BOS, the language tag, the
sentence, EOS, padding. The tag is the generation prompt, so the mask (the loss
weights) is 1 on the sentence and EOS only. For a BLIP-2 captioner (`blip2`, its
`prompts.Framing`) the prompt is instead the example's true labels and the
language's instruction (text/prompts.py), framed for its language model: OPT
[BOS, prompt, sentence, EOS], T5 [prompt, EOS, sentence, EOS], with the
checkpoint's EOS and padding. With `hedge_ratio` > 0 (a captioner with a
style-hedge token) that share of the targets words the style as "probably" so (a
quarter) or as one of two (a random runner-up), and 'caption_style_hedge' (int32: -1 sure,
-2 probable, else the runner-up's index) tells the train step which. With
`tag_drop` > 0 (a captioner with tag tokens) each present tag is left out of the
target at that rate, and 'caption_tags' (float32 [num_tags], core.CAPTION_TAGS)
holds the tags it kept, for the captioner's tag tokens: the decoder then sees
pictures that show a tag its tokens do not hold, and learns to name only theirs
(at inference they hold the tag head's choice, which may miss what the picture
shows). With `style_swap` / `artist_swap` > 0 (a captioner whose style and artist
tokens are the heads' first choices) that share of the targets names a random
other style / artist, which 'caption_style' / 'caption_artist' (int32,
core.CAPTION_STYLE / CAPTION_ARTIST) give those tokens: the decoder learns to
name the class its token holds, not the one the picture suggests.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import grain
import numpy as np

from wikiart_jax.core import (CAPTION_ARTIST, CAPTION_STYLE, CAPTION_TAGS, HEDGE_PROBABLE,
                              HEDGE_SURE, LANGUAGES, STYLE_HEDGE, TAGS)
from wikiart_jax.text import prompts
from wikiart_jax.text import references
from wikiart_jax.text import tokenizer as tokenizer_lib

_ENCODED_CACHE_SIZE = 200_000  # tokenised targets kept per transform (~40 MB at max_len 48)


class CaptionTransform(grain.transforms.RandomMap):
  """Adds 'caption_tokens', 'caption_mask' [max_len] and 'caption_lang' to an example.

  'caption_mask' is 1 on the tokens to predict (sentence and EOS), 0 on BOS, the
  language tag and padding: pass it to the captioner's caption loss.

  The example needs int labels 'style', 'artist', 'genre', 'year' (-1 unknown)
  and may carry 'title' and 'path' (bytes or str); those two are removed from the
  output (when `drop_text`) so batches stay numeric. A padding row (style -1)
  gets an all-zero mask. Picklable (grain workers): the tokenizer is reloaded
  from `tokenizer_source` when given as a string.
  """

  def __init__(self, vocab, tokenizer, *, max_len: int, languages: Sequence[str] = LANGUAGES,
               artemis: Mapping[str, Sequence[str]] | None = None,
               artemis_ratio: float = 0.0, drop_text: bool = True,
               blip2: prompts.Framing | None = None, hedge_ratio: float = 0.0,
               language_weights: Sequence[float] = (), tag_drop: float = 0.0,
               style_swap: float = 0.0, artist_swap: float = 0.0,
               close_runner_up: float = 0.0):
    if max_len < 3:
      raise ValueError(f'caption max_len must be >= 3 (BOS, a token, EOS), got {max_len}')
    unknown = set(languages) - set(LANGUAGES)
    if not languages or unknown:
      raise ValueError(f'caption languages must be a non-empty subset of {LANGUAGES}, '
                       f'got {list(languages)}')
    self.vocab = vocab
    self.tokenizer_source = tokenizer if isinstance(tokenizer, str) else None
    self._tokenizer = None if isinstance(tokenizer, str) else tokenizer
    self.max_len = max_len
    self.languages = tuple(languages)
    weights = np.asarray(language_weights, np.float64)
    if len(weights) and (len(weights) != len(self.languages) or (weights < 0).any()
                         or weights.sum() <= 0):
      raise ValueError('data.caption.language_weights must be one non-negative weight per '
                       f'language {list(self.languages)}, got {list(language_weights)}')
    # None: uniform (the draw the targets had before weights existed).
    self.language_p = weights / weights.sum() if len(weights) else None
    self.artemis = dict(artemis or {})
    self.artemis_ratio = float(artemis_ratio)
    self.drop_text = drop_text
    self.blip2 = blip2  # a BLIP-2 language model's framing: prompts name the labels
    if not 0.0 <= hedge_ratio <= 1.0 or (hedge_ratio and blip2 is not None):
      raise ValueError('data.caption.hedge_ratio must be in [0, 1] (0 for a BLIP-2 '
                       f'captioner, whose prompts name the labels), got {hedge_ratio}')
    self.hedge_ratio = float(hedge_ratio)
    if not 0.0 <= tag_drop < 1.0:
      raise ValueError(f'data.caption.tag_drop must be in [0, 1), got {tag_drop}')
    self.tag_drop = float(tag_drop)
    for name, rate, classes in (('style_swap', style_swap, vocab.style),
                                ('artist_swap', artist_swap, vocab.artist)):
      if not 0.0 <= rate < 1.0 or (rate and len(classes) < 2):
        raise ValueError(f'data.caption.{name} must be in [0, 1) (0 with fewer than two '
                         f'classes), got {rate}')
    self.style_swap, self.artist_swap = float(style_swap), float(artist_swap)
    if not 0.0 <= close_runner_up <= 1.0:
      raise ValueError(f'data.caption.close_runner_up must be in [0, 1], got {close_runner_up}')
    self.close_runner_up = float(close_runner_up)
    self._close = close_styles(vocab.style)
    # Each image has a handful of possible targets, seen again every epoch: tokenise
    # each once (about a quarter of the demo's input-pipeline time otherwise).
    self._encoded: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

  @property
  def tokenizer(self):
    if self._tokenizer is None:
      self._tokenizer = tokenizer_lib.load_tokenizer(self.tokenizer_source)
    return self._tokenizer

  def __getstate__(self):
    state = dict(self.__dict__)
    state['_encoded'] = {}
    if self.tokenizer_source is not None:
      state['_tokenizer'] = None  # reloaded in the worker
    return state

  def encode(self, text: str, lang: str,
             prompt: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """[prompt (default BOS, tag), sentence..., EOS, pad...] cut to max_len (EOS kept):
    (ids, loss mask)."""
    key = (text, lang, prompt)
    cached = self._encoded.get(key)  # one lookup: grain's threads share the dict
    if cached is None:
      if len(self._encoded) >= _ENCODED_CACHE_SIZE:
        self._encoded.clear()  # bounded memory on the full dataset's ~500k targets
      cached = self._encoded[key] = self._encode(text, lang, prompt)
    return cached[0].copy(), cached[1].copy()

  def prompt(self, facts: references.LabelFacts, lang: str) -> tuple[int, ...] | None:
    """A BLIP-2 captioner's prompt for these (true) labels; None for the tag prompt."""
    if self.blip2 is None:
      return None
    return tuple(self.blip2.prompt(
        self.tokenizer, prompts.label_prompt(facts.style, facts.artist, facts.genre, lang)))

  def _encode(self, text: str, lang: str,
              prompt: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    prompt = list(prompt) if prompt else tokenizer_lib.prompt_ids(self.tokenizer, lang)
    room = self.max_len - len(prompt) - 1
    if room < 1:
      raise ValueError(f'caption max_len {self.max_len} leaves no room after the prompt')
    body = self.tokenizer.encode(' ' + text, add_special_tokens=False)[:room]
    eos, pad = self._eos_pad()
    seq = [*prompt, *body, eos]
    tokens = np.full((self.max_len,), pad, np.int32)
    tokens[:len(seq)] = seq
    mask = np.zeros((self.max_len,), np.int32)
    mask[len(prompt):len(seq)] = 1
    return tokens, mask

  def _eos_pad(self) -> tuple[int, int]:
    if self.blip2 is not None:
      return self.blip2.eos, self.blip2.pad
    special = tokenizer_lib.special_ids(self.tokenizer)
    return special.eos, special.pad

  def random_map(self, element, rng: np.random.Generator):
    out = dict(element)
    path = references.as_text(out.pop('path', '') if self.drop_text else out.get('path', ''))
    if self.drop_text:
      out.pop('title', None)
    facts = references.label_facts(self.vocab, element)
    lang = self.languages[rng.integers(len(self.languages)) if self.language_p is None
                          else rng.choice(len(self.languages), p=self.language_p)]
    if facts is None:
      tokens = np.full((self.max_len,), self._eos_pad()[1], np.int32)
      mask = np.zeros((self.max_len,), np.int32)
    else:
      if self.tag_drop and facts.tags:
        facts = facts._replace(tags=tuple(t for t in facts.tags
                                          if rng.random() >= self.tag_drop))
      style, artist = int(element['style']), int(element['artist'])
      if self.style_swap and rng.random() < self.style_swap:
        style = _other(style, len(self.vocab.style), rng)
        facts = facts._replace(style=self.vocab.style[style])
      if self.artist_swap and artist >= 0 and rng.random() < self.artist_swap:
        artist = _other(artist, len(self.vocab.artist), rng)
        facts = facts._replace(artist=self.vocab.artist_names[artist],
                               artist_fr=self.vocab.artist_name(artist, 'fr'))
      level, second, hedge = self._hedge(style, rng)
      text = references.sample_target(facts.style, facts.artist, facts.genre, rng=rng,
                                      lang=lang, artist_fr=facts.artist_fr,
                                      utterances=self.artemis.get(path, ()),
                                      artemis_ratio=self.artemis_ratio,
                                      tags=facts.tags, year=facts.year,
                                      style_level=level, second_style=second)
      tokens, mask = self.encode(text, lang, self.prompt(facts, lang))
    out.update(caption_tokens=tokens, caption_mask=mask,
               caption_lang=np.int32(LANGUAGES.index(lang)))
    if self.hedge_ratio:
      out[STYLE_HEDGE] = np.int32(HEDGE_SURE if facts is None else hedge)
    if self.style_swap:
      out[CAPTION_STYLE] = np.int32(style if facts is not None else -1)
    if self.artist_swap:
      out[CAPTION_ARTIST] = np.int32(artist if facts is not None else -1)
    if self.tag_drop and TAGS in element:
      kept = set(facts.tags) if facts is not None else set()
      out[CAPTION_TAGS] = np.asarray([t in kept for t in self.vocab.tags], np.float32)
    return out

  def _hedge(self, style: int, rng: np.random.Generator) -> tuple[str, str | None, int]:
    """This target's style level, runner-up name and hedge value (-1 sure, -2 probable,
    else the runner-up's index): at `hedge_ratio`, a quarter "probably", the rest two
    styles."""
    if not self.hedge_ratio or rng.random() >= self.hedge_ratio:
      return 'sure', None, HEDGE_SURE
    if rng.random() < 0.25:  # one word more; naming the runner-up is the harder to learn
      return 'probable', None, HEDGE_PROBABLE
    close = self._close[style]
    if close and rng.random() < self.close_runner_up:
      other = close[int(rng.integers(len(close)))]
    else:
      other = _other(style, len(self.vocab.style), rng)
    return 'two', self.vocab.style[other], other


def close_styles(styles: Sequence[str]) -> list[tuple[int, ...]]:
  """Per style, the others whose names share a word with it ("Cubism" and "Synthetic
  Cubism", the Renaissances): the runner-ups the style head gives most, and the pairs
  a decoder copying the first name tells apart by a single word."""
  words = [set(s.lower().split('_')) for s in styles]
  return [tuple(j for j in range(len(styles)) if j != i and words[i] & words[j])
          for i in range(len(styles))]


def _other(label: int, num_classes: int, rng: np.random.Generator) -> int:
  """A uniformly drawn class other than `label`."""
  other = int(rng.integers(num_classes - 1))
  return other + (other >= label)


def make_transform(caption_config, vocab, tokenizer,
                   blip2: prompts.Framing | None = None,
                   hedging: bool = False, tag_tokens: bool = False,
                   class_tokens: bool = False) -> CaptionTransform:
  """The CaptionTransform of `config.data.caption` (max_len, languages, artemis_*);
  `blip2` for a BLIP-2 captioner's label prompts; `hedging` for a captioner with a
  style-hedge token (without one, `hedge_ratio` is not used); `tag_tokens` for one
  whose context holds the tags (without, `tag_drop` is not used); `class_tokens` for
  one whose context holds the style and artist heads' first choices (without,
  `style_swap` and `artist_swap` are not used)."""
  artemis = (references.load_artemis(caption_config.artemis_csv)
             if caption_config.artemis_csv else None)
  return CaptionTransform(vocab, tokenizer, max_len=caption_config.max_len,
                          languages=list(caption_config.languages), artemis=artemis,
                          language_weights=tuple(caption_config.get('language_weights', ())),
                          artemis_ratio=caption_config.artemis_ratio,
                          blip2=blip2,
                          hedge_ratio=caption_config.get('hedge_ratio', 0.0) if hedging else 0.0,
                          tag_drop=caption_config.get('tag_drop', 0.0) if tag_tokens else 0.0,
                          style_swap=caption_config.get('style_swap', 0.0) if class_tokens else 0.0,
                          artist_swap=(caption_config.get('artist_swap', 0.0) if class_tokens
                                       else 0.0),
                          close_runner_up=(caption_config.get('close_runner_up', 0.0) if hedging
                                           else 0.0))
