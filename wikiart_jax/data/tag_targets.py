"""The content-tag targets of each image, assembled at `prepare` from what is known.

A target is a pair of float32 [T] arrays over text/subjects.py's TAG_KEYS: the
value (soft, in [0, 1]) and the mask (1 known, 0 unknown). Sources, any together:

* exact labels, `tags.csv` (`path,tags` with the tags ';'-separated): the synthetic
  set writes its own. A listed tag is present (1), every other absent (0), all known.
* CLIP scores (data/tag_scores.py): a probability per tag, all known.
* ArtEmis: a tag whose words occur in one of the image's utterances is present
  (1, known), whatever the other sources say; a tag not named stays as they left
  it (unknown when nothing else covers the image: people do not name everything).

An image no source covers gets no entry: every tag is unknown and the task is
masked for it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from wikiart_jax import atomic
from wikiart_jax.text import subjects

LABELS_FILE = 'tags.csv'
_INDEX = {key: i for i, key in enumerate(subjects.TAG_KEYS)}


def write_labels(path: str, drawn: Mapping[str, Sequence[str]]) -> None:
  """Writes `tags.csv` whole or not at all: one row per image, its present tags ';'-separated."""
  out = io.StringIO(newline='')
  writer = csv.writer(out)
  writer.writerow(['path', 'tags'])
  for key in sorted(drawn):
    writer.writerow([key, ';'.join(sorted(drawn[key]))])
  atomic.write_text(path, out.getvalue())


def read_labels(path: str) -> dict[str, tuple[str, ...]]:
  """Reads `tags.csv`; ValueError naming the line of an unknown tag."""
  out = {}
  with open(path, encoding='utf-8-sig', newline='') as f:
    reader = csv.DictReader(f)
    if reader.fieldnames is None or not {'path', 'tags'} <= set(reader.fieldnames):
      raise ValueError(f"{path}: expected the columns 'path,tags'")
    for row in reader:
      tags = tuple(t.strip() for t in (row['tags'] or '').split(';') if t.strip())
      unknown = [t for t in tags if t not in _INDEX]
      if unknown:
        raise ValueError(f'{path}:{reader.line_num}: unknown tag(s) {unknown}; the tags are '
                         'the keys of wikiart_jax/text/subjects.py')
      out[row['path']] = tags
  return out


def artemis_mentions(utterances: Mapping[str, Sequence[str]]) -> dict[str, set[str]]:
  """Image path -> the tags named in its utterances (images naming none are left out)."""
  out = {}
  for path, texts in utterances.items():
    found = set().union(*(subjects.mentioned(t) for t in texts)) if texts else set()
    if found:
      out[path] = found
  return out


def assemble(keys: Iterable[str], *, labels: Mapping[str, Sequence[str]] | None = None,
             scores: Mapping[str, np.ndarray] | None = None,
             mentions: Mapping[str, Iterable[str]] | None = None
             ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  """key -> (target, mask) float32 [T] for every key some source covers.

  Args:
    keys: the images' keys (the ArtGAN relative path, or the parquet key).
    labels: exact present tags per key.
    scores: CLIP probabilities [T] per key (a row of NaN: the image could not be read).
    mentions: ArtEmis tags per key.
  """
  t = len(subjects.TAG_KEYS)
  out = {}
  for key in keys:
    target, mask = np.zeros(t, np.float32), np.zeros(t, np.float32)
    if scores is not None and key in scores and np.isfinite(scores[key]).all():
      target[:] = scores[key]
      mask[:] = 1.0
    if labels is not None and key in labels:
      target[:] = 0.0
      target[[_INDEX[k] for k in labels[key]]] = 1.0
      mask[:] = 1.0
    if mentions is not None and key in mentions:
      named = [_INDEX[k] for k in mentions[key]]
      target[named] = 1.0
      mask[named] = 1.0
    if mask.any():
      out[key] = (target, mask)
  return out
