"""A pretrained decoder's token rows for the run's own tokenizer.

When the captioner writes with a tokenizer other than its checkpoint's (GIT's
BERT tokenizer lower-cases and strips accents, so the run builds a cased
byte-level BPE instead), the word embeddings and the LM head change size. Each
new token's row starts as the mean of the checkpoint's rows for the pieces the
checkpoint's own tokenizer cuts the same text into ("Nymphéas" -> "nymph",
"##eas"), and a special token takes the row of the checkpoint's token of the same
role (BOS, EOS, PAD): the decoder starts from what it knew of those words.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from wikiart_jax.text import tokenizer as tokenizer_lib


def same_vocabulary(a, b) -> bool:
  """Whether two tokenizers map the same tokens to the same ids."""
  return len(a) == len(b) and a.get_vocab() == b.get_vocab()


def piece_ids(old_tokenizer, new_tokenizer) -> list[list[int]]:
  """For each id of `new_tokenizer`, the ids of `old_tokenizer` whose rows make its row."""
  old_ids = tokenizer_lib.special_ids(old_tokenizer)
  new_ids = tokenizer_lib.special_ids(new_tokenizer)
  by_role = {new_ids.bos: old_ids.bos, new_ids.eos: old_ids.eos, new_ids.pad: old_ids.pad}
  fallback = old_tokenizer.unk_token_id if old_tokenizer.unk_token_id is not None else old_ids.pad
  out = []
  for i, raw in enumerate(tokenizer_lib.token_bytes(new_tokenizer)):
    if i in by_role:
      out.append([by_role[i]])
      continue
    text = (raw or b'').decode('utf-8', errors='ignore')
    pieces = old_tokenizer.encode(text, add_special_tokens=False) if text.strip() else []
    out.append(pieces or [fallback])
  return out


def resize_rows(rows: np.ndarray, pieces: Sequence[Sequence[int]]) -> np.ndarray:
  """[V_old, ...] -> [len(pieces), ...]: row i is the mean of rows[pieces[i]]."""
  rows = np.asarray(rows)
  out = np.stack([rows[list(ids)].astype(np.float64).mean(axis=0) for ids in pieces])
  return out.astype(rows.dtype)


def resize(tensors: dict[str, np.ndarray], keys: Sequence[str],
           pieces: Sequence[Sequence[int]]) -> dict[str, np.ndarray]:
  """`tensors` with the token-indexed `keys` (present ones) resized by `resize_rows`."""
  return {**tensors, **{k: resize_rows(tensors[k], pieces) for k in keys if k in tensors}}
