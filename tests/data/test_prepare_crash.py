"""`prepare` killed (SIGKILL) at several points, then run again: the same dataset as an
uninterrupted build; training refuses the leftovers and says how to finish them.

Each crash is a real `launch.py --config.mode=prepare` process (tests/crash_worker.py)
that kills itself at the n-th open of a chosen file: inside the synthetic render,
between its split files, while tfds writes the records, before tfds renames its
folder into place, and before the report. The rebuilt dataset must hold the same
records in the same order (tf.Example protos compared field by field: their bytes
vary between processes with protobuf's map order), byte-identical JSON, report and
charts, the same raw tree, and no leftovers.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT
from conftest import TINY
from conftest import launch
from conftest import run_launch_py
from wikiart_jax import locking
from wikiart_jax.data import prepare

# (reads or writes, file-name glob, n): where each crash happens.
POINTS = {
    'render': ('w', '*.jpg', 100),  # the 100th of 162 synthetic images
    'split_files': ('w', '*.csv*', 2),  # between two split files of the render
    'records': ('r', '*.jpg', 60),  # tfds encoding the 60th source image
    'before_rename': ('w', 'dataset_info.json', 1),  # every record written, not yet in place
    'report': ('w', 'class_counts_*.json', 2),  # the dataset in place, one table, no report
}
# The default suite kills at these; `make test-slow` at every point.
QUICK = ('split_files', 'records', 'report')


def _config():
  import demo  # pylint: disable=g-import-not-at-top
  return demo.get_config('tiny')


def _records(path: str) -> list[bytes]:
  """A shard's records in order, each re-serialized deterministically."""
  from array_record.python import array_record_data_source  # pylint: disable=g-import-not-at-top
  from tensorflow.core.example import example_pb2  # pylint: disable=g-import-not-at-top
  source = array_record_data_source.ArrayRecordDataSource([path])
  return [example_pb2.Example.FromString(source[i]).SerializeToString(deterministic=True)
          for i in range(len(source))]


def _snapshot(workdir: str) -> dict:
  """Every folder and file of the workdir's dataset and raw tree (records, or bytes), but locks."""
  files = {}
  for folder, _, names in os.walk(workdir):
    files[os.path.relpath(folder, workdir) + os.sep] = None  # an empty leftover folder counts
    for name in names:
      if name == locking.LOCK_FILE:
        continue
      path = os.path.join(folder, name)
      rel = os.path.relpath(path, workdir)
      if '.array_record' in name:
        files[rel] = _records(path)
      else:
        with open(path, 'rb') as f:
          files[rel] = f.read()
  return files


@pytest.fixture(scope='module')
def place(tmp_path_factory):
  """(workdir, snapshot of an uninterrupted build there): every crash reuses the path,
  which the dataset's metadata records."""
  workdir = str(tmp_path_factory.mktemp('crash') / 'work')
  prepare.prepare(_config(), workdir)
  snapshot = _snapshot(workdir)
  assert any('.array_record' in f for f in snapshot) and snapshot
  return workdir, snapshot


def _crash(workdir: str, point: str) -> subprocess.CompletedProcess:
  kind, pattern, n = POINTS[point]
  proc = run_launch_py(
      [sys.executable, os.path.join(ROOT, 'tests', 'crash_worker.py'), kind, pattern, str(n),
       *TINY, f'--workdir={workdir}', '--config.mode=prepare'], timeout=600)
  assert proc.returncode == -9, f'{point}: not killed ({proc.returncode}):\n{proc.stderr[-2000:]}'
  return proc


def _crash_then_finish(place, point):  # pylint: disable=redefined-outer-name
  workdir, reference = place
  shutil.rmtree(workdir, ignore_errors=True)
  _crash(workdir, point)
  assert _snapshot(workdir) != reference  # the crash left something unfinished
  finished = launch(workdir, '--config.mode=prepare')
  assert _snapshot(workdir) == reference, point
  return finished


@pytest.mark.parametrize('point', QUICK)
def test_a_killed_prepare_run_again_gives_the_same_dataset(place, point):  # pylint: disable=redefined-outer-name
  finished = _crash_then_finish(place, point)
  assert 'took over the lock' in finished.stderr  # the killed one's lock


@pytest.mark.slow
@pytest.mark.parametrize('point', sorted(set(POINTS) - set(QUICK)))
def test_a_killed_prepare_run_again_gives_the_same_dataset_at_every_point(place, point):  # pylint: disable=redefined-outer-name
  _crash_then_finish(place, point)


def test_training_refuses_a_half_built_dataset_and_says_how_to_finish(place):  # pylint: disable=redefined-outer-name
  workdir, reference = place
  shutil.rmtree(workdir, ignore_errors=True)
  _crash(workdir, 'records')
  with open(os.path.join(workdir, 'tfds', locking.LOCK_FILE), encoding='utf-8') as f:
    pid = json.load(f)['pid']  # the killed prepare's
  refused = launch(workdir, check=False)
  assert refused.returncode == 1
  last = refused.stderr.strip().splitlines()[-1]
  assert last.startswith('error: the dataset in ') and 'is incomplete' in last, last
  assert 'run the same command with --config.mode=prepare to finish it' in last, last
  assert f'left by pid {pid} ' in refused.stderr  # the killed prepare's lock, taken over
  assert not os.path.exists(os.path.join(workdir, 'checkpoints'))  # nothing trained on it
  launch(workdir, '--config.mode=prepare')
  assert _snapshot(workdir) == reference
