"""Tests of the synthetic WikiArt tree: real layout, determinism, learnable cues."""

import collections
import io
import os

import numpy as np
import pytest
from PIL import Image

from conftest import SHARED_META
from wikiart_jax.data import augment, images, metadata, splits, synthetic, tag_targets
from wikiart_jax.text import subjects

PER_STYLE = 12


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
  out = str(tmp_path_factory.mktemp('synthetic'))
  summary = synthetic.render_dataset(out, images_per_style=PER_STYLE, image_size=32, seed=3)
  return out, summary


def _rows(out, name):
  with open(os.path.join(out, name)) as f:
    return [line.rstrip('\n').rsplit(',', 1) for line in f]


def test_split_files_have_the_artgan_format(tree):
  out, summary = tree
  n_val = round(0.3 * PER_STYLE)  # per style
  n_genre = PER_STYLE - round(0.1 * PER_STYLE)
  assert summary == {'train': 27 * (PER_STYLE - n_val), 'val': 27 * n_val,
                     'genre_train': summary['genre_train'],
                     'genre_val': 27 * n_genre - summary['genre_train'], 'artists': 54}
  with open(os.path.join(out, 'style_class.txt')) as f:
    assert f.read().splitlines() == [f'{i} {s}' for i, s in enumerate(metadata.STYLES)]
  with open(os.path.join(out, 'genre_class.txt')) as f:
    assert f.read().splitlines() == [f'{i} {g}' for i, g in enumerate(metadata.GENRES)]
  style_rows = _rows(out, 'style_train.csv') + _rows(out, 'style_val.csv')
  assert len(style_rows) == 27 * PER_STYLE
  for path, index in style_rows:
    assert os.path.isfile(os.path.join(out, path))
    assert metadata.parse_path(path).style == metadata.STYLES[int(index)]
  # Genre rows use the style split of the same image; ~10% of images have none.
  style_split = {p: s for s in ('train', 'val') for p, _ in _rows(out, f'style_{s}.csv')}
  for split in ('train', 'val'):
    for path, index in _rows(out, f'genre_{split}.csv'):
      assert style_split[path] == split and 0 <= int(index) < 10


def test_the_real_reader_ingests_it(tree):
  out, _ = tree
  records, report = splits.read_artgan(out, raw_dir=out)
  assert len(records) == 27 * PER_STYLE
  assert report.get('style_index_not_folder', 0) == 0
  assert report.get('genre_not_in_style_files', 0) == 0
  assert sum(r.genre is None for r in records) == 27 * round(0.1 * PER_STYLE)
  by_artist = collections.defaultdict(set)
  for r in records:
    by_artist[r.artist].add(r.style)
  assert len(by_artist) == 54
  assert all(1 <= len(styles) <= 2 for styles in by_artist.values())


def test_file_names_cover_the_parser_cases(tree):
  out, _ = tree
  paths = [p for s in ('train', 'val') for p, _ in _rows(out, f'style_{s}.csv')]
  metas = [metadata.parse_path(p) for p in paths]
  assert any(p.startswith('Art_Nouveau_Modern/') for p in paths)  # the folder alias
  assert sum(m.title is None for m in metas) == 1  # one not_detected_<id>
  assert any('(1).jpg' in p for p in paths)
  with_year = [m for m in metas if m.year is not None]
  assert 0.3 < len(with_year) / len(metas) < 0.8
  assert all(m.artist_name == metadata.artist_display_name(m.artist_slug) for m in metas)
  assert len(set(paths)) == len(paths)
  for m in with_year:  # years fall in the artist's working life
    first, last = synthetic._ARTISTS[m.artist_slug][0]  # pylint: disable=protected-access
    assert first <= m.year <= last, m.path


@pytest.mark.skipif(not os.path.isdir(SHARED_META), reason='no ../shared/wikiart-meta')
def test_artists_are_real_and_paint_in_their_real_styles(tree):
  real = set()
  for split in ('train', 'val'):
    for path, _ in splits.read_split_csv(os.path.join(SHARED_META, f'style_{split}.csv')):
      folder, name = path.split('/')
      real.add((name.split('_', 1)[0], metadata.canonical_style(folder)))
  records, _ = splits.read_artgan(tree[0])
  assert {(r.artist, r.style) for r in records} <= real


def test_genres_are_balanced_within_each_style(tree):
  out, _ = tree
  counts = collections.defaultdict(collections.Counter)
  for split in ('train', 'val'):
    for path, index in _rows(out, f'genre_{split}.csv'):
      counts[metadata.parse_path(path).style][int(index)] += 1
  for style, c in counts.items():
    assert len(c) >= 9 and max(c.values()) <= 2, style


