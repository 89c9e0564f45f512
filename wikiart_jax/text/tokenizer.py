"""Caption tokenizers: a pretrained one (GPT-2's, GIT's BERT) or a small offline one.

`load_tokenizer('hf:<id>' | folder)` returns a transformers tokenizer;
`build_demo_tokenizer(out_dir, texts)` trains a byte-level BPE on the demo's
reference descriptions (seconds, no network) and saves it as a
PreTrainedTokenizerFast folder that `load_tokenizer` reads back. Byte-level BPE
decodes exactly what it encoded (accents, « », apostrophes), which a word-level
vocabulary cannot. `special_ids` names BOS/EOS/PAD whatever the family calls them.

A caption is BOS, a language tag ("en:" / "fr:"), the sentence, EOS: the tag is
the generation prompt that picks the language (`prompt_ids`).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Iterable, Sequence

from wikiart_jax.core import LANGUAGES
from wikiart_jax.text import references

HUB_PREFIX = 'hf:'
LANG_TAGS = {'en': 'en:', 'fr': 'fr:'}
DEMO_SPECIALS = {'pad_token': '<pad>', 'bos_token': '<bos>', 'eos_token': '<eos>'}


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


def build_demo_tokenizer(out_dir: str, texts: Iterable[str], *, vocab_size: int = 1024):
  """Trains a byte-level BPE on `texts`, saves it to `out_dir` and returns it.

  Args:
    out_dir: folder to write (tokenizer.json and the transformers config files).
    texts: training sentences, e.g. every reference description of the demo set.
    vocab_size: target size, the 256 byte symbols and 3 specials included.

  Returns:
    The PreTrainedTokenizerFast (with <bos>, <eos>, <pad>), as `load_tokenizer(out_dir)` gives.
  """
  # pylint: disable=g-import-not-at-top
  from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
  from transformers import PreTrainedTokenizerFast  # pylint: disable=g-import-not-at-top
  texts = list(texts)
  if not texts:
    raise ValueError('build_demo_tokenizer needs at least one training text')
  tok = Tokenizer(models.BPE())
  tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
  tok.decoder = decoders.ByteLevel()
  trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(DEMO_SPECIALS.values()),
                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                show_progress=False)
  tok.train_from_iterator(texts, trainer=trainer)
  fast = PreTrainedTokenizerFast(tokenizer_object=tok, **DEMO_SPECIALS)
  os.makedirs(out_dir, exist_ok=True)
  fast.save_pretrained(out_dir)
  return fast


def prompt_ids(tokenizer, lang: str) -> list[int]:
  """BOS + the language tag: the teacher-forcing prefix and the generation prompt."""
  if lang not in LANG_TAGS:
    raise ValueError(f'caption language must be one of {LANGUAGES}, got {lang!r}')
  return [special_ids(tokenizer).bos, *tokenizer.encode(LANG_TAGS[lang],
                                                        add_special_tokens=False)]


def training_texts(vocab, *, years: Sequence[int] = (1500, 1750, 1880, 1919),
                   titles: Sequence[str] = ('Nymphéas', 'The Wave', "L'Été")) -> list[str]:
  """Sentences covering every style, genre and artist name of `vocab` in both languages:
  the training corpus of the demo tokenizer (titles only need representative characters)."""
  texts = []
  for i, style in enumerate(vocab.style):
    for j, genre in enumerate([None, *vocab.genre]):
      artist = vocab.artist_names[(i + j) % len(vocab.artist_names)] if vocab.artist_names else None
      refs = references.references(style, artist, genre, years[(i + j) % len(years)],
                                   titles[(i + j) % len(titles)])
      texts += refs['en'] + refs['fr']
  texts += [f'{LANG_TAGS[l]} {name}' for l in LANGUAGES for name in vocab.artist_names]
  return texts


def tokenizer_source(caption_config, vocab, workdir: str) -> str:
  """The run's caption tokenizer folder, `<workdir>/caption_tokenizer`, made once.

  The first call saves a copy of `caption_config.tokenizer` ('hf:<id>' or a
  folder) there, or, when that is '', builds the demo BPE there from
  `training_texts(vocab)`. Every later call, and every mode restoring the run
  (eval, predict, serve, embed), reads the copy: no hub access after training.
  A folder path (not a tokenizer object) keeps the caption transform cheap to pickle.
  """
  folder = os.path.join(workdir, 'caption_tokenizer')
  if os.path.isfile(os.path.join(folder, 'tokenizer_config.json')):
    return folder
  if caption_config.tokenizer:
    load_tokenizer(caption_config.tokenizer).save_pretrained(folder)
  else:
    build_demo_tokenizer(folder, training_texts(vocab))
  return folder
