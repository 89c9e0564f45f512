"""Real WikiArt in, end to end through launch.py: ArtGAN, huggan parquet, resume.

Each source is prepared with `--config.mode=prepare` and trained for two steps
from the command line; the built label counts must equal those of the raw rows
used and every corrupt file must be in the prepare report. The resume test
checks that 2 + 2 steps give bit-for-bit the parameters and loss of 4 steps.
"""

import collections
import json
import os
import shutil

from conftest import SHARED_META
from conftest import launch
from conftest import params_at
from conftest import read_metrics
import demo
import numpy as np
import pytest
import test_builder as builder_tests  # tests/data: ArtGAN rows, JPEGs, parquet

from wikiart_jax.data import dataset
from wikiart_jax.data import metadata

TRAIN_ARGS = ('--config.train.num_steps=2', '--config.train.eval_every=2')


def _data_args(source: str, raw: str, split_dir: str = '') -> list[str]:
  args = [f'--config.data.source={source}', f'--config.data.raw_dir={raw}']
  if split_dir:
    args.append(f'--config.data.split_dir={split_dir}')
  return args


def _data_config(source: str, raw: str, split_dir: str = ''):
  """The config the launches above use, for dataset.load_info / dataset_dir."""
  config = demo.get_config('tiny')
  config.data.source = source
  config.data.raw_dir = raw
  config.data.split_dir = split_dir
  return config


def _prepare_then_train(workdir: str, data_args: list[str]) -> str:
  """`mode=prepare`, then a 2-step `train`; returns the prepare stdout."""
  proc = launch(workdir, *data_args, '--config.mode=prepare')
  launch(workdir, *data_args, *TRAIN_ARGS)
  return proc.stdout


def _read_json(path: str) -> dict:
  with open(path, encoding='utf-8') as f:
    return json.load(f)


def _assert_trained(workdir: str) -> None:
  metrics = read_metrics(workdir)
  assert metrics['step'] == 2
  assert np.isfinite(metrics['train']['loss'])
  for task in ('style', 'artist', 'genre'):
    assert 0.0 <= metrics['eval'][task]['top1'] <= 1.0, task


def _write_artgan_tree(root) -> tuple[list[str], set[str]]:
  """~200 real ArtGAN paths with synthetic pixels, a few of them corrupt.

  The split dir gets the real CSV lines (headers included) of those paths.

  Returns:
    The paths chosen, and those skipped (corrupt or missing) by the build.
  """
  raw, split_dir = root / 'raw', root / 'splits'
  split_dir.mkdir()
  # Every 400th row: ~143 train and ~61 val images across many styles.
  chosen = sorted({p for s in ('train', 'val')
                   for p, _ in builder_tests._read_rows(f'style_{s}.csv')[::400]})
  wanted = set(chosen)
  for task in ('style', 'genre', 'artist'):
    for s in ('train', 'val'):
      with open(os.path.join(SHARED_META, f'{task}_{s}.csv'), encoding='utf-8') as f:
        lines = [line for line in f
                 if line.strip().rpartition(',')[0].rstrip(',') in wanted
                 or not line.strip().rpartition(',')[2].strip().isdigit()]
      (split_dir / f'{task}_{s}.csv').write_text(''.join(lines), encoding='utf-8')
    shutil.copy(os.path.join(SHARED_META, f'{task}_class.txt'), split_dir)
  rng = np.random.default_rng(0)
  bad = {chosen[5]: b'', chosen[50]: builder_tests._jpeg(rng)[:150],
         chosen[100]: b'<html>not an image</html>'}  # empty, truncated, text
  missing = chosen[150]
  for p in chosen:
    if p != missing:
      file = raw / p
      file.parent.mkdir(parents=True, exist_ok=True)
      file.write_bytes(bad[p] if p in bad else builder_tests._jpeg(rng))
  return chosen, set(bad) | {missing}


@pytest.mark.skipif(not os.path.isdir(SHARED_META),
                    reason=f'no real split files in {SHARED_META}')
