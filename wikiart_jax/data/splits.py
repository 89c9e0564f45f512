"""WikiArt records and train/val splits, from ArtGAN split files or HF parquet.

One `Record` per image, whatever the source; the builder consumes these:

  key          unique id: the ArtGAN relative path, or '<parquet file>:<row>'
  split        'train' | 'val' (every image is in exactly one)
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
"""

from collections.abc import Iterable, Iterator
import collections
import dataclasses
import glob
import json
import os
import zlib

import numpy as np

from wikiart_jax.core import IMAGE_EXTENSIONS
from wikiart_jax.data import metadata

SPLITS = ('train', 'val')
# The huggan parquet's placeholder classes mean "no label".
_HF_UNKNOWN = ('Unknown Artist', 'Unknown Genre')


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
      os.path.exists(os.path.join(folder, f'style_{s}.csv')) for s in SPLITS)


def _labels(folder: str, task: str, names: list[str], report: dict):
  """Maps path -> (split, name) for one task; conflicting duplicates dropped."""
  labels, dropped = {}, set()
  for split in SPLITS:
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


def read_artgan(split_dir: str, *, raw_dir: str = '') -> tuple[list[Record], dict]:
  """Reads ArtGAN's split files into one record list (style split is master).

  Args:
    split_dir: folder with style_{train,val}.csv, optionally genre_* and
      artist_* files and their *_class.txt.
    raw_dir: image root that the CSV paths are relative to ('' = keep relative).

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


def assign_splits(records: Iterable[Record], *, val_fraction: float, seed: int,
                  min_artist_images: int = 5) -> list[Record]:
  """A seeded split stratified by style, and by artist within a style.

  A (style, artist) pair with at least `min_artist_images` images is split on
  its own; smaller ones share one pool per style. Each stratum sends
  round(n * val_fraction) images to val. Deterministic in (records, seed),
  whatever the input order.
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
  return [dataclasses.replace(r, split='val' if r.key in val_keys else 'train')
          for r in records]


def scan_artgan_tree(raw_dir: str, *, val_fraction: float, seed: int
                     ) -> tuple[list[Record], dict]:
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
  records = assign_splits(records, val_fraction=val_fraction, seed=seed)
  return records, _finish_report(records, report)


def read_artgan_source(raw_dir: str, split_dir: str = '', *,
                       val_fraction: float = 0.3, seed: int = 0
                       ) -> tuple[list[Record], dict]:
  """ArtGAN records: split files from split_dir or raw_dir, else a seeded split."""
  for folder in (split_dir, raw_dir):
    if has_split_files(folder):
      return read_artgan(folder, raw_dir=raw_dir)
  if split_dir:
    raise FileNotFoundError(f'no style_train.csv/style_val.csv in {split_dir!r}')
  return scan_artgan_tree(raw_dir, val_fraction=val_fraction, seed=seed)


# ---------------------------------------------------------------------------
# Hugging Face `huggan/wikiart` parquet: columns image {bytes, path}, artist,
# genre, style (ints); class names in the schema metadata key 'huggingface'.


def hf_parquet_files(source: str) -> list[str]:
  """A parquet file, or every *.parquet below a folder (sorted)."""
  if os.path.isfile(source):
    return [source]
  files = sorted(glob.glob(os.path.join(source, '**', '*.parquet'), recursive=True))
  if not files:
    raise FileNotFoundError(f'no .parquet files under {source!r}')
  return files


def hf_class_names(file: str) -> dict[str, list[str]]:
  """Class names per column ('artist', 'genre', 'style') from the schema."""
  import pyarrow.parquet as pq  # pylint: disable=g-import-not-at-top
  meta = pq.read_schema(file).metadata or {}
  try:
    features = json.loads(meta[b'huggingface'])['info']['features']
    return {c: list(features[c]['names']) for c in ('artist', 'genre', 'style')}
  except (KeyError, TypeError, ValueError) as e:
    raise ValueError(f'{file}: no huggan/wikiart class names in the parquet '
                     f'schema metadata ({e!r})') from None


def _hf_label(names: list[str], index, file: str, column: str) -> str | None:
  if index is None or index < 0:
    return None
  if index >= len(names):
    raise ValueError(f'{file}: {column} {index} out of range ({len(names)} names)')
  name = names[index]
  return None if name in _HF_UNKNOWN else name


def _hf_labels(files: list[str], root: str) -> list[Record]:
  """Every row's labels (no image bytes), reading only the small columns."""
  import pyarrow.parquet as pq  # pylint: disable=g-import-not-at-top
  names = hf_class_names(files[0])
  records = []
  for file in files:
    if hf_class_names(file) != names:
      raise ValueError(f'{file}: class names differ from those in {files[0]}')
    columns = ['artist', 'genre', 'style', 'image.path']
    try:
      table = pq.read_table(file, columns=columns)
    except (KeyError, ValueError) as e:  # pyarrow's error for a missing column
      raise ValueError(f'{file}: expected columns {columns} ({e})') from None
    for row, (a, g, s, path) in enumerate(zip(*(c.to_pylist() for c in table.columns))):
      artist = _hf_label(names['artist'], a, file, 'artist')
      style = _hf_label(names['style'], s, file, 'style')
      if style is None:
        raise ValueError(f'{file}: row {row} has no style')
      title, year = metadata.title_and_year(path or '')
      records.append(Record(
          key=f'{os.path.relpath(file, root)}:{row}', split='train',
          style=metadata.STYLE_FOLDER_ALIASES.get(style, style), artist=artist,
          artist_name=artist and metadata.artist_display_name(artist),
          genre=_hf_label(names['genre'], g, file, 'genre'), title=title,
          year=year))
  return records


def read_hf_parquet(source: str, *, val_fraction: float, seed: int,
                    split: str | None = None, with_images: bool = True
                    ) -> Iterator[Record]:
  """Streams huggan/wikiart parquet rows as Records with a seeded split.

  The split needs every label first, so the labels are read in a first cheap
  pass; the images are then streamed batch by batch (the full set is ~30 GB).

  Args:
    source: a parquet file or a folder of them.
    val_fraction, seed: the seeded stratified split (the parquet has none).
    split: yield only this split ('train'/'val'); None = both.
    with_images: False leaves image_bytes None (labels only, fast).
  """
  import pyarrow as pa  # pylint: disable=g-import-not-at-top
  import pyarrow.parquet as pq  # pylint: disable=g-import-not-at-top
  if split not in (None, *SPLITS):
    raise ValueError(f'split must be one of {SPLITS} or None, got {split!r}')
  files = hf_parquet_files(source)
  root = source if os.path.isdir(source) else os.path.dirname(source)
  labels = _hf_labels(files, root)
  split_of = {r.key: r.split for r in assign_splits(
      labels, val_fraction=val_fraction, seed=seed)}
  records = (dataclasses.replace(r, split=split_of[r.key]) for r in labels)
  if not with_images:
    yield from (r for r in records if split in (None, r.split))
    return
  for file in files:
    parquet = pq.ParquetFile(file)
    for batch in parquet.iter_batches(batch_size=256, columns=['image.bytes']):
      images = batch.column(0)
      # pyarrow keeps the struct around a selected nested field.
      if pa.types.is_struct(images.type):
        images = images.field('bytes')
      for data in images.to_pylist():
        record = next(records)
        if split in (None, record.split):
          yield dataclasses.replace(record, image_bytes=data)
