"""Hugging Face `huggan/wikiart` parquet shards as `splits.Record`s, with a seeded split.

Columns: image {bytes, path}, artist, genre, style (ints); the class names are in
the schema metadata key 'huggingface'. The rows say no split, so
`splits.assign_splits` makes a seeded stratified three-way one.
"""

from collections.abc import Iterator
import dataclasses
import glob
import json
import os

from wikiart_jax.data import metadata
from wikiart_jax.data.splits import Record
from wikiart_jax.data.splits import SPLITS
from wikiart_jax.data.splits import assign_splits

# The huggan parquet's placeholder classes mean "no label".
_HF_UNKNOWN = ('Unknown Artist', 'Unknown Genre')


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
                    split: str | None = None, with_images: bool = True,
                    test_fraction: float = 0.5) -> Iterator[Record]:
  """Streams huggan/wikiart parquet rows as Records with a seeded split.

  The split needs every label first, so the labels are read in a first cheap
  pass; the images are then streamed batch by batch (the full set is ~30 GB).

  Args:
    source: a parquet file or a folder of them.
    val_fraction, seed, test_fraction: the seeded stratified split (the parquet
      has none).
    split: yield only this split ('train'/'val'/'test'); None = all.
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
      labels, val_fraction=val_fraction, seed=seed, test_fraction=test_fraction)}
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
