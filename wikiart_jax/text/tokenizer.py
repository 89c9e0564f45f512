"""Caption tokenizers: a byte-level BPE built from the composer's sentences, or a pretrained one.

`tokenizer_source` gives a run its tokenizer folder: by default
(`data.caption.tokenizer=''`) `build_bpe_tokenizer` trains a cased byte-level BPE
on the composer's sentences of every style, genre and artist in both languages
(seconds, no network) and saves it as a PreTrainedTokenizerFast folder, which
`load_tokenizer` reads back. Byte-level BPE decodes exactly what it encoded
(accents, capitals, « », apostrophes); a tokenizer that cannot (GIT's
lower-casing, accent-stripping BERT) is refused with a clear error.
`special_ids` names BOS/EOS/PAD whatever the family calls them, and
`banned_tokens` the tokens through which a decoder could write a digit or a
title quote: the captioner's context holds no year and no title, so it may
write neither.

A caption is BOS, a language tag ("en:" / "fr:"), the sentence, EOS: the tag is
the generation prompt that picks the language (`prompt_ids`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import Iterable

import numpy as np

from wikiart_jax.core import LANGUAGES, PERIOD_END, PERIOD_START
from wikiart_jax.text import references

HUB_PREFIX = 'hf:'
LANG_TAGS = {'en': 'en:', 'fr': 'fr:'}
BPE_SPECIALS = {'pad_token': '<pad>', 'bos_token': '<bos>', 'eos_token': '<eos>'}
# What a tokenizer must give back unchanged: French with accents, ligatures, capitals.
FRENCH_PROBE = "Style impressionniste, œuvre d'Édouard Manet, représentant « Nymphéas » à Giverny."
# A decoder that can write none of these can write no year and no quoted title.
BANNED_CHARACTERS = '0123456789"«»“”'


@dataclasses.dataclass(frozen=True)
class SpecialIds:
  """Token ids framing a caption: BOS ... EOS, then PAD."""
  bos: int
  eos: int
  pad: int


def load_tokenizer(source: str):
  """A transformers tokenizer from 'hf:<hub id>' or a local folder (saved with save_pretrained)."""
  from transformers import AutoTokenizer  # pylint: disable=g-import-not-at-top
  if source.startswith(HUB_PREFIX):
    name = source[len(HUB_PREFIX):]
  else:
    name = os.path.expanduser(source)
    if not source or not os.path.isdir(name):
      raise FileNotFoundError(f'tokenizer folder {source!r} does not exist '
                              '(use hf:<hub id> or a local folder)')
  try:
    return AutoTokenizer.from_pretrained(name)
  except (OSError, ValueError) as e:
    raise ValueError(f'cannot load a tokenizer from {source!r}: '
                     f'{str(e).splitlines()[0] if str(e) else type(e).__name__}') from e


def special_ids(tokenizer) -> SpecialIds:
  """BOS/EOS/PAD ids: GPT-2's <|endoftext|> serves all three, BERT's are [CLS]/[SEP]/[PAD];
  T5 has no BOS: its decoder starts from PAD."""
  bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.cls_token_id
  if bos is None:
    bos = tokenizer.pad_token_id
  eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
  if bos is None or eos is None:
    raise ValueError(f'tokenizer {type(tokenizer).__name__} has no BOS/CLS/PAD or EOS/SEP token')
  pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
  return SpecialIds(bos=int(bos), eos=int(eos), pad=int(pad))


def build_bpe_tokenizer(out_dir: str, texts: Iterable[str], *, vocab_size: int):
  """Trains a cased byte-level BPE on `texts`, saves it to `out_dir` and returns it.

  Args:
    out_dir: folder to write (tokenizer.json and the transformers config files).
    texts: training sentences, e.g. every composer sentence of the vocabularies.
    vocab_size: target size, the 256 byte symbols and 3 specials included (fewer
      when the texts have no more merges to learn).

  Returns:
    The PreTrainedTokenizerFast (with <bos>, <eos>, <pad>), as `load_tokenizer(out_dir)` gives.
  """
  # pylint: disable=g-import-not-at-top
  from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
  from transformers import PreTrainedTokenizerFast  # pylint: disable=g-import-not-at-top
  texts = list(texts)
  if not texts:
    raise ValueError('build_bpe_tokenizer needs at least one training text')
  tok = Tokenizer(models.BPE())
  tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
  tok.decoder = decoders.ByteLevel()
  trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(BPE_SPECIALS.values()),
                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                show_progress=False)
  tok.train_from_iterator(texts, trainer=trainer)
  fast = PreTrainedTokenizerFast(tokenizer_object=tok, **BPE_SPECIALS)
  os.makedirs(out_dir, exist_ok=True)
  fast.save_pretrained(out_dir)
  return fast


def round_trips(tokenizer, text: str = FRENCH_PROBE) -> bool:
  """Whether `tokenizer` decodes its encoding of `text` back to `text` exactly."""
  return tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text


def _byte_level(tokenizer) -> dict[str, int] | None:
  """For a byte-level BPE (GPT-2's, ours), the map from its symbols to bytes; else None."""
  decoder = getattr(tokenizer, 'byte_decoder', None)  # slow GPT-2 tokenizers
  if decoder is None and hasattr(tokenizer, 'backend_tokenizer'):
    spec = json.loads(tokenizer.backend_tokenizer.to_str()).get('decoder') or {}
    kinds = {spec.get('type')} | {d.get('type') for d in spec.get('decoders', [])}
    if 'ByteLevel' in kinds:
      from transformers.convert_slow_tokenizer import bytes_to_unicode  # pylint: disable=g-import-not-at-top
      decoder = {ch: b for b, ch in bytes_to_unicode().items()}
  return decoder


def token_bytes(tokenizer) -> list[bytes | None]:
  """Each token id's UTF-8 bytes as it writes them (None for special tokens)."""
  special = set(tokenizer.all_special_ids)
  decoder = _byte_level(tokenizer)
  out = []
  for i, piece in enumerate(tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))):
    if i in special or piece is None:
      out.append(None)
    elif decoder is not None:
      out.append(bytes(decoder[ch] for ch in piece if ch in decoder))
    elif re.fullmatch(r'<0x[0-9A-Fa-f]{2}>', piece):  # SentencePiece byte fallback
      out.append(bytes([int(piece[3:5], 16)]))
    else:  # WordPiece '##' continuations, SentencePiece word starts
      out.append(piece.removeprefix('##').replace('\u2581', ' ').encode('utf-8'))
  return out


