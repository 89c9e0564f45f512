"""WikiArt records and train/val/test splits, from ArtGAN split files or a seeded split.

One `Record` per image, whatever the source; the builder consumes these:

  key          unique id: the ArtGAN relative path, or '<parquet file>:<row>'
  split        'train' | 'val' | 'test' (every image is in exactly one)
  style        a STYLES name
  artist       artist slug, the artist class key (1,119 in ArtGAN, 129 in the
               parquet); None when unknown
  artist_name  display name ('Claude Monet'); None when unknown
  genre        a GENRES name; None when unknown (label -1)
  artist23     name in ArtGAN's 23-artist subtask ('Claude_Monet') or None
  title, year  from the file name (None when absent)
  path         image file (ArtGAN); None for parquet
  image_bytes  encoded image (parquet); None for ArtGAN

ArtGAN's three tasks were split independently and disagree; the style split is
the master, the genre and 23-artist labels are attached wherever the image is
listed, and the disagreements are counted in a report dict.

Three splits: `val` picks checkpoints, `test` is reported. ArtGAN's files list
train and val only, so their val list is divided, stratified by style and
seeded (`split_test`): `test_fraction` of each style's val images go to test.
Without split files the seeded split holds out `val_fraction` of the images
and divides them the same way.
"""

from collections.abc import Iterable
import collections
import dataclasses
import os
import zlib

import numpy as np

from wikiart_jax.core import IMAGE_EXTENSIONS
from wikiart_jax.data import metadata

SPLITS = ('train', 'val', 'test')
CSV_SPLITS = ('train', 'val')  # what ArtGAN's split files list


@dataclasses.dataclass(frozen=True)
class Record:
  """One image and its labels (names, not ids); see the module docstring."""
  key: str
  split: str
  style: str
  artist: str | None
  artist_name: str | None
  genre: str | None = None
  artist23: str | None = None
  title: str | None = None
  year: int | None = None
  path: str | None = None
  image_bytes: bytes | None = dataclasses.field(default=None, repr=False)


def read_split_csv(path: str) -> list[tuple[str, int]]:
  """Reads `path,index` or `path,,index` rows; skips headers and blank lines.

  Tolerates CRLF, a UTF-8 BOM and commas inside the image path.
  """
  rows = []
  with open(path, encoding='utf-8-sig', newline='') as f:
    for lineno, line in enumerate(f, 1):
      line = line.strip()
      if not line:
        continue
      image, sep, index = line.rpartition(',')
      image = image.rstrip(',').strip()
      index = index.strip()
      if not sep or not index.lstrip('-').isdigit():
        if rows:  # only the leading lines may be a header
          raise ValueError(f'{path}:{lineno}: expected "path,index", got {line!r}')
        continue
      rows.append((image, int(index)))
  return rows


def _read_classes(path: str) -> list[str] | None:
  """Reads an `index Name` class file; None when it does not exist."""
  if not os.path.exists(path):
    return None
  names = {}
  with open(path, encoding='utf-8-sig') as f:
    for lineno, line in enumerate(f, 1):
      index, _, name = line.strip().partition(' ')
      if not line.strip():
        continue
      if not index.isdigit() or not name.strip():
        raise ValueError(f'{path}:{lineno}: expected "index Name", got {line.strip()!r}')
      names[int(index)] = name.strip()
  if sorted(names) != list(range(len(names))):
    raise ValueError(f'{path}: class indices are not 0..{len(names) - 1}')
  return [names[i] for i in range(len(names))]


def has_split_files(folder: str) -> bool:
  """True when `folder` holds ArtGAN's style_train.csv and style_val.csv."""
  return bool(folder) and all(
      os.path.exists(os.path.join(folder, f'style_{s}.csv')) for s in CSV_SPLITS)


def _labels(folder: str, task: str, names: list[str], report: dict):
  """Maps path -> (split, name) for one task; conflicting duplicates dropped."""
  labels, dropped = {}, set()
  for split in CSV_SPLITS:
    file = os.path.join(folder, f'{task}_{split}.csv')
    if not os.path.exists(file):
      continue
    for path, index in read_split_csv(file):
      if not 0 <= index < len(names):
        raise ValueError(f'{file}: {task} index {index} out of range for {path!r}')
      if path in labels or path in dropped:
        report[f'duplicate_{task}_rows'] += 1
        if path in labels and labels[path] != (split, names[index]):
          # Two different labels for one image: trust neither.
          del labels[path]
          dropped.add(path)
        continue
      labels[path] = (split, names[index])
  report[f'{task}_label_conflicts'] = len(dropped)
  return labels


