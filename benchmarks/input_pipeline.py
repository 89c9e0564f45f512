"""Decode + augment throughput: the grain pipeline vs a plain PIL loop.

Builds a few hundred painting-like images through the real builder (stored
with shorter side 320 as JPEG), then, on the same records, times

  grain: pipeline.train_dataset (seeded shuffle, decode + RandomResizedCrop +
         flip + jitter + normalise in a grain random map, batching, threads);
  PIL:   a plain loop: read the record, PIL decode, the same numpy augment,
         np.stack into batches, in one thread.

Throughput is images per CPU-second (process CPU time over all threads), i.e.
images/s per core, timed by benchmarks/harness.py with the process's CPU time as
its clock (interleaved, medians, load); a second report gives wall-clock images/s.
Target: grain >= 0.9x the PIL loop per core.

    .venv/bin/python benchmarks/input_pipeline.py [--num_images=300] [--batches=20] \
        [--repeats=5]
"""

import io
import os
import sys
import tempfile
import time

from absl import app
from absl import flags
from absl import logging
import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, 'configs')]
import common  # pylint: disable=g-import-not-at-top,wrong-import-position

from benchmarks import harness  # pylint: disable=g-import-not-at-top

from wikiart_jax.data import augment  # pylint: disable=g-import-not-at-top
from wikiart_jax.data import dataset
from wikiart_jax.data import metadata
from wikiart_jax.data import pipeline
from wikiart_jax.data import prepare

_NUM_IMAGES = flags.DEFINE_integer('num_images', 300, 'records to build')
_BATCHES = flags.DEFINE_integer('batches', 20, 'timed batches per method')
_BATCH_SIZE = flags.DEFINE_integer('batch_size', 32, 'images per batch')
_IMAGE_SIZE = flags.DEFINE_integer('image_size', 224, 'crop side')
_WORKDIR = flags.DEFINE_string('workdir', '', "build folder ('' = a temp dir)")
_REPEATS = flags.DEFINE_integer('repeats', 5, 'timed runs of `batches` batches per method')


def _painting(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
  """Smooth colour fields plus brush-scale noise: JPEG-compresses like art."""
  y, x = np.mgrid[0:height, 0:width] / max(height, width)
  base = np.stack([np.sin(rng.uniform(2, 9) * x + rng.uniform(0, 6) * y
                          + rng.uniform(0, 6)) for _ in range(3)], -1)
  noise = rng.normal(0, 0.15, (height // 4 + 1, width // 4 + 1, 3))
  noise = np.kron(noise, np.ones((4, 4, 1)))[:height, :width]
  return np.clip((base * 0.4 + 0.5 + noise) * 255, 0, 255).astype(np.uint8)


def build(workdir: str, num_images: int):
  """Writes a raw ArtGAN tree of ~400x520 images and prepares it at 320 px."""
  raw = os.path.join(workdir, 'raw')
  config = common.get_config()
  config.data.raw_dir = raw
  config.data.resize_shorter = 320
  if not dataset.is_prepared(dataset.dataset_dir(config, workdir)):
    rng = np.random.default_rng(0)
    for i in range(num_images):
      style = metadata.STYLES[i % len(metadata.STYLES)]
      os.makedirs(os.path.join(raw, style), exist_ok=True)
      h, w = int(rng.integers(380, 420)), int(rng.integers(480, 560))
      Image.fromarray(_painting(rng, h, w)).save(
          os.path.join(raw, style, f'artist-{i % 20}_work-{i}.jpg'), quality=92)
  return prepare.prepare(config, workdir), config


def _settle(poll_s: float = 0.02) -> None:
  """Waits until the process's threads stop working (its CPU time stops growing)."""
  last = time.process_time()
  while True:
    time.sleep(poll_s)
    now = time.process_time()
    if now - last < 0.1 * poll_s:
      return
    last = now


def grain_runner(path: str, data_config, batches: int):
  """A call that takes the next `batches` batches of the grain pipeline.

  grain's threads read batches ahead; the call waits for them to go idle, so the
  read-ahead it starts is charged to it, not to the PIL loop timed next.
  """
  it = iter(pipeline.train_dataset(path, data_config))
  next(it)  # thread pool start, first reads

  def run():
    for _ in range(batches):
      next(it)
    _settle()
  return run


def pil_runner(path: str, batch_size: int, image_size: int, batches: int):
  """A call that makes `batches` batches in a plain loop: read, PIL decode, augment, stack."""
  source = pipeline.open_split(path, 'train')
  rng = np.random.default_rng(0)
  order = rng.permutation(len(source))
  state = {'next': 0}

  def run():
    for _ in range(batches):
      images = []
      for _ in range(batch_size):
        record = source[int(order[state['next'] % len(order)])]
        state['next'] += 1
        image = Image.open(io.BytesIO(record['image'])).convert('RGB')
        images.append(augment.train_transform(image, image_size, rng))
      np.stack(images)
  return run


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)  # tfds logs every dataset open
  workdir = _WORKDIR.value or tempfile.mkdtemp(prefix='bench_input_')
  path, config = build(workdir, _NUM_IMAGES.value)
  data = config.data
  data.batch_size = _BATCH_SIZE.value
  data.image_size = _IMAGE_SIZE.value
  data.worker_count = 0
  stored = Image.open(io.BytesIO(
      pipeline.open_split(path, 'train')[0]['image'])).size
  print(f'records: {dataset.load_info(config, workdir).num_examples["train"]} '
        f'JPEGs of {stored[0]}x{stored[1]} px; crop {data.image_size}; '
        f'{os.cpu_count()} CPUs; {_BATCHES.value} batches of {data.batch_size}')

  grain = grain_runner(path, data, _BATCHES.value)
  pil = pil_runner(path, data.batch_size, data.image_size, _BATCHES.value)
  images = _BATCHES.value * data.batch_size
  labels = ('grain pipeline', 'PIL loop')
  per_core = harness.compare(grain, pil, labels, repeats=_REPEATS.value, work=images,
                             unit='images', clock=time.process_time, timer='CPU')
  harness.report(per_core, f'decode + augment per core, {images} images a call (target '
                           '>= 0.9x the PIL loop)')
  wall = harness.compare(grain, pil, labels, repeats=_REPEATS.value, work=images,
                         unit='images')
  harness.report(wall, f'decode + augment, wall clock, {images} images a call')


if __name__ == '__main__':
  app.run(main)
