"""One writer per folder, with real processes: the second is refused naming the first, a
lock left by a killed process is taken over with a warning naming it, readers need none."""

import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT
from conftest import launch
from wikiart_jax import locking

_HOLDER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, sys.argv[1])
    from wikiart_jax import locking
    with locking.hold(sys.argv[2], sys.argv[3]):
      print('held', flush=True)
      time.sleep(600)
""")


def _hold(folder, mode='train') -> subprocess.Popen:
  """A process holding `folder`'s lock until it is killed."""
  proc = subprocess.Popen([sys.executable, '-c', _HOLDER, ROOT, str(folder), mode],
                          stdout=subprocess.PIPE, text=True)
  assert proc.stdout.readline().strip() == 'held'
  return proc


def _try(folder, mode='train') -> subprocess.CompletedProcess:
  """Another process taking the lock and letting it go: prints 'got it' or the error."""
  code = textwrap.dedent("""
      import sys
      sys.path.insert(0, sys.argv[1])
      from wikiart_jax import locking
      from wikiart_jax.core import LockedError
      try:
        with locking.hold(sys.argv[2], sys.argv[3]):
          print('got it')
      except LockedError as e:
        print(e)
  """)
  return subprocess.run([sys.executable, '-c', code, ROOT, str(folder), mode],
                        capture_output=True, text=True, timeout=120, check=True)


def test_the_second_writer_is_refused_naming_the_first_then_takes_over_when_it_is_killed(tmp_path):
  holder = _hold(tmp_path)
  try:
    refused = _try(tmp_path)
    assert re.fullmatch(rf'{tmp_path} is in use by pid {holder.pid} \(train, since [\d\-T:+]+\): '
                        r'wait for it to finish or stop it\n', refused.stdout), refused.stdout
  finally:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
  taken = _try(tmp_path, 'prepare')
  assert taken.stdout == 'got it\n'
  assert re.fullmatch(rf'warning: took over the lock of {tmp_path} left by pid {holder.pid} '
                      r'\(train, since [\d\-T:+]+\), which is no longer running\n', taken.stderr)
  again = _try(tmp_path)  # released cleanly: nothing to take over
  assert again.stdout == 'got it\n' and again.stderr == ''


def test_the_lock_is_not_reentrant_in_one_process(tmp_path):
  with locking.hold(str(tmp_path), 'train'):
    with pytest.raises(RuntimeError, match='already held by this process'):
      with locking.hold(str(tmp_path), 'train'):
        pass
  with locking.hold(str(tmp_path), 'train'):  # free again
    pass


def test_train_refuses_a_workdir_in_use_and_readers_do_not_need_the_lock(trained_workdir, tmp_path):
  holder = _hold(trained_workdir)
  try:
    refused = launch(trained_workdir, '--config.train.num_steps=6', check=False)
    assert refused.returncode == 1
    assert re.fullmatch(
        rf'error: {trained_workdir} is in use by pid {holder.pid} \(train, since [\d\-T:+]+\): '
        'wait for it to finish or stop it, or use another workdir',
        refused.stderr.strip().splitlines()[-1]), refused.stderr[-2000:]
    image = os.path.join(trained_workdir, 'synthetic_raw', 'style_val.csv')
    with open(image, encoding='utf-8') as f:
      image = os.path.join(trained_workdir, 'synthetic_raw', f.readline().split(',')[0])
    launch(trained_workdir, '--config.mode=predict', f'--config.predict.inputs={image}')
  finally:
    holder.kill()
    holder.wait()


def test_train_refuses_while_another_process_builds_its_dataset(tmp_path):
  workdir = tmp_path / 'run'
  holder = _hold(workdir / 'tfds', 'prepare')
  try:
    refused = launch(str(workdir), check=False)
  finally:
    holder.kill()
    holder.wait()
  assert refused.returncode == 1
  last = refused.stderr.strip().splitlines()[-1]
  assert re.fullmatch(rf'error: {workdir / "tfds"} is in use by pid {holder.pid} \(prepare, '
                      r'since [\d\-T:+]+\): it is building the dataset there; wait for it to '
                      'finish', last), last