def banned_tokens(tokenizer, vocab_size: int) -> np.ndarray:
  """bool [vocab_size]: the ids through which a decoder could write a digit or a title
  quote (`BANNED_CHARACTERS`).

  A token is banned when its bytes hold such a character, or end in the middle of
  one (a lone lead byte such as the first of «'s two): then no sequence of
  allowed tokens spells one. Ids past the tokenizer's length are banned too.
  """
  banned_bytes = [ch.encode('utf-8') for ch in BANNED_CHARACTERS]
  openings = {b[:n] for b in banned_bytes for n in range(1, len(b))}
  out = np.ones((vocab_size,), bool)
  for i, piece in enumerate(token_bytes(tokenizer)[:vocab_size]):
    if piece is None:
      out[i] = False
      continue
    out[i] = (any(b in piece for b in banned_bytes)
              or any(piece.endswith(o) for o in openings))
  return out


def prompt_ids(tokenizer, lang: str) -> list[int]:
  """BOS + the language tag: the teacher-forcing prefix and the generation prompt."""
  if lang not in LANG_TAGS:
    raise ValueError(f'caption language must be one of {LANGUAGES}, got {lang!r}')
  return [special_ids(tokenizer).bos, *tokenizer.encode(LANG_TAGS[lang],
                                                        add_special_tokens=False)]


def training_texts(vocab) -> list[str]:
  """Composer sentences covering every style, genre and artist name of `vocab` in both
  languages: the training corpus of a run's BPE tokenizer (no titles, no years: the
  captioner never writes them)."""
  texts = []
  tags = list(getattr(vocab, 'tags', None) or ())
  for i, style in enumerate(vocab.style):
    for j, genre in enumerate([None, *vocab.genre]):
      a = (i + j) % len(vocab.artist_names) if vocab.artist_names else -1
      # Every tag and every part of every century of the period bins, in turn.
      k = (i * 11 + j) * 2
      shown = tuple(dict.fromkeys(tags[(k + n) % len(tags)] for n in range(2))) if tags else ()
      year = PERIOD_START + (i * 11 + j) * 17 % (PERIOD_END - PERIOD_START)
      for extra in ({}, {'tags': shown, 'year': year}):
        refs = references.references(style, vocab.artist_names[a] if a >= 0 else None, genre,
                                     artist_fr=vocab.artist_name(a, 'fr') if a >= 0 else None,
                                     **extra)
        texts += refs['en'] + refs['fr']
    # The hedged wordings of a captioner with a style-hedge token ("probably", two styles).
    for level, second in (('probable', None), ('two', vocab.style[(i + 1) % len(vocab.style)])):
      refs = references.hedged_references(style, None, None, style_level=level,
                                          second_style=second)
      texts += refs['en'] + refs['fr']
  names = {*vocab.artist_names, *(vocab.artist_name(i, 'fr') for i in range(len(vocab.artist)))}
  texts += [f'{LANG_TAGS[l]} {name}' for l in LANGUAGES for name in sorted(names)]
  return texts


def tokenizer_source(caption_config, vocab, workdir: str) -> str:
  """The run's caption tokenizer folder, `<workdir>/caption_tokenizer`, made once.

  The first call saves a copy of `caption_config.tokenizer` ('hf:<id>' or a
  folder) there, or, when that is '', builds a BPE of `caption_config.vocab_size`
  there from `training_texts(vocab)` (and the ArtEmis utterances, when
  configured). Every later call, and every mode restoring the run (eval,
  predict, serve, embed), reads the copy: no hub access after training. A folder
  path (not a tokenizer object) keeps the caption transform cheap to pickle.

  Raises:
    ValueError: the tokenizer cannot write French back (it lower-cases or strips
      accents, as GIT's BERT tokenizer does).
  """
  folder = os.path.join(workdir, 'caption_tokenizer')
  if os.path.isfile(os.path.join(folder, 'tokenizer_config.json')):
    return folder
  if caption_config.tokenizer:
    tokenizer = load_tokenizer(caption_config.tokenizer)
    if not round_trips(tokenizer):
      back = tokenizer.decode(tokenizer.encode(FRENCH_PROBE, add_special_tokens=False))
      raise ValueError(
          f'data.caption.tokenizer={caption_config.tokenizer} does not give French back '
          f'({FRENCH_PROBE!r} -> {back!r}): use a cased tokenizer that covers French, '
          "or '' for a BPE built from the descriptions")
    tokenizer.save_pretrained(folder)
  else:
    texts = training_texts(vocab)
    if caption_config.artemis_csv:  # English targets may be ArtEmis utterances too
      texts += [u for us in references.load_artemis(caption_config.artemis_csv).values()
                for u in us]
    build_bpe_tokenizer(folder, texts, vocab_size=caption_config.vocab_size)
  return folder