def read_artgan(split_dir: str, *, raw_dir: str = '', test_fraction: float = 0.5,
                seed: int = 0) -> tuple[list[Record], dict]:
  """Reads ArtGAN's split files into one record list (style split is master).

  Args:
    split_dir: folder with style_{train,val}.csv, optionally genre_* and
      artist_* files and their *_class.txt.
    raw_dir: image root that the CSV paths are relative to ('' = keep relative).
    test_fraction, seed: the share of each style's val images moved to test.

  Returns:
    (records sorted by key, report) where report counts images, artists and
    the disagreements between the tasks' splits.
  """
  if not has_split_files(split_dir):
    raise FileNotFoundError(f'no style_train.csv/style_val.csv in {split_dir!r}')
  report = collections.Counter()
  for task, expected in (('style', metadata.STYLES), ('genre', metadata.GENRES)):
    found = _read_classes(os.path.join(split_dir, f'{task}_class.txt'))
    if found is not None and tuple(found) != expected:
      raise ValueError(f'{split_dir}/{task}_class.txt does not list the '
                       f'{len(expected)} ArtGAN {task}s in their usual order')
  artist23 = _read_classes(os.path.join(split_dir, 'artist_class.txt')) or []

  styles = _labels(split_dir, 'style', list(metadata.STYLES), report)
  genres = _labels(split_dir, 'genre', list(metadata.GENRES), report)
  artists = _labels(split_dir, 'artist', artist23, report) if artist23 else {}
  for task, labels in (('genre', genres), ('artist', artists)):
    for path, (split, _) in labels.items():
      master = styles.get(path)
      if master is None:
        report[f'{task}_not_in_style_files'] += 1
      elif master[0] != split:
        report[f'{task}_{split}_in_style_{master[0]}'] += 1

  records = []
  for path in sorted(styles):
    split, style = styles[path]
    meta = metadata.parse_path(path)
    if meta.style != style:  # the CSV index is the label; count the disagreement
      report['style_index_not_folder'] += 1
    records.append(Record(
        key=path, split=split, style=style, artist=meta.artist_slug,
        artist_name=meta.artist_name, genre=genres.get(path, (None, None))[1],
        artist23=artists.get(path, (None, None))[1], title=meta.title,
        year=meta.year, path=os.path.join(raw_dir, path) if raw_dir else path))
  records = split_test(records, test_fraction=test_fraction, seed=seed)
  return records, _finish_report(records, report)


def _finish_report(records: list[Record], report) -> dict:
  report = dict(report)
  report['images'] = len(records)
  for split in SPLITS:
    report[f'{split}_images'] = sum(r.split == split for r in records)
  report['artists'] = len({r.artist for r in records if r.artist})
  report['train_artists'] = len({r.artist for r in records
                                 if r.artist and r.split == 'train'})
  report['with_genre'] = sum(r.genre is not None for r in records)
  return report


def build_vocabularies(records: Iterable[Record], *, styles=metadata.STYLES,
                       genres=metadata.GENRES) -> metadata.Vocabularies:
  """Vocabularies over every artist named in `records` (sorted by slug).

  All splits count: ArtGAN's style-train lists 1,107 of the 1,119 artists, and
  a val-only artist still needs an id for its val labels to mean anything.
  """
  return metadata.Vocabularies.build(
      ((r.artist, r.artist_name) for r in records if r.artist),
      styles=styles, genres=genres)


def _stratum_rng(seed: int, key) -> np.random.Generator:
  # Seeded per stratum from a stable hash, so one stratum's membership never
  # shifts another's split.
  return np.random.default_rng([seed, zlib.crc32(repr(key).encode())])


