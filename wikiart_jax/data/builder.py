"""TFDS builder `wikiart`: labelled, pre-resized WikiArt JPEGs in ArrayRecord files.

Two configs, one per raw source: 'artgan' (the ArtGAN folder tree with its split
CSVs, or a seeded split when there are none) and 'hf_parquet' (the huggan/wikiart
parquet files). Each image is decoded, resized so its shorter side is
`resize_shorter` (never upscaled) and stored as JPEG, so training decodes small
files. Labels are int32 class ids, -1 when missing: style, artist (the slug
before the first `_`, or the parquet's artist column), artist23 (ArtGAN's
23-artist subtask), genre; year (-1 = unknown); title and path as text; the
content tags as float32 [T] targets and masks over text/subjects.py's tags
(`tags`, `tags_mask`: all 0, unknown, where prepare had nothing to say).

The vocabularies, per-split class counts and the list of skipped images are
stored in the dataset's `metadata.json` (tfds MetadataDict), so label ids never
change and a prepared dataset is read without this code. A corrupt, unreadable
or tiny image is skipped, counted and listed; it never stops the build.

This module lives inside the package because TFDS lists a builder's code
directory (a builder defined in a script fails).
"""

import collections
import concurrent.futures
import dataclasses
import os

import numpy as np
import tensorflow_datasets as tfds
import tqdm

from wikiart_jax.core import ImageError
from wikiart_jax.data import dataset
from wikiart_jax.data import hf_parquet
from wikiart_jax.data import images
from wikiart_jax.data import splits
from wikiart_jax.text import subjects

LABELS = ('style', 'artist', 'artist23', 'genre')
# Smaller images are thumbnails or broken downloads, not paintings.
MIN_SIDE = 16


@dataclasses.dataclass
class _Stats:
  """What one split's generation saw: label counts and skipped images."""
  counts: dict = dataclasses.field(
      default_factory=lambda: collections.defaultdict(collections.Counter))
  skipped: list = dataclasses.field(default_factory=list)


def read_records(source: str, raw_dir: str, split_dir: str = '', *, val_fraction: float,
                 seed: int, test_fraction: float) -> tuple[list[splits.Record], dict]:
  """Label records (no pixels) of every split, and the reader's report.

  Args:
    source: the builder config, 'artgan' or 'hf_parquet'.
    raw_dir, split_dir, val_fraction, seed, test_fraction: as `Wikiart` takes them.
  """
  if source == 'artgan':
    return splits.read_artgan_source(raw_dir, split_dir, val_fraction=val_fraction,
                                     seed=seed, test_fraction=test_fraction)
  records = list(hf_parquet.read_hf_parquet(
      raw_dir, val_fraction=val_fraction, seed=seed, with_images=False,
      test_fraction=test_fraction))
  report = {'images': len(records),
            **{f'{s}_images': sum(r.split == s for r in records) for s in splits.SPLITS}}
  return records, report


