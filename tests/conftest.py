"""Test-wide set-up: absl flags parsed (grain's multiprocessing needs it), quiet TF."""

import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
os.environ.setdefault('HF_HUB_OFFLINE', '1')

import subprocess  # pylint: disable=g-import-not-at-top

import pytest  # pylint: disable=g-import-not-at-top
from absl import flags  # pylint: disable=g-import-not-at-top

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'configs'))

if not flags.FLAGS.is_parsed():
  flags.FLAGS.mark_as_parsed()

# The real split files sit beside the project (../shared); tests skip without them.
SHARED_META = os.path.join(os.path.dirname(ROOT), 'shared', 'wikiart-meta')

TINY_CONFIG = 'configs/demo.py:tiny'


def subprocess_env() -> dict:
  """The environment for launch.py subprocesses: one CPU device, quiet, offline."""
  env = dict(os.environ, GRADIO_ANALYTICS_ENABLED='False', TF_CPP_MIN_LOG_LEVEL='3',
             PYTHONUNBUFFERED='1')
  env.pop('XLA_FLAGS', None)  # one CPU device, as on a user's laptop
  return env


@pytest.fixture(scope='session')
def trained_workdir(tmp_path_factory) -> str:
  """A workdir trained once per session with `configs/demo.py:tiny` (6 steps).

  Its training output is in `<workdir>/train.log`. Tests may read it, evaluate
  it, predict and serve from it; they must not train it further.
  """
  workdir = tmp_path_factory.getbasetemp() / 'trained_workdir'
  proc = subprocess.run(
      [sys.executable, 'launch.py', '--config', TINY_CONFIG, '--workdir', str(workdir)],
      cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=900,
      check=False)
  if proc.returncode:
    pytest.fail(f'tiny training failed ({proc.returncode}):\n{proc.stderr[-3000:]}')
  (workdir / 'train.log').write_text(proc.stdout)
  return str(workdir)