def split_test(records: Iterable[Record], *, test_fraction: float,
               seed: int) -> list[Record]:
  """Moves floor(n * test_fraction) of each style's n val records to test, seeded
  (floor: a style with one val image keeps it in val, which selects checkpoints).

  Deterministic in (records, seed), whatever the input order; the train
  records and the order of the list are unchanged.
  """
  if not 0.0 <= test_fraction <= 1.0:
    raise ValueError(f'test_fraction must be in [0, 1], got {test_fraction}')
  records = list(records)
  by_style = collections.defaultdict(list)
  for r in sorted((r for r in records if r.split == 'val'), key=lambda r: r.key):
    by_style[r.style].append(r.key)
  test_keys = set()
  for style in sorted(by_style):
    keys = by_style[style]
    order = _stratum_rng(seed, ('test', style)).permutation(len(keys))
    test_keys.update(keys[i] for i in order[:int(np.floor(len(keys) * test_fraction))])
  return [dataclasses.replace(r, split='test') if r.key in test_keys else r for r in records]


def assign_splits(records: Iterable[Record], *, val_fraction: float, seed: int,
                  min_artist_images: int = 5, test_fraction: float = 0.5) -> list[Record]:
  """A seeded split stratified by style, and by artist within a style.

  A (style, artist) pair with at least `min_artist_images` images is split on
  its own; smaller ones share one pool per style. Each stratum holds out
  round(n * val_fraction) images, which `split_test` then divides into val
  and test. Deterministic in (records, seed), whatever the input order.
  """
  if not 0.0 <= val_fraction < 1.0:
    raise ValueError(f'val_fraction must be in [0, 1), got {val_fraction}')
  records = sorted(records, key=lambda r: r.key)
  pairs = collections.Counter((r.style, r.artist) for r in records)
  strata = collections.defaultdict(list)
  for r in records:
    pair = (r.style, r.artist)
    strata[pair if r.artist and pairs[pair] >= min_artist_images
           else (r.style, None)].append(r)
  val_keys = set()
  for key in sorted(strata, key=repr):
    members = strata[key]
    n_val = int(np.floor(len(members) * val_fraction + 0.5))
    order = _stratum_rng(seed, key).permutation(len(members))
    val_keys.update(members[i].key for i in order[:n_val])
  held_out = [dataclasses.replace(r, split='val' if r.key in val_keys else 'train')
              for r in records]
  return split_test(held_out, test_fraction=test_fraction, seed=seed)


def scan_artgan_tree(raw_dir: str, *, val_fraction: float, seed: int,
                     test_fraction: float = 0.5) -> tuple[list[Record], dict]:
  """Records for every image under `raw_dir/<Style>/`, with a seeded split."""
  records, report = [], collections.Counter()
  for folder in sorted(os.listdir(raw_dir)):
    if not os.path.isdir(os.path.join(raw_dir, folder)):
      continue
    for name in sorted(os.listdir(os.path.join(raw_dir, folder))):
      if not name.lower().endswith(IMAGE_EXTENSIONS):
        continue
      try:
        meta = metadata.parse_path(f'{folder}/{name}')
      except ValueError:
        report['skipped_unparsable'] += 1
        continue
      records.append(Record(
          key=meta.path, split='train', style=meta.style,
          artist=meta.artist_slug, artist_name=meta.artist_name,
          title=meta.title, year=meta.year,
          path=os.path.join(raw_dir, meta.path)))
  if not records:
    raise FileNotFoundError(f'no images in <Style>/ folders under {raw_dir!r}')
  records = assign_splits(records, val_fraction=val_fraction, seed=seed,
                          test_fraction=test_fraction)
  return records, _finish_report(records, report)


def read_artgan_source(raw_dir: str, split_dir: str = '', *,
                       val_fraction: float = 0.3, seed: int = 0, test_fraction: float = 0.5
                       ) -> tuple[list[Record], dict]:
  """ArtGAN records: split files from split_dir or raw_dir, else a seeded split."""
  for folder in (split_dir, raw_dir):
    if has_split_files(folder):
      return read_artgan(folder, raw_dir=raw_dir, test_fraction=test_fraction, seed=seed)
  if split_dir:
    raise FileNotFoundError(f'no style_train.csv/style_val.csv in {split_dir!r}')
  return scan_artgan_tree(raw_dir, val_fraction=val_fraction, seed=seed,
                          test_fraction=test_fraction)
