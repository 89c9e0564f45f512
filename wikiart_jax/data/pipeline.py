"""grain input pipeline over the prepared `wikiart` ArrayRecord dataset.

Train: source -> seeded shuffle, repeated over epochs (or class-balanced
sampling for the artist task) -> decode + augment in a grain random map ->
this process's share -> batch. Everything up to the batch is a random-access
`MapDataset` whose randomness is a function of (seed, global index), so the
iterator state is a position: it saves and restores exactly, and each example
gets the same crop whatever the process count.

Eval: each example once, in storage order, the last global batch padded with
rows whose labels are all -1.

Batches are dicts of numpy arrays for THIS process: 'image' float32 [b,S,S,3]
(normalised as the backbone was trained), 'style' 'artist' 'genre' 'year' and
'period' (the year's 25-year bin) int32 [b], and, when the dataset has tag
targets, 'tags' and 'tags_mask' float32 [b, T]; -1 and a zero mask mean unknown.
`parallel.sharding.to_global` turns them into global jax.Arrays.

No TensorFlow: the records are read with `tfds.builder_from_directory(...)
.as_data_source` (imported lazily), which parses examples with numpy only.
"""

import os
import sys

import grain
import numpy as np

from wikiart_jax.core import PERIOD, TAGS, TAGS_MASK, TASKS
from wikiart_jax.data import augment
from wikiart_jax.data import dataset
from wikiart_jax.metrics import period as period_lib

LABELS = (*TASKS, 'year')
# Kept only for captioning: reference descriptions need the title (and ArtEmis the path).
TEXT = ('title', 'path')


