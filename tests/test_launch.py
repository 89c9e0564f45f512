"""The command-line contract: one entry point, metrics.json, one-line errors."""

import os
import subprocess
import sys

import conftest
import pytest
from conftest import ROOT
from conftest import TINY
from conftest import launch
from conftest import run_launch_py
from conftest import subprocess_env
from conftest import read_metrics


def test_train_writes_contract_metrics(trained_workdir):
  workdir = trained_workdir
  metrics = read_metrics(workdir)
  assert metrics['step'] == 6
  for task in ('style', 'artist', 'genre'):
    for key in ('top1', 'top5', 'f1_macro'):
      value = metrics['eval'][task][key]
      assert 0.0 <= value <= 1.0, (task, key, value)
    assert metrics['eval'][task]['top5'] >= metrics['eval'][task]['top1']
  assert [h['step'] for h in metrics['history'] if h.get('mode') != 'eval'] == [3, 6]
  # `test`: the same structure on the test split, for the checkpoint val selected.
  assert metrics['test_step'] in (3, 6)
  for task in ('style', 'artist', 'genre'):
    assert set(metrics['test'][task]) == set(metrics['eval'][task])
    assert 0.0 <= metrics['test'][task]['top1'] <= 1.0
  assert metrics['test']['style']['count'] > 0
  # The new tasks add keys: eval.tags and eval.period, and the same under test.
  for split in ('eval', 'test'):
    assert set(metrics[split]['tags']) == {'map', 'f1_micro', 'f1_macro', 'threshold',
                                           'count', 'tags'}
    assert 0.0 <= metrics[split]['tags']['map'] <= 1.0
    assert metrics[split]['period']['mae_years'] >= 0
    assert 0.0 <= metrics[split]['period']['within_25'] <= 1.0
  assert {'tags_loss', 'period_loss', 'period_accuracy'} <= set(metrics['train'])
  assert os.path.getsize(os.path.join(workdir, 'confusion_style.png')) > 1000
  assert os.path.getsize(os.path.join(workdir, 'confusion_period.png')) > 1000
  assert any(f.startswith('events.out.tfevents') for f in os.listdir(workdir))
  with open(os.path.join(workdir, 'train.log'), encoding='utf-8') as f:
    log = f.read()
  assert 'step 6 eval:' in log and f"step {metrics['test_step']} test:" in log


def test_eval_of_a_missing_step_is_a_one_line_error(trained_workdir):
  workdir = trained_workdir
  proc = launch(workdir, '--config.mode=eval', '--config.eval.step=5', check=False)
  assert proc.returncode != 0
  assert proc.stderr.strip().splitlines()[-1].startswith('error: no checkpoint at step 5')


def test_misspelt_config_key_is_an_error(tmp_path):
  proc = launch(str(tmp_path), '--config.train.num_stepz=3', check=False)
  assert proc.returncode != 0
  assert 'num_stepz' in proc.stderr


def test_unknown_mode_is_a_one_line_error(tmp_path):
  proc = launch(str(tmp_path), '--config.mode=fly', check=False)
  assert proc.returncode == 1
  assert proc.stderr.strip().splitlines()[-1] == (
      "error: config.mode='fly': expected one of train, eval, predict, serve, bench, prepare, "
      'embed')


@pytest.mark.skipif(bool(os.environ.get('WIKIART_TEST_PLAIN_LAUNCH')),
                    reason='WIKIART_TEST_PLAIN_LAUNCH: every launch is plain')
def test_a_launch_forked_from_the_zygote_is_a_plain_launch(tmp_path):
  """tests/launch_zygote.py (most tests' launches) answers as `python launch.py` does."""
  cmd = [sys.executable, os.path.join(ROOT, 'launch.py'), *TINY, f'--workdir={tmp_path}',
         '--config.mode=fly']
  plain = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT,
                         env=subprocess_env(), check=False)
  forked = run_launch_py(cmd, timeout=600)
  assert conftest._zygote is not None and conftest._zygote.proc.poll() is None  # pylint: disable=protected-access
  assert (forked.returncode, forked.stdout, forked.stderr) == (
      plain.returncode, plain.stdout, plain.stderr)
  assert plain.returncode == 1
  assert plain.stderr.strip().splitlines()[-1].startswith("error: config.mode='fly'")
