"""Reading a prepared dataset: where it is, its vocabularies and counts, without TF."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from artgan_tree import artgan_config
from artgan_tree import built  # noqa: F401  (a fixture)
from conftest import ROOT
from wikiart_jax.core import STYLES
from wikiart_jax.data import dataset


def test_load_info_reads_sizes_vocabularies_and_counts(built):
  raw, workdir, path = built
  config = artgan_config(raw)
  assert dataset.dataset_dir(config, workdir) == path
  assert dataset.is_prepared(path) and dataset.require_prepared(path) == path
  info = dataset.load_info(config, workdir)
  assert info.num_examples == {'train': 6, 'val': 2}
  np.testing.assert_array_equal(
      np.nonzero(info.class_counts['style'])[0],
      sorted(STYLES.index(s) for s in ('Fauvism', 'Rococo')))
  assert info.class_counts['style'].sum() == 6
  assert info.vocab.artist == ['artist-0', 'artist-1']
  np.testing.assert_array_equal(info.class_counts['artist'], [4, 2])
  assert info.class_counts['genre'].sum() == 0  # no genre files: all -1

  assert dataset.info_from_dir(path).vocab == info.vocab


def test_missing_dataset_and_bad_source_are_one_line_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match='mode=prepare'):
    dataset.load_info(artgan_config('x'), str(tmp_path))
  with pytest.raises(ValueError, match="config.data.source='flickr'"):
    dataset.dataset_dir(artgan_config('x', source='flickr'), str(tmp_path))
  with pytest.raises(ValueError, match='config.data.raw_dir is empty'):
    dataset.raw_dir(artgan_config('').data, str(tmp_path))


def test_reading_needs_no_tensorflow(built):
  tree, workdir, _ = built
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
      from wikiart_jax.data import dataset, pipeline
      config = common.get_config()
      config.data.raw_dir = {tree!r}
      config.data.resize_shorter = 24
      config.data.image_size = 16
      config.data.batch_size = 4
      config.data.eval_batch_size = 4
      info = dataset.load_info(config, {workdir!r})
      batch = next(pipeline.make_train_iter(config, {workdir!r}))
      evals = list(pipeline.make_eval_batches(config, {workdir!r}))
      assert batch['image'].shape == (4, 16, 16, 3), batch['image'].shape
      assert len(evals) == 1 and (evals[0]['style'] >= 0).sum() == 2
      assert 'tensorflow' not in sys.modules
      print('OK', info.num_examples)
  """)
  result = subprocess.run([sys.executable, '-c', script], cwd=ROOT, text=True,
                          capture_output=True, timeout=120)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.startswith('OK')
