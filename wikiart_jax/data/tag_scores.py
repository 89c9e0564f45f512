"""Scoring every image of a dataset with a tag scorer (CLIP), resumably, at `prepare`.

    score_records(records, total, scorer, folder) -> {record key: probabilities [T]}

The records are cut, in their (stable) order, into chunks of `chunk_size`; each
finished chunk is written to `folder/chunk_<i>.npz` atomically (a temporary file,
then a rename), so a run that stops (killed, out of memory, a power cut) loses at
most the chunk in progress: the next run loads the finished chunks and goes on.
`folder/manifest.json` holds the scorer's fingerprint (model, tags, prompts,
pixels); a folder made by another scorer is refused rather than mixed. Images
are decoded in threads (PIL releases the GIL) and scored `batch_size` at a time;
one that cannot be read gets a row of NaN (its tags stay unknown).

The scorer is any callable `(list of RGB uint8 arrays) -> float32 [n, T]` with a
`fingerprint` (inference/clip_tags.py's `ClipTagScorer`); it is built before this
runs, so a checkpoint that does not load fails before any image is read.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
from collections.abc import Iterable, Iterator

import numpy as np
import tqdm

from wikiart_jax import atomic
from wikiart_jax.core import ImageError
from wikiart_jax.data import images
from wikiart_jax.data.splits import Record

MANIFEST = 'manifest.json'


def _chunk_path(folder: str, index: int) -> str:
  return os.path.join(folder, f'chunk_{index:06d}.npz')


def _open_folder(folder: str, fingerprint: dict) -> None:
  """Creates `folder` with its manifest, or checks that it was made by this scorer."""
  os.makedirs(folder, exist_ok=True)
  path = os.path.join(folder, MANIFEST)
  wanted = json.loads(json.dumps(fingerprint))  # as it reads back (tuples become lists)
  if os.path.exists(path):
    with open(path, encoding='utf-8') as f:
      if json.load(f) != wanted:
        raise ValueError(f'{folder} holds tag scores of another CLIP, tag list or prompts: '
                         'delete it to score again')
    return
  atomic.write_text(path, json.dumps(wanted, ensure_ascii=False, indent=1))


def _save_chunk(path: str, keys: list[str], probs: np.ndarray) -> None:
  tmp = path + '.tmp.npz'  # np.savez adds .npz to a name without it
  np.savez(tmp, keys=np.asarray(keys), probs=probs.astype(np.float32))
  os.replace(tmp, path)


def _load_chunk(path: str, keys: list[str]) -> np.ndarray | None:
  """The chunk's probabilities, or None when it is not the chunk of these keys."""
  with np.load(path) as data:
    if list(data['keys']) != keys:
      return None
    return data['probs']


def _decode(record: Record) -> np.ndarray | None:
  source = record.image_bytes if record.image_bytes is not None else record.path
  try:
    return images.load_rgb(source, name=record.key) if source is not None else None
  except ImageError:
    return None


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
  chunk = []
  for record in records:
    chunk.append(record)
    if len(chunk) == size:
      yield chunk
      chunk = []
  if chunk:
    yield chunk


def _score_chunk(chunk: list[Record], scorer, batch_size: int, pool, progress) -> np.ndarray:
  out = np.full((len(chunk), scorer.num_tags), np.nan, np.float32)
  for start in range(0, len(chunk), batch_size):
    batch = chunk[start:start + batch_size]
    decoded = list(pool.map(_decode, batch))
    good = [i for i, x in enumerate(decoded) if x is not None]
    if good:
      out[[start + i for i in good]] = scorer([decoded[i] for i in good])
    progress.update(len(batch))
  return out


def score_records(records: Iterable[Record], total: int, scorer, folder: str, *,
                  chunk_size: int = 1024, batch_size: int = 64,
                  num_threads: int | None = None) -> dict[str, np.ndarray]:
  """Scores every record's image, reusing the chunks a previous run finished.

  Args:
    records: the images, in an order that is the same on every run.
    total: how many there are (for the progress bar).
    scorer: images -> probabilities [n, T], with `fingerprint` and `num_tags`.
    folder: where the chunks live.
    chunk_size: images per saved chunk (what an interruption can lose).
    batch_size: images per scorer call.
    num_threads: decoding threads; None = CPUs.

  Returns:
    record key -> float32 [T] (NaN for an image that could not be read).
  """
  _open_folder(folder, scorer.fingerprint)
  out: dict[str, np.ndarray] = {}
  threads = num_threads or os.cpu_count() or 1
  with tqdm.tqdm(total=total, unit=' img', desc='CLIP tag scores') as progress, \
       concurrent.futures.ThreadPoolExecutor(threads) as pool:
    for index, chunk in enumerate(_chunks(records, chunk_size)):
      keys = [r.key for r in chunk]
      path = _chunk_path(folder, index)
      probs = _load_chunk(path, keys) if os.path.exists(path) else None
      if probs is None:
        probs = _score_chunk(chunk, scorer, batch_size, pool, progress)
        _save_chunk(path, keys, probs)
      else:
        progress.update(len(chunk))
      out.update(zip(keys, probs))
  return out
