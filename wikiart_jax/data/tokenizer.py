"""Caption tokenizers: a pretrained one (GPT-2's, GIT's BERT) or a small offline one.

`load_tokenizer('hf:<id>' | folder)` returns a transformers tokenizer;
`build_demo_tokenizer(out_dir, texts)` trains a byte-level BPE on the demo's
reference descriptions (seconds, no network) and saves it as a
PreTrainedTokenizerFast folder that `load_tokenizer` reads back. Byte-level BPE
decodes exactly what it encoded (accents, « », apostrophes), which a word-level
vocabulary cannot. `special_ids` names BOS/EOS/PAD whatever the family calls them.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Iterable

HUB_PREFIX = 'hf:'
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
  """BOS/EOS/PAD ids: GPT-2's <|endoftext|> serves all three, BERT's are [CLS]/[SEP]/[PAD]."""
  bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.cls_token_id
  eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
  if bos is None or eos is None:
    raise ValueError(f'tokenizer {type(tokenizer).__name__} has no BOS/CLS or EOS/SEP token')
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
