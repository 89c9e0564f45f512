"""Tests of the augmentations and the grain pipeline over a tiny built dataset."""

import hashlib
import os
import subprocess
import sys
import textwrap

import common
import grain
import numpy as np
import orbax.checkpoint as ocp
from PIL import Image, ImageEnhance
import pytest

from wikiart_jax.data import augment
from wikiart_jax.data import dataset
from wikiart_jax.data import metadata
from wikiart_jax.data import pipeline
from wikiart_jax.data import prepare

# (style folder, artist slug, number of images): artists deliberately unbalanced.
_ARTISTS = [('Impressionism', 'claude-monet', 40),
            ('Baroque', 'rembrandt', 12),
            ('Cubism', 'juan-gris', 4)]
_NUM_VAL = 11


def _write_tree(root: str) -> None:
  """An ArtGAN-layout tree of small random images with split CSVs."""
  rng = np.random.default_rng(0)
  rows = []
  for folder, artist, count in _ARTISTS:
    os.makedirs(os.path.join(root, folder), exist_ok=True)
    for i in range(count):
      rel = f'{folder}/{artist}_painting-{i}-{1850 + i}.jpg'
      h, w = rng.integers(24, 48, size=2)
      pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
      Image.fromarray(pixels).save(os.path.join(root, rel), quality=95)
      rows.append(f'{rel},{metadata.STYLES.index(folder)}\n')
  order = np.random.default_rng(1).permutation(len(rows))
  with open(os.path.join(root, 'style_val.csv'), 'w') as f:
    f.writelines(rows[i] for i in order[:_NUM_VAL])
  with open(os.path.join(root, 'style_train.csv'), 'w') as f:
    f.writelines(rows[i] for i in order[_NUM_VAL:])


def _config(raw_dir: str, **data):
  config = common.get_config()
  config.data.raw_dir = raw_dir
  config.data.resize_shorter = 32
  config.data.image_size = 24
  config.data.batch_size = 8
  config.data.eval_batch_size = 8
  config.data.test_fraction = 0.0  # these tests count the val rows: keep all 11 in val
  for key, value in data.items():
    setattr(config.data, key, value)
  return config


@pytest.fixture(scope='module')
def built(tmp_path_factory):
  root = str(tmp_path_factory.mktemp('pipeline'))
  raw = os.path.join(root, 'raw')
  _write_tree(raw)
  workdir = os.path.join(root, 'work')
  prepare.prepare(_config(raw), workdir)
  return raw, workdir


def _digest(batch: dict) -> str:
  h = hashlib.sha256()
  for key in sorted(batch):
    h.update(key.encode())
    h.update(np.ascontiguousarray(batch[key]).tobytes())
  return h.hexdigest()


def _take(it, n: int) -> list:
  return [next(it) for _ in range(n)]


# --- augmentations -----------------------------------------------------------


def test_crop_box_respects_scale_and_ratio():
  rng = np.random.default_rng(0)
  fractions = []
  for _ in range(300):
    h = int(rng.integers(60, 400))
    w = int(h * rng.uniform(0.75, 1.33))
    left, top, right, bottom = augment.random_resized_crop_box(w, h, rng)
    assert 0 <= left < right <= w and 0 <= top < bottom <= h
    cw, ch = right - left, bottom - top
    # Rounding to whole pixels moves area and ratio by about a pixel's worth.
    assert 0.8 * w * h - (cw + ch) <= cw * ch <= w * h
    assert 3 / 4 - 2 / ch <= cw / ch <= 4 / 3 + 2 / ch
    fractions.append(cw * ch / (w * h))
  # The whole range is drawn (rejection of boxes that do not fit skews it low).
  assert min(fractions) < 0.82 and max(fractions) > 0.97


def test_crop_box_falls_back_to_a_clamped_centre_crop():
  # 400 x 40 fits no 3/4-4/3 box of 80% of the area: the centre crop of
  # ratio 4/3, round(40 * 4/3) = 53 px wide, starting at (400 - 53) // 2.
  box = augment.random_resized_crop_box(400, 40, np.random.default_rng(0))
  assert box == (173, 0, 226, 40)


class _FixedRng:
  """Stands in for np.random.Generator with chosen jitter factors and order."""

  def __init__(self, factors, order):
    self.factors, self.order = np.asarray(factors), np.asarray(order)

  def uniform(self, low, high, size):
    del low, high, size
    return self.factors

  def permutation(self, n):
    del n
    return self.order


@pytest.mark.parametrize('op,enhance', [(0, ImageEnhance.Brightness),
                                        (1, ImageEnhance.Contrast),
                                        (2, ImageEnhance.Color)])
