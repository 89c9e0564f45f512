"""Tests of `prepare` / `load_info`: reuse, reports, errors, reading without TF."""

import json
import os
import subprocess
import sys
import textwrap

import common
import demo
import numpy as np
from PIL import Image
import pytest

from wikiart_jax.data import metadata
from wikiart_jax.data import prepare

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _write_tree(root: str, per_style: int = 4) -> None:
  """Two styles of small images and ArtGAN split CSVs (last image -> val)."""
  rng = np.random.default_rng(0)
  rows = {'train': [], 'val': []}
  for style in ('Fauvism', 'Rococo'):
    os.makedirs(os.path.join(root, style))
    for i in range(per_style):
      rel = f'{style}/artist-{i % 2}_picture-{i}.jpg'
      Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(
          os.path.join(root, rel))
      split = 'val' if i == per_style - 1 else 'train'
      rows[split].append(f'{rel},{metadata.STYLES.index(style)}\n')
  for split, lines in rows.items():
    with open(os.path.join(root, f'style_{split}.csv'), 'w') as f:
      f.writelines(lines)


def _artgan_config(raw_dir: str, **data):
  config = common.get_config()
  config.data.raw_dir = raw_dir
  config.data.resize_shorter = 24
  for key, value in data.items():
    setattr(config.data, key, value)
  return config


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
  raw = str(tmp_path_factory.mktemp('prepare') / 'raw')
  _write_tree(raw)
  return raw


def _mtimes(path: str) -> dict:
  return {f: os.stat(os.path.join(path, f)).st_mtime_ns for f in os.listdir(path)}


def test_prepare_is_idempotent_and_writes_reports(tree, tmp_path):
  config = _artgan_config(tree)
  workdir = str(tmp_path)
  path = prepare.prepare(config, workdir)
  assert path == os.path.join(workdir, 'tfds', 'wikiart', 'artgan', '1.0.0')
  before = _mtimes(path)
  assert prepare.prepare(config, workdir) == path
  assert _mtimes(path) == before  # nothing rebuilt or rewritten

  info = prepare.load_info(config, workdir)
  assert info.num_examples == {'train': 6, 'val': 2}
  np.testing.assert_array_equal(
      np.nonzero(info.class_counts['style'])[0],
      sorted(metadata.STYLES.index(s) for s in ('Fauvism', 'Rococo')))
  assert info.class_counts['style'].sum() == 6
  assert info.vocab.artist == ['artist-0', 'artist-1']
  np.testing.assert_array_equal(info.class_counts['artist'], [4, 2])
  assert info.class_counts['genre'].sum() == 0  # no genre files: all -1

  with open(os.path.join(path, prepare.REPORT), encoding='utf-8') as f:
    report = json.load(f)
  assert report['num_examples'] == info.num_examples
  assert report['num_skipped'] == 0 and report['skipped'] == []
  for task in ('style', 'artist', 'genre'):
    with open(os.path.join(path, f'class_counts_{task}.json'), encoding='utf-8') as f:
      table = json.load(f)
    assert table['val']['missing'] + sum(table['val']['counts'].values()) == 2
    with Image.open(os.path.join(path, f'class_counts_{task}.png')) as png:
      assert png.format == 'PNG' and png.size[0] > 100


def test_tfds_dir_is_honoured_and_other_settings_refuse_reuse(tree, tmp_path):
  tfds_dir = str(tmp_path / 'elsewhere')
  config = _artgan_config(tree, tfds_dir=tfds_dir)
  path = prepare.prepare(config, str(tmp_path / 'work'))
  assert path.startswith(tfds_dir + os.sep)
  assert not os.path.exists(tmp_path / 'work' / 'tfds')
  with pytest.raises(ValueError, match='resize_shorter 24 != 48'):
    prepare.prepare(_artgan_config(tree, tfds_dir=tfds_dir, resize_shorter=48),
                    str(tmp_path / 'work'))


def test_bad_settings_give_one_line_errors(tmp_path):
  with pytest.raises(ValueError, match="config.data.source='flickr'"):
    prepare.prepare(_artgan_config('x', source='flickr'), str(tmp_path))
  with pytest.raises(ValueError, match='config.data.raw_dir is empty'):
    prepare.prepare(_artgan_config(''), str(tmp_path))
  with pytest.raises(FileNotFoundError, match='mode=prepare'):
    prepare.load_info(_artgan_config('x'), str(tmp_path))


def test_synthetic_source_renders_then_builds_once(tmp_path):
  pytest.importorskip('wikiart_jax.data.synthetic')
  config = demo.get_config('tiny')
  workdir = str(tmp_path)
  path = prepare.prepare(config, workdir)
  raw = os.path.join(workdir, 'synthetic_raw')
  assert os.path.exists(os.path.join(raw, 'style_train.csv'))
  raw_before = _mtimes(raw)
  info = prepare.load_info(config, workdir)
  rendered = config.data.synthetic.images_per_style * len(metadata.STYLES)
  assert sum(info.num_examples.values()) == rendered
  assert info.class_counts['style'].min() > 0  # every style in train
  before = _mtimes(path)
  assert prepare.prepare(config, workdir) == path
  assert _mtimes(path) == before and _mtimes(raw) == raw_before


def test_reading_needs_no_tensorflow(tree, tmp_path):
  config = _artgan_config(tree)
  prepare.prepare(config, str(tmp_path))
  # TensorFlow is hidden from the import system, as on the GPU machine.
  script = textwrap.dedent(f"""
      import importlib.machinery as machinery, sys
      class HideTF(machinery.PathFinder):
        @classmethod
        def find_spec(cls, name, path=None, target=None):
          if name.split('.')[0] == 'tensorflow':
            return None
          return machinery.PathFinder.find_spec(name, path, target)
      sys.meta_path[:] = [HideTF if f is machinery.PathFinder else f
                          for f in sys.meta_path]
      sys.path.insert(0, {os.path.join(ROOT, 'configs')!r})
      from absl import flags
      flags.FLAGS.mark_as_parsed()
      import common
      from wikiart_jax.data import pipeline, prepare
      config = common.get_config()
      config.data.raw_dir = {tree!r}
      config.data.resize_shorter = 24
      config.data.image_size = 16
      config.data.batch_size = 4
      config.data.eval_batch_size = 4
      info = prepare.load_info(config, {str(tmp_path)!r})
      batch = next(pipeline.make_train_iter(config, {str(tmp_path)!r}))
      evals = list(pipeline.make_eval_batches(config, {str(tmp_path)!r}))
      assert batch['image'].shape == (4, 16, 16, 3), batch['image'].shape
      assert len(evals) == 1 and (evals[0]['style'] >= 0).sum() == 2
      assert 'tensorflow' not in sys.modules
      print('OK', info.num_examples)
  """)
  result = subprocess.run([sys.executable, '-c', script], cwd=ROOT, text=True,
                          capture_output=True, timeout=120)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.startswith('OK')