def test_same_seed_same_bytes(tmp_path):
  a, b, c = (str(tmp_path / name) for name in 'abc')
  for out, seed in ((a, 5), (b, 5), (c, 6)):
    synthetic.render_dataset(out, images_per_style=3, image_size=24, seed=seed)
  files = sorted(os.path.relpath(os.path.join(d, f), a)
                 for d, _, fs in os.walk(a) for f in fs)
  assert len(files) == 27 * 3 + 7  # the images, 2 class files, 4 split files, tags.csv
  for f in files:
    with open(os.path.join(a, f), 'rb') as fa, open(os.path.join(b, f), 'rb') as fb:
      assert fa.read() == fb.read(), f
  with (open(os.path.join(a, 'style_train.csv')) as fa,
        open(os.path.join(c, 'style_train.csv')) as fc):
    assert fa.read() != fc.read()


def test_tags_csv_lists_the_subjects_drawn(tree):
  out, _ = tree
  drawn = tag_targets.read_labels(os.path.join(out, tag_targets.LABELS_FILE))
  paths = [p for s in ('train', 'val') for p, _ in _rows(out, f'style_{s}.csv')]
  assert sorted(drawn) == sorted(paths)
  assert all(tags for tags in drawn.values())  # every picture shows something
  assert set().union(*drawn.values()) <= set(subjects.TAG_KEYS)
  genre_of = {p: metadata.GENRES[int(i)] for s in ('train', 'val')
              for p, i in _rows(out, f'genre_{s}.csv')}
  always = {'still_life': 'table', 'portrait': 'figure', 'cityscape': 'buildings',
            'nude_painting': 'nude', 'sketch_and_study': 'lines'}
  for path, genre in genre_of.items():
    if genre in always:
      assert always[genre] in drawn[path], (path, drawn[path])
  landscapes = [drawn[p] for p, g in genre_of.items() if g == 'landscape']
  assert len({tags for tags in landscapes}) > 1  # most subjects are drawn by chance


def test_each_subject_is_drawn_inside_the_eval_crop_and_recorded():
  """Every draw_* paints pixels only where a crop of 80% keeps them, and says what it drew."""
  from wikiart_jax.data import synthetic_layouts, synthetic_subjects as sub  # pylint: disable=g-import-not-at-top
  draws = {
      'sun': lambda c: sub.draw_sun(c, 0.55),
      'moon': lambda c: sub.draw_night_and_moon(c, np.zeros_like(c.roles, bool)),
      'boat': lambda c: sub.draw_boat(c, 0.55),
      'trees': lambda c: sub.draw_trees(c, 0.8), 'house': lambda c: sub.draw_house(c, 0.8),
      'flowers': lambda c: sub.draw_flowers(c, 0.8),
      'fruit': lambda c: sub.draw_fruit(c, 0.65), 'vase': lambda c: sub.draw_vase(c, 0.65, 0.3),
      'window': lambda c: sub.draw_window(c, 0.5, 0.3), 'horse': lambda c: sub.draw_horse(c, 0.8, 0.3),
      'cross': lambda c: sub.draw_cross(c, 0.5, 0.2),
      'geometric_shapes': sub.draw_geometric_shapes, 'lines': sub.draw_lines,
      'figure': lambda c: sub.draw_figure(c, 0.5, 0.8),
  }
  for tag, draw in draws.items():
    for seed in range(5):
      c = synthetic_layouts.Canvas(48, np.random.default_rng(seed), np.zeros((4, 3)))
      draw(c)
      assert tag in c.tags and set(c.tags) <= set(subjects.TAG_KEYS), tag
      painted = np.argwhere(c.roles != 0) / 48  # (with no sky given, the moon alone)
      assert painted.size, tag
      assert painted.min() >= 0.1 and painted.max() <= 0.9, (tag, painted.min(), painted.max())


def test_paint_is_a_pure_function_of_its_rng():
  one = synthetic.paint('Baroque', 'rembrandt', 'portrait', 40, np.random.default_rng(1))
  two = synthetic.paint('Baroque', 'rembrandt', 'portrait', 40, np.random.default_rng(1))
  assert one.dtype == np.uint8 and one.shape == (40, 40, 3)
  np.testing.assert_array_equal(one, two)
  other = synthetic.paint('Baroque', 'rembrandt', 'landscape', 40, np.random.default_rng(1))
  assert np.abs(one.astype(int) - other).mean() > 5