def test_color_jitter_matches_pil_enhance(op, enhance):
  rgb = np.random.default_rng(op).integers(30, 220, (16, 20, 3), dtype=np.uint8)
  factors = [1.0, 1.0, 1.0]
  factors[op] = 1.1
  order = [op] + [o for o in range(3) if o != op]
  ours = augment.color_jitter(rgb.astype(np.float32), _FixedRng(factors, order))
  ref = np.asarray(enhance(Image.fromarray(rgb)).enhance(1.1), np.float32)
  # PIL rounds to uint8 (and its contrast mean to an integer): within 1.5 levels.
  np.testing.assert_allclose(ours, ref, atol=1.5)


def test_eval_transform_is_centre_square_resized_and_normalised():
  rgb = np.random.default_rng(0).integers(0, 256, (30, 50, 3), dtype=np.uint8)
  out = augment.eval_transform(rgb, 20)
  ref = np.asarray(Image.fromarray(rgb[:, 10:40]).resize((20, 20), Image.BILINEAR),
                   np.float32)
  ref = (ref / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
  assert out.shape == (20, 20, 3) and out.dtype == np.float32
  np.testing.assert_allclose(out, ref, atol=1e-4)


def test_train_transform_flips_about_thirty_percent():
  rgb = np.zeros((32, 32, 3), np.uint8)
  rgb[:, 16:] = 255  # dark left half, bright right half
  rng = np.random.default_rng(0)
  flips = 0
  for _ in range(600):
    out = augment.train_transform(rgb, 16, rng)
    flips += out[:, :8].mean() > out[:, 8:].mean()
  # Binomial(600, 0.3): mean 180, sd 11.2; +-4 sd.
  assert 135 <= flips <= 225


# --- the pipeline ------------------------------------------------------------


def test_train_batches_shapes_dtypes_and_normalisation(built):
  raw, workdir = built
  batch = next(pipeline.make_train_iter(_config(raw), workdir))
  assert batch['image'].shape == (8, 24, 24, 3)
  assert batch['image'].dtype == np.float32
  for key in ('style', 'artist', 'genre', 'year'):
    assert batch[key].shape == (8,) and batch[key].dtype == np.int32
  # Uniform random pixels: about zero mean and unit-ish spread after normalising.
  lo = (0 - augment.IMAGENET_MEAN) / augment.IMAGENET_STD
  hi = (255 - augment.IMAGENET_MEAN) / augment.IMAGENET_STD
  assert np.all(batch['image'] >= lo - 1e-5) and np.all(batch['image'] <= hi + 1e-5)
  assert set(batch['genre'].tolist()) == {-1}  # no genre files in this tree
  assert np.all((batch['year'] >= 1850) & (batch['year'] < 1890))
  # The period label is the year's 25-year bin; no tag source, so no tag targets.
  assert batch['period'].dtype == np.int32
  np.testing.assert_array_equal(batch['period'], (batch['year'] - 1400) // 25)
  assert 'tags' not in batch and 'tags_mask' not in batch


def test_train_iterator_is_deterministic_from_the_seed(built):
  raw, workdir = built
  a = [_digest(b) for b in _take(pipeline.make_train_iter(_config(raw), workdir), 3)]
  b = [_digest(b) for b in _take(pipeline.make_train_iter(_config(raw), workdir), 3)]
  c = [_digest(b) for b in _take(pipeline.make_train_iter(
      _config(raw, shuffle_seed=1), workdir), 3)]
  assert a == b
  assert a != c


@pytest.mark.parametrize('alpha', [0.0, 1.0])
def test_resume_from_state_gives_the_same_batches(built, tmp_path, alpha):
  raw, workdir = built
  config = _config(raw, artist_balance_alpha=alpha)
  n = 5  # 2n batches of 8 cross the end of the first epoch (45 examples)
  straight = [_digest(b) for b in _take(pipeline.make_train_iter(config, workdir), 2 * n)]

  first = pipeline.make_train_iter(config, workdir)
  head = [_digest(b) for b in _take(first, n)]
  with ocp.CheckpointManager(str(tmp_path / 'ckpt')) as manager:
    manager.save(n, args=ocp.args.Composite(
        data_iter=grain.checkpoint.CheckpointSave(first)))
    manager.wait_until_finished()
    resumed = pipeline.make_train_iter(config, workdir)
    manager.restore(n, args=ocp.args.Composite(
        data_iter=grain.checkpoint.CheckpointRestore(resumed)))
  tail = [_digest(b) for b in _take(resumed, n)]
  assert head + tail == straight

  # The plain get_state/set_state round trip too.
  again = pipeline.make_train_iter(config, workdir)
  again.set_state(first.get_state())
  assert [_digest(b) for b in _take(again, n)] == straight[n:]


@pytest.mark.slow  # worker start-up re-imports jax and tfds: ~20 s
def test_worker_processes_give_the_same_stream_and_resume(built):
  raw, workdir = built
  plain = [_digest(b) for b in _take(
      pipeline.make_train_iter(_config(raw), workdir), 4)]
  config = _config(raw, worker_count=2)
  first = pipeline.make_train_iter(config, workdir)
  head = [_digest(b) for b in _take(first, 2)]
  state = first.get_state()
  first.close()
  resumed = pipeline.make_train_iter(config, workdir)
  resumed.set_state(state)
  tail = [_digest(b) for b in _take(resumed, 2)]
  resumed.close()
  assert head + tail == plain


def test_process_shards_interleave_the_global_batch(built):
  raw, workdir = built
  config = _config(raw)
  full = _take(pipeline.make_train_iter(config, workdir), 2)
  shards = [_take(pipeline.make_train_iter(
      config, workdir, process_index=p, process_count=2), 2) for p in range(2)]
  for k in range(2):
    for p in range(2):
      for key in full[k]:
        np.testing.assert_array_equal(shards[p][k][key], full[k][key][p::2])


def _rows(batches):
  """Non-padding rows as sorted (style, artist, year) tuples, and pad count."""
  rows, pads = [], 0
  for b in batches:
    for i in range(len(b['style'])):
      labels = tuple(int(b[k][i]) for k in ('style', 'artist', 'genre', 'year'))
      if labels == (-1, -1, -1, -1):
        pads += 1
        assert not b['image'][i].any()
      else:
        rows.append(labels)
  return sorted(rows), pads


def test_eval_covers_each_example_once_with_padding(built):
  raw, workdir = built
  config = _config(raw)
  batches = list(pipeline.make_eval_batches(config, workdir))
  assert len(batches) == 2 and all(len(b['style']) == 8 for b in batches)
  rows, pads = _rows(batches)
  assert pads == 2 * 8 - _NUM_VAL
  source = pipeline.open_split(dataset.dataset_dir(config, workdir), 'val')
  expected = sorted(tuple(int(source[i][k]) for k in ('style', 'artist', 'genre', 'year'))
                    for i in range(len(source)))
  assert rows == expected
  # Two processes together cover the same rows, with equal batch counts.
  parts = [list(pipeline.make_eval_batches(config, workdir, process_index=p,
                                           process_count=2)) for p in range(2)]
  assert [len(p) for p in parts] == [2, 2]
  rows2, pads2 = _rows(parts[0] + parts[1])
  assert rows2 == expected and pads2 == pads


def test_balanced_sampling_flattens_artist_frequencies(built):
  raw, workdir = built
  info = dataset.load_info(_config(raw), workdir)
  monet = info.vocab.artist.index('claude-monet')
  gris = info.vocab.artist.index('juan-gris')

  def shares(alpha):
    it = pipeline.make_train_iter(_config(raw, artist_balance_alpha=alpha), workdir)
    artists = np.concatenate([b['artist'] for b in _take(it, 30)])
    return np.mean(artists == monet), np.mean(artists == gris)

  monet0, gris0 = shares(0.0)
  monet1, gris1 = shares(1.0)
  counts = info.class_counts['artist']
  # alpha 0: the data's own frequencies; alpha 1: each artist about a third.
  assert abs(monet0 - counts[monet] / counts.sum()) < 0.05
  assert monet1 < monet0 - 0.2 and gris1 > gris0 + 0.15
  assert abs(monet1 - 1 / 3) < 0.12 and abs(gris1 - 1 / 3) < 0.12


def test_balance_weights_are_inverse_count_powers():
  labels = np.array([3, 3, 3, 1, -1, 1])
  np.testing.assert_allclose(pipeline.balance_weights(labels, 0.5),
                             [3**-0.5] * 3 + [2**-0.5, 1.0, 2**-0.5])


def test_to_global_shards_the_batch_over_eight_devices(built):
  raw, workdir = built
  # jax is already initialised here with one CPU device: use a fresh process.
  script = textwrap.dedent(f"""
      import sys
      sys.path.insert(0, {os.path.join(os.path.dirname(__file__), '..', '..', 'configs')!r})
      import jax, numpy as np
      from absl import flags
      flags.FLAGS.mark_as_parsed()
      import common
      from wikiart_jax.data import pipeline
      from wikiart_jax.parallel import sharding
      config = common.get_config()
      config.data.raw_dir = {raw!r}
      config.data.resize_shorter = 32
      config.data.image_size = 24
      config.data.batch_size = 16
      batch = next(pipeline.make_train_iter(config, {workdir!r}))
      mesh = jax.make_mesh((4, 2), ('data', 'fsdp'))
      out = sharding.to_global(batch, mesh)
      assert jax.device_count() == 8
      for key, x in out.items():
        assert x.shape == batch[key].shape, (key, x.shape)
        assert len(x.addressable_shards) == 8
        assert x.addressable_shards[0].data.shape[0] == 2
        np.testing.assert_array_equal(np.asarray(x), batch[key])
      print('OK')
  """)
  env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=8',
             JAX_PLATFORMS='cpu')
  result = subprocess.run([sys.executable, '-c', script], env=env, text=True,
                          capture_output=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                              os.path.abspath(__file__)))))
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.strip().endswith('OK')