def test_artgan_prepare_and_train_from_the_command_line(tmp_path):
  chosen, skipped = _write_artgan_tree(tmp_path)
  raw, split_dir, workdir = (str(tmp_path / n) for n in ('raw', 'splits', 'work'))
  args = _data_args('artgan', raw, split_dir)
  stdout = _prepare_then_train(workdir, args)

  config = _data_config('artgan', raw, split_dir)
  path = dataset.dataset_dir(config, workdir)
  assert f'dataset ready in {path}' in stdout
  report = _read_json(os.path.join(path, dataset.REPORT))
  assert {s['key'] for s in report['skipped']} == skipped
  assert report['num_skipped'] == len(skipped)

  expected, _ = builder_tests._expected_artgan(chosen, skipped)
  info = dataset.load_info(config, workdir)
  stored = {'train': ('train',), 'val': ('val', 'test')}  # ArtGAN's val list -> val + test
  assert info.num_examples['test'] > 0
  for split in ('train', 'val'):
    assert sum(info.num_examples[s] for s in stored[split]) == sum(
        expected[split]['style'].values())
  for task in builder_tests.TASKS:
    table = _read_json(os.path.join(path, f'class_counts_{task}.json'))
    for split in ('train', 'val'):
      built = collections.Counter()
      for s in stored[split]:
        built.update({n: c for n, c in table[s]['counts'].items() if c})
      want = expected[split][task]
      assert sum(table[s]['missing'] for s in stored[split]) == want[None], (task, split)
      assert built == collections.Counter({n: c for n, c in want.items() if n}), (
          task, split)
  np.testing.assert_array_equal(
      info.class_counts['style'],
      [expected['train']['style'][s] for s in metadata.STYLES])
  _assert_trained(workdir)


def test_hf_parquet_prepare_and_train_from_the_command_line(tmp_path):
  pytest.importorskip('pyarrow')
  raw = tmp_path / 'parquet'
  raw.mkdir()
  n, bad = 80, {4, 33, 71}
  columns = builder_tests._write_parquet(str(raw / 'train-00000.parquet'), n, bad)
  workdir = str(tmp_path / 'work')
  args = _data_args('hf_parquet', str(raw))
  _prepare_then_train(workdir, args)

  config = _data_config('hf_parquet', str(raw))
  path = dataset.dataset_dir(config, workdir)
  report = _read_json(os.path.join(path, dataset.REPORT))
  assert {s['key'] for s in report['skipped']} == {f'train-00000.parquet:{i}' for i in bad}
  kept = [i for i in range(n) if i not in bad]
  info = dataset.load_info(config, workdir)
  assert sum(info.num_examples.values()) == len(kept)
  names = {'style': list(metadata.STYLES), 'artist': builder_tests._HF_ARTISTS,
           'genre': builder_tests._HF_GENRES}
  for task in ('style', 'artist', 'genre'):
    # The parquet rows do not say their split: compare all splits together.
    want = collections.Counter(names[task][columns[task][i]] for i in kept)
    missing = want.pop('Unknown Artist', 0) + want.pop('Unknown Genre', 0)
    table = _read_json(os.path.join(path, f'class_counts_{task}.json'))
    built = collections.Counter()
    for split in info.num_examples:
      built.update({k: v for k, v in table[split]['counts'].items() if v})
    assert built == want, task
    assert sum(table[s]['missing'] for s in info.num_examples) == missing, task
    assert info.class_counts[task].sum() + table['train']['missing'] == (
        info.num_examples['train']), task
  _assert_trained(workdir)


def test_three_plus_three_steps_equal_six_bit_for_bit(trained_workdir, tmp_path):
  # The session's tiny run trained 6 steps in one launch (checkpoints at 3 and 6).
  # A copy that forgets step 6 resumes from 3 and trains the same 3 steps again:
  # same schedule (num_steps=6 both times), same data order (the iterator's state
  # is in the checkpoint), same dataset (copied with the workdir).
  resumed = str(tmp_path / 'resumed')
  shutil.copytree(trained_workdir, resumed, ignore=shutil.ignore_patterns('writer.lock'))
  shutil.rmtree(os.path.join(resumed, 'checkpoints', '6'))
  proc = launch(resumed)
  assert 'Resuming from the checkpoint at step 3' in proc.stdout
  a, b = params_at(trained_workdir, 6), params_at(resumed, 6)
  assert a.keys() == b.keys()
  for name in a:
    np.testing.assert_array_equal(a[name], b[name], err_msg=name)
  # Three steps trained after the resume moved the parameters (not a no-op).
  before = params_at(resumed, 3)
  assert any(not np.array_equal(before[k], b[k]) for k in b)
  loss_a = read_metrics(trained_workdir)['train']
  loss_b = read_metrics(resumed)['train']
  assert loss_a['step'] == loss_b['step'] == 6
  assert loss_a['loss'] == loss_b['loss']