@pytest.mark.parametrize('kwargs,message', [
    (dict(images_per_style=1), 'images_per_style must be >= 2'),
    (dict(image_size=8), 'image_size must be >= 16'),
    (dict(val_fraction=1.0), r'val_fraction must be in \(0, 1\)'),
])
def test_bad_arguments(tmp_path, kwargs, message):
  args = dict(images_per_style=4, image_size=32, seed=0) | kwargs
  with pytest.raises(ValueError, match=message):
    synthetic.render_dataset(str(tmp_path), **args)


@pytest.mark.parametrize('args,message', [
    (('Surrealism', 'rembrandt', 'portrait'), "no synthetic style 'Surrealism'"),
    (('Baroque', 'rembrandt', 'seascape'), "no synthetic genre 'seascape'"),
    (('Baroque', 'banksy', 'portrait'), "no synthetic artist 'banksy'"),
])
def test_paint_rejects_unknown_names(args, message):
  with pytest.raises(ValueError, match=message):
    synthetic.paint(*args, 32, np.random.default_rng(0))


def _features(x):
  """Generic descriptors of a normalised crop: pooled colour, spectrum, colour histogram."""
  rgb = np.clip(x * augment.IMAGENET_STD + augment.IMAGENET_MEAN, 0, 255)
  pooled = x.reshape(8, 4, 8, 4, 3).mean((1, 3)).ravel()
  spectrum = np.log1p(np.abs(np.fft.rfft2(x.mean(-1)))).ravel()
  q = (rgb.reshape(-1, 3) // 64).astype(int)
  hist = np.bincount(q[:, 0] * 16 + q[:, 1] * 4 + q[:, 2], minlength=64) / len(q)
  return np.concatenate([pooled, spectrum, 20 * hist])


@pytest.mark.slow
def test_labels_are_learnable_from_augmented_crops(tmp_path):
  """A linear probe on held-out demo-size crops finds style, artist and genre.

  The pictures go through what the demo does to them: stored at 48 px, resized to
  a shorter side of 40 and re-encoded by the builder, then the training
  augmentation (crop, flip, colour jitter) or the eval centre crop at 32 px.
  Shuffled labels are the control: the same probe must fall to chance on them.
  """
  sklearn = pytest.importorskip('sklearn')
  from sklearn.linear_model import RidgeClassifier  # pylint: disable=g-import-not-at-top
  from sklearn.pipeline import make_pipeline  # pylint: disable=g-import-not-at-top
  from sklearn.preprocessing import StandardScaler  # pylint: disable=g-import-not-at-top
  del sklearn
  out = str(tmp_path)
  synthetic.render_dataset(out, images_per_style=20, image_size=48, seed=1)
  records, _ = splits.read_artgan(out, raw_dir=out)
  rng = np.random.default_rng(0)
  feats = {'train': [], 'val': [], 'test': []}  # the probe is scored on val
  labels = {'train': [], 'val': [], 'test': []}
  for r in records:
    stored = images.encode_jpeg(images.resize_shorter(images.load_rgb(r.path), 40))
    stored = np.asarray(Image.open(io.BytesIO(stored)).convert('RGB'))
    crops = ([augment.train_transform(stored, 32, rng) for _ in range(2)]
             if r.split == 'train' else [augment.eval_transform(stored, 32)])
    held = 'train' if r.split == 'train' else 'val'  # val and test are both held out
    feats[held] += [_features(x) for x in crops]
    labels[held] += [(r.style, r.artist, r.genre)] * len(crops)
  floors = {'style': 0.5, 'artist': 0.3, 'genre': 0.6}  # chance: 0.04, 0.02, 0.1
  for i, task in enumerate(floors):
    tr = [j for j, y in enumerate(labels['train']) if y[i] is not None]
    va = [j for j, y in enumerate(labels['val']) if y[i] is not None]
    x_tr, x_va = np.array(feats['train'])[tr], np.array(feats['val'])[va]
    y_tr = np.array([labels['train'][j][i] for j in tr])
    y_va = np.array([labels['val'][j][i] for j in va])
    probe = make_pipeline(StandardScaler(), RidgeClassifier(alpha=300.0))
    accuracy = probe.fit(x_tr, y_tr).score(x_va, y_va)
    control = probe.fit(x_tr, rng.permutation(y_tr)).score(x_va, y_va)
    assert accuracy >= floors[task], (task, accuracy)
    assert control < 0.5 * floors[task], (task, control)