class Wikiart(tfds.core.GeneratorBasedBuilder):
  """WikiArt style / artist / genre, from the ArtGAN tree or huggan parquet."""

  name = dataset.DATASET_NAME
  VERSION = tfds.core.Version(dataset.DATASET_VERSION)
  RELEASE_NOTES = {'1.0.0': 'Pre-resized JPEG, int32 labels, -1 = missing.',
                   '1.1.0': 'A test split: the held-out images divided into val and test.',
                   '1.2.0': 'Content-tag targets and masks (tags, tags_mask).'}
  BUILDER_CONFIGS = [
      tfds.core.BuilderConfig(
          name='artgan', description='ArtGAN WikiArt folder tree + split CSVs.'),
      tfds.core.BuilderConfig(
          name='hf_parquet', description='huggan/wikiart parquet files.'),
  ]

  def __init__(self, *, raw_dir: str, split_dir: str = '',
               resize_shorter: int = 320, val_fraction: float = 0.3,
               test_fraction: float = 0.5, seed: int = 0, num_threads: int | None = None,
               provenance: dict | None = None, max_pixels: int | None = None,
               tag_targets=None, **kwargs):
    """Builder reading `raw_dir`; kwargs go to tfds (config, data_dir, ...).

    Args:
      raw_dir: style folders (artgan) or a parquet file / folder (hf_parquet).
      split_dir: folder with ArtGAN's split files ('' = look in raw_dir, else
        a seeded split).
      resize_shorter: stored shorter side in pixels.
      val_fraction, seed: the seeded split when there are no split files.
      test_fraction: the share of the held-out (val) images that become test.
      num_threads: decode/resize threads (PIL releases the GIL); None = CPUs.
      provenance: where the raw data came from, stored in the metadata so a
        later `prepare` can tell whether this dataset is the one it wants.
      max_pixels: larger images are skipped (default images.MAX_PIXELS).
      tag_targets: record key -> (target, mask) float32 [T] (data/tag_targets.py);
        None or empty = no tag targets (the vocabulary then lists no tags).
    """
    self._raw_dir = raw_dir
    self._split_dir = split_dir
    self._resize_shorter = resize_shorter
    self._val_fraction = val_fraction
    self._test_fraction = test_fraction
    self._seed = seed
    self._num_threads = num_threads or os.cpu_count() or 1
    self._provenance = provenance or {}
    self._max_pixels = max_pixels
    self._tag_targets = dict(tag_targets or {})
    super().__init__(**kwargs)

  def build_params(self) -> dict:
    """What the stored data depends on; prepare compares it on reuse."""
    return {'source': self.builder_config.name, 'raw_dir': self._raw_dir,
            'split_dir': self._split_dir,
            'resize_shorter': self._resize_shorter,
            'val_fraction': self._val_fraction, 'test_fraction': self._test_fraction,
            'seed': self._seed,
            'provenance': self._provenance}

  def _info(self) -> tfds.core.DatasetInfo:
    label = lambda: tfds.features.Scalar(np.int32)
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=(None, None, 3),
                                         encoding_format='jpeg'),
            **{task: label() for task in LABELS},
            'year': label(),
            'tags': tfds.features.Tensor(shape=(len(subjects.TAG_KEYS),), dtype=np.float32),
            'tags_mask': tfds.features.Tensor(shape=(len(subjects.TAG_KEYS),),
                                              dtype=np.float32),
            'title': tfds.features.Text(),
            'path': tfds.features.Text(),
        }),
        metadata=tfds.core.MetadataDict(),
    )

  def _read_records(self) -> tuple[list[splits.Record], dict]:
    """Label records (no pixels) of every split, and the reader's report."""
    return read_records(self.builder_config.name, self._raw_dir, self._split_dir,
                        val_fraction=self._val_fraction, seed=self._seed,
                        test_fraction=self._test_fraction)

  def _artist23_names(self, records) -> list[str]:
    """ArtGAN's artist_class.txt order when present, else sorted names."""
    for folder in (self._split_dir, self._raw_dir):
      file = os.path.join(folder, 'artist_class.txt') if folder else ''
      if file and os.path.isfile(file):
        with open(file, encoding='utf-8-sig') as f:
          rows = [line.split(maxsplit=1) for line in f if line.strip()]
        return [name.strip() for _, name in sorted(rows, key=lambda r: int(r[0]))]
    return sorted({r.artist23 for r in records if r.artist23})

  def _split_generators(self, dl_manager):
    del dl_manager  # nothing to download: the user brings the raw data
    records, report = self._read_records()
    vocab = splits.build_vocabularies(records)
    vocab.tags = list(subjects.TAG_KEYS) if self._tag_targets else []
    artist23 = self._artist23_names(records)
    self._index = {
        'style': {n: i for i, n in enumerate(vocab.style)},
        'artist': {n: i for i, n in enumerate(vocab.artist)},
        'genre': {n: i for i, n in enumerate(vocab.genre)},
        'artist23': {n: i for i, n in enumerate(artist23)},
    }
    self.info.metadata.update({
        'vocab': dataclasses.asdict(vocab),
        'artist23': artist23,
        'build': self.build_params(),
        'split_report': report,
        'class_counts': {},
        'tag_counts': {},
        'skipped': [],
    })
    if self.builder_config.name == 'hf_parquet':
      # The parquet is streamed again per split: all its pixels do not fit in RAM.
      by_split = {s: hf_parquet.read_hf_parquet(
          self._raw_dir, val_fraction=self._val_fraction, seed=self._seed,
          split=s, test_fraction=self._test_fraction) for s in splits.SPLITS}
    else:
      by_split = {s: [r for r in records if r.split == s] for s in splits.SPLITS}
    # tfds cannot write an empty split (val_fraction=0 leaves val empty).
    present = {r.split for r in records}
    return {s: self._generate_examples(s, by_split[s])
            for s in splits.SPLITS if s in present}

  def _encode(self, record: splits.Record) -> bytes:
    """Decoded, size-checked, resized and re-encoded JPEG; ImageError if bad."""
    source = record.image_bytes if record.image_bytes is not None else record.path
    if source is None:
      raise ImageError(f'{record.key}: no image data')
    # A big scan is decoded reduced, never below the stored size.
    rgb = images.load_rgb(source, name=record.key, max_pixels=self._max_pixels,
                          min_side=max(images.REDUCED_MIN_SIDE, self._resize_shorter))
    height, width = rgb.shape[:2]
    if min(height, width) < MIN_SIDE:
      raise ImageError(
          f'{record.key}: {width}x{height} px, under {MIN_SIDE} px')
    return images.encode_jpeg(images.resize_shorter(rgb, self._resize_shorter))

  def _encode_all(self, records):
    """Yields (record, jpeg or ImageError) in order, `num_threads` at a time.

    A bounded window of futures keeps memory flat when records carry pixels.
    """
    def attempt(record):
      try:
        return record, self._encode(record)
      except ImageError as e:
        return record, e

    window = collections.deque()
    with concurrent.futures.ThreadPoolExecutor(self._num_threads) as pool:
      for record in records:
        window.append(pool.submit(attempt, record))
        if len(window) >= 4 * self._num_threads:
          yield window.popleft().result()
      while window:
        yield window.popleft().result()

  def _label(self, task: str, name: str | None) -> int:
    return -1 if name is None else self._index[task].get(name, -1)

  def _generate_examples(self, split: str, records):
    stats = _Stats()
    unknown = np.zeros(len(subjects.TAG_KEYS), np.float32)
    tagged, positives = 0, np.zeros(len(subjects.TAG_KEYS), np.int64)
    total = len(records) if isinstance(records, list) else None
    progress = tqdm.tqdm(self._encode_all(records), total=total, unit=' img',
                         desc=f'wikiart {split}: resize + encode')
    for record, result in progress:
      if isinstance(result, ImageError):
        stats.skipped.append({'key': record.key, 'split': split,
                              'reason': str(result)})
        progress.set_postfix(skipped=len(stats.skipped))
        continue
      labels = {task: self._label(task, getattr(record, task)) for task in LABELS}
      for task, value in labels.items():
        stats.counts[task][value] += 1
      tags, tags_mask = self._tag_targets.get(record.key, (unknown, unknown))
      tagged += bool(tags_mask.any())
      positives += (tags >= 0.5) & (tags_mask > 0)
      yield record.key, {
          'image': result,
          **labels,
          'year': -1 if record.year is None else int(record.year),
          'tags': tags,
          'tags_mask': tags_mask,
          'title': record.title or '',
          'path': record.key,
      }
    # Runs once the split is written and before tfds saves metadata.json.
    meta = self.info.metadata
    sizes = {'style': len(self._index['style']),
             'artist': len(self._index['artist']),
             'genre': len(self._index['genre']),
             'artist23': len(self._index['artist23'])}
    # Per task: the count of each class id, and of missing labels (-1).
    meta['class_counts'][split] = {
        task: {'counts': [stats.counts[task][i] for i in range(sizes[task])],
               'missing': stats.counts[task][-1]}
        for task in LABELS}
    meta['skipped'].extend(stats.skipped)
    meta['tag_counts'][split] = {'images': tagged,
                                 'positives': dict(zip(subjects.TAG_KEYS, positives.tolist()))}
