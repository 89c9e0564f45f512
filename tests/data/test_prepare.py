"""`prepare`: builds once, reuses, refuses a dataset built from other settings."""

import os
import tempfile

import demo
import pytest

from artgan_tree import artgan_config
from artgan_tree import write_tree
from wikiart_jax.core import STYLES
from wikiart_jax.data import dataset
from wikiart_jax.data import prepare


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
  raw = str(tmp_path_factory.mktemp('prepare') / 'raw')
  write_tree(raw)
  return raw


def _mtimes(path: str) -> dict:
  return {f: os.stat(os.path.join(path, f)).st_mtime_ns for f in os.listdir(path)}


def test_prepare_is_idempotent(tree, tmp_path, monkeypatch):
  config = artgan_config(tree)
  workdir = str(tmp_path / 'work')
  scratch = tmp_path / 'tmp'
  scratch.mkdir()
  monkeypatch.setattr(tempfile, 'tempdir', str(scratch))
  path = prepare.prepare(config, workdir)
  assert not list(scratch.iterdir())  # tfds's empty bucket-metadata folder is removed
  assert path == os.path.join(workdir, 'tfds', 'wikiart', 'artgan', dataset.DATASET_VERSION)
  before = _mtimes(path)
  assert prepare.prepare(config, workdir) == path
  assert _mtimes(path) == before  # nothing rebuilt or rewritten


def test_tfds_dir_is_honoured_and_other_settings_refuse_reuse(tree, tmp_path):
  tfds_dir = str(tmp_path / 'elsewhere')
  config = artgan_config(tree, tfds_dir=tfds_dir)
  path = prepare.prepare(config, str(tmp_path / 'work'))
  assert path.startswith(tfds_dir + os.sep)
  assert not os.path.exists(tmp_path / 'work' / 'tfds')
  with pytest.raises(ValueError, match='resize_shorter 24 != 48'):
    prepare.prepare(artgan_config(tree, tfds_dir=tfds_dir, resize_shorter=48),
                    str(tmp_path / 'work'))


def test_bad_settings_give_one_line_errors(tmp_path):
  with pytest.raises(ValueError, match="config.data.source='flickr'"):
    prepare.prepare(artgan_config('x', source='flickr'), str(tmp_path))
  with pytest.raises(ValueError, match='config.data.raw_dir is empty'):
    prepare.prepare(artgan_config(''), str(tmp_path))
  with pytest.raises(FileNotFoundError, match='mode=prepare'):
    dataset.load_info(artgan_config('x'), str(tmp_path))


def test_synthetic_source_renders_then_builds_once(tmp_path):
  pytest.importorskip('wikiart_jax.data.synthetic')
  config = demo.get_config('tiny')
  workdir = str(tmp_path)
  path = prepare.prepare(config, workdir)
  raw = os.path.join(workdir, 'synthetic_raw')
  assert os.path.exists(os.path.join(raw, 'style_train.csv'))
  raw_before = _mtimes(raw)
  info = dataset.load_info(config, workdir)
  rendered = config.data.synthetic.images_per_style * len(STYLES)
  assert sum(info.num_examples.values()) == rendered
  assert info.class_counts['style'].min() > 0  # every style in train
  before = _mtimes(path)
  assert prepare.prepare(config, workdir) == path
  assert _mtimes(path) == before and _mtimes(raw) == raw_before


def test_synthetic_val_fraction_reaches_the_render(tmp_path):
  config = demo.get_config('tiny')
  config.data.synthetic.val_fraction = 0.5  # not the default: the setting must travel
  prepare._render_synthetic(config, str(tmp_path))  # pylint: disable=protected-access
  raw = dataset.raw_dir(config.data, str(tmp_path))
  with open(os.path.join(raw, 'style_val.csv')) as f:
    held_out = sum(1 for _ in f)
  assert held_out == 3 * len(STYLES)  # half of 6 a style
