"""Shared by the serve tests: a demo server subprocess on a trained workdir.

The workdir is conftest's session fixture `trained_workdir`; each module that
needs a live server starts one of its own on a free loopback port.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT  # pylint: disable=unused-import
from conftest import subprocess_env

CONFIG = 'configs/demo.py:tiny'
START_TIMEOUT_S = 240


def free_port() -> int:
  with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def _ready(url: str) -> bool:
  opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
  try:
    with opener.open(url + 'config', timeout=2) as response:
      return response.status == 200
  except (urllib.error.URLError, OSError):
    return False


@contextlib.contextmanager
def running_server(workdir: str, *overrides: str, tmpdir: str | None = None):
  """Yields (base url, Popen) of `launch.py --config.mode=serve` on a free port, with
  TMPDIR=tmpdir when given."""
  port = free_port()
  log_path = os.path.join(workdir, f'serve_{port}.log')
  env = subprocess_env()
  if tmpdir is not None:
    env['TMPDIR'] = tmpdir
  with open(log_path, 'w', encoding='utf-8') as log:
    proc = subprocess.Popen(
        [sys.executable, 'launch.py', '--config', CONFIG, '--workdir', workdir,
         '--config.mode=serve', f'--config.serve.port={port}', *overrides],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
  url = f'http://127.0.0.1:{port}/'
  try:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _ready(url):
      if proc.poll() is not None or time.monotonic() > deadline:
        with open(log_path, encoding='utf-8') as f:
          pytest.fail(f'server did not start (exit {proc.poll()}):\n{f.read()[-3000:]}')
      time.sleep(0.5)
    yield url, proc
  finally:
    proc.terminate()
    try:
      proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
      proc.kill()
      proc.wait()