def open_split(path: str, split: str):
  """Random-access records of one split; the image stays JPEG bytes."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  builder = tfds.builder_from_directory(path)
  if split not in builder.info.splits:
    raise ValueError(f'{path} has no split {split!r} '
                     f'(it has {sorted(builder.info.splits)})')
  return builder.as_data_source(
      split, decoders={'image': tfds.decode.SkipDecoding()})


def _labels(example, keep_text: bool = False, num_tags: int = 0) -> dict:
  labels = {k: np.int32(example[k]) for k in LABELS}
  labels[PERIOD] = period_lib.bin_of(labels['year'])
  if num_tags:
    for key in (TAGS, TAGS_MASK):
      value = example.get(key)
      labels[key] = (np.zeros(num_tags, np.float32) if value is None
                     else np.asarray(value, np.float32))
  if keep_text:
    labels.update({k: _as_bytes(example.get(k, b'')) for k in TEXT})
  return labels


def padding_labels(num_tags: int = 0) -> dict:
  """The labels of a padding row: all unknown."""
  return _labels({k: -1 for k in LABELS}, num_tags=num_tags)


def num_tags_of(path: str) -> int:
  """How many tags the prepared dataset at `path` has targets for (0: none)."""
  return len(dataset.info_from_dir(path).vocab.tags)


def _as_bytes(value) -> bytes:
  if isinstance(value, np.ndarray):
    value = value.item()
  return value if isinstance(value, bytes) else str(value or '').encode('utf-8')


class TrainTransform(grain.transforms.RandomMap):
  """Decode + random crop/flip/jitter + normalise; rng from grain per index."""

  def __init__(self, image_size: int, keep_text: bool = False,
               norm: augment.Normalization = augment.IMAGENET, num_tags: int = 0):
    self.image_size = image_size
    self.keep_text = keep_text
    self.norm = norm
    self.num_tags = num_tags

  def random_map(self, element, rng: np.random.Generator):
    image = augment.train_transform(
        augment.decode(element['image']), self.image_size, rng, self.norm)
    return {'image': image, **_labels(element, self.keep_text, self.num_tags)}


class EvalTransform(grain.transforms.Map):
  """Decode + resize-shorter + centre crop; a padding row -> labels -1."""

  def __init__(self, image_size: int, keep_text: bool = False,
               norm: augment.Normalization = augment.IMAGENET, num_tags: int = 0):
    self.image_size = image_size
    self.keep_text = keep_text
    self.norm = norm
    self.num_tags = num_tags

  def map(self, element):
    if not element:
      size = self.image_size
      row = {'image': np.zeros((size, size, 3), np.float32),
             **padding_labels(self.num_tags)}
      if self.keep_text:
        row.update({k: b'' for k in TEXT})
      return row
    image = augment.eval_transform(augment.decode(element['image']), self.image_size,
                                   self.norm)
    return {'image': image, **_labels(element, self.keep_text, self.num_tags)}


class _Padded:
  """`source` extended to `length` with empty dicts (grain drops `None`)."""

  def __init__(self, source, length: int):
    self.source, self.length = source, length

  def __len__(self) -> int:
    return self.length

  def __getitem__(self, index: int):
    return self.source[index] if index < len(self.source) else {}


class BalancedSampleMapDataset(grain.MapDataset):
  """Endless draws with replacement, P(example i) proportional to weights[i].

  Epoch e (len(parent) draws) is fixed by (seed, e), so any index maps to the
  same example in every run and a saved position resumes exactly.
  """

  def __init__(self, parent: grain.MapDataset, weights: np.ndarray, seed: int):
    super().__init__(parent)
    if len(weights) != len(parent) or len(parent) == 0:
      raise ValueError(f'{len(weights)} weights for {len(parent)} examples')
    self._cdf = np.cumsum(np.asarray(weights, np.float64))
    self._cdf /= self._cdf[-1]
    self._seed = seed
    self._cache = (-1, None)

  def __len__(self) -> int:
    return sys.maxsize

  def _epoch(self, epoch: int) -> np.ndarray:
    if self._cache[0] != epoch:
      u = np.random.default_rng([self._seed, epoch]).random(len(self._cdf))
      draws = np.minimum(np.searchsorted(self._cdf, u, side='right'),
                         len(self._cdf) - 1)
      self._cache = (epoch, draws)
    return self._cache[1]

  def __getitem__(self, index):
    if isinstance(index, slice):
      return self.slice(index)
    epoch, position = divmod(index, len(self._cdf))
    return self._parents[0][int(self._epoch(epoch)[position])]

  def __str__(self) -> str:
    return f'BalancedSampleMapDataset(seed={self._seed})'


def balance_weights(labels: np.ndarray, alpha: float) -> np.ndarray:
  """Per-example weight 1 / count(label)**alpha (missing labels are a class)."""
  _, inverse, counts = np.unique(labels, return_inverse=True,
                                 return_counts=True)
  return counts[inverse].astype(np.float64) ** -alpha


def _local_batch(batch_size: int, process_count: int, what: str) -> int:
  if batch_size % process_count:
    raise ValueError(f'{what}={batch_size} is not divisible by the '
                     f'{process_count} processes')
  return batch_size // process_count


def _to_iter(ds: grain.MapDataset, local_batch: int, data_config, *,
             drop_remainder: bool) -> grain.IterDataset:
  """Batches, then reads batches ahead in threads (and worker processes).

  Batching the MapDataset fixes each batch's content by position, so the
  stream is the same for any number of threads or workers: worker w makes
  batches w, w + W, ... and grain interleaves them back in order.
  """
  ds = ds.batch(local_batch, drop_remainder=drop_remainder)
  workers = data_config.worker_count
  # Threads per process; PIL and numpy release the GIL while they work.
  threads = max(1, min(8, (os.cpu_count() or 1) // max(1, workers)))
  it = ds.to_iter_dataset(grain.ReadOptions(
      num_threads=threads, prefetch_buffer_size=2 * threads))
  if workers > 0:
    it = it.mp_prefetch(grain.MultiprocessingOptions(num_workers=workers))
  return it


def train_dataset(path: str, data_config, *, process_index: int = 0,
                  process_count: int = 1, caption_transform=None,
                  norm: augment.Normalization = augment.IMAGENET) -> grain.IterDataset:
  """The training IterDataset for one process, over the dataset at `path`.

  With `caption_transform` (data/caption_targets.py) each example also gets its
  tokenised target description; `norm` is the backbone's pixel normalisation.
  """
  local = _local_batch(data_config.batch_size, process_count, 'data.batch_size')
  source = open_split(path, 'train')
  ds = grain.MapDataset.source(source)
  seed = data_config.shuffle_seed
  if data_config.artist_balance_alpha > 0:
    # One pass over the labels; the image bytes are read but not decoded.
    artists = np.array([source[i]['artist'] for i in range(len(source))])
    ds = BalancedSampleMapDataset(
        ds, balance_weights(artists, data_config.artist_balance_alpha), seed)
  else:
    ds = ds.shuffle(seed=seed).repeat()
  # Augment before taking this process's share, so the rng of an example is
  # keyed by its global position and does not depend on the process count.
  ds = ds.random_map(TrainTransform(data_config.image_size,
                                    keep_text=caption_transform is not None, norm=norm,
                                    num_tags=num_tags_of(path)),
                     seed=seed)
  if caption_transform is not None:
    ds = ds.random_map(caption_transform, seed=seed + 1)
  ds = ds[process_index::process_count]
  return _to_iter(ds, local, data_config, drop_remainder=True)


def make_train_iter(config, workdir: str, *, process_index: int = 0,
                    process_count: int = 1, caption_transform=None,
                    norm: augment.Normalization = augment.IMAGENET) -> grain.DatasetIterator:
  """Endless, checkpointable iterator of this process's training batches.

  Global batch k is examples [k*B, (k+1)*B) of the shuffled stream; process p
  gets those at positions p, p+P, ... (B/P of them). With `caption_transform`
  (data/caption_targets.py) every example also carries its caption target.
  """
  path = dataset.require_prepared(dataset.dataset_dir(config, workdir))
  return iter(train_dataset(path, config.data, process_index=process_index,
                            process_count=process_count,
                            caption_transform=caption_transform, norm=norm))


def eval_dataset(path: str, data_config, split: str = 'val', *,
                 process_index: int = 0, process_count: int = 1,
                 keep_text: bool = False,
                 norm: augment.Normalization = augment.IMAGENET) -> grain.IterDataset:
  """One pass over `split`, padded to whole global batches with -1 rows.

  With `keep_text` the batches also hold 'title' and 'path' (bytes), for the
  caption references; pop them before `to_global`.
  """
  batch = data_config.eval_batch_size
  local = _local_batch(batch, process_count, 'data.eval_batch_size')
  source = open_split(path, split)
  n = len(source)
  padded = -(-n // batch) * batch
  ds = grain.MapDataset.source(_Padded(source, padded))
  ds = ds.map(EvalTransform(data_config.image_size, keep_text=keep_text, norm=norm,
                            num_tags=num_tags_of(path)))
  ds = ds[process_index::process_count]
  return _to_iter(ds, local, data_config, drop_remainder=False)


def make_eval_batches(config, workdir: str, split: str = 'val', *,
                      process_index: int = 0, process_count: int = 1,
                      keep_text: bool = False,
                      norm: augment.Normalization = augment.IMAGENET):
  """Iterator over `split` exactly once; see `eval_dataset`."""
  path = dataset.require_prepared(dataset.dataset_dir(config, workdir))
  return iter(eval_dataset(path, config.data, split, process_index=process_index,
                           process_count=process_count, keep_text=keep_text, norm=norm))
