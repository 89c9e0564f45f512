"""benchmarks/serve_load.py against a live demo server: a few requests, good and bad; with
-m slow 200 good ones, and the soak test (1,000 from 8 clients, a third of them bad); then
SIGTERM stops the server through its clean-up."""

import glob
import os
import re
import signal
import subprocess
import sys

import pytest

from serve_helpers import ROOT
from serve_helpers import running_server


@pytest.fixture(scope='module')
def server_tmpdir(tmp_path_factory):
  """The server's TMPDIR: its private copies of the examples go there."""
  return str(tmp_path_factory.mktemp('serve_tmp'))


@pytest.fixture(scope='module')
def server(trained_workdir, server_tmpdir):  # pylint: disable=redefined-outer-name
  # 1 MB uploads: the soak test's oversized files stay small.
  with running_server(trained_workdir, '--config.serve.max_upload_mb=1',
                      tmpdir=server_tmpdir) as (url, proc):
    yield url, proc, trained_workdir


def _image(workdir):
  raw = os.path.join(workdir, 'synthetic_raw')
  with open(os.path.join(raw, 'style_val.csv'), encoding='utf-8') as f:
    return os.path.join(raw, f.readline().split(',')[0])


def _run_benchmark(url, image, requests, clients, *flags, timeout=600):
  proc = subprocess.run(
      [sys.executable, 'benchmarks/serve_load.py', f'--url={url}', f'--image={image}',
       f'--requests={requests}', f'--clients={clients}', *flags],
      cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
      env=dict(os.environ, GRADIO_ANALYTICS_ENABLED='False'))
  return proc.returncode, proc.stdout + proc.stderr


def test_concurrent_requests_all_succeed(server):  # pylint: disable=redefined-outer-name
  url, proc, workdir = server
  code, out = _run_benchmark(url, _image(workdir), requests=24, clients=8)
  assert code == 0, out
  assert '24 requests, 8 clients, 0 errors' in out
  p50, p95 = map(float, re.search(r'p50 ([\d.]+)\s+p95 ([\d.]+)', out).groups())
  assert 0 < p50 <= p95
  assert proc.poll() is None  # the server is still up


def test_a_bad_image_counts_as_an_error(server, tmp_path):  # pylint: disable=redefined-outer-name
  url, proc, _ = server
  bad = tmp_path / 'bad.jpg'
  bad.write_bytes(b'not a jpeg')
  code, out = _run_benchmark(url, str(bad), requests=2, clients=2)
  assert code == 1 and '2 errors' in out and 'bad.jpg: not an image' in out, out
  assert proc.poll() is None


@pytest.mark.slow
def test_two_hundred_requests_from_eight_clients(server):  # pylint: disable=redefined-outer-name
  url, _, workdir = server
  code, out = _run_benchmark(url, _image(workdir), requests=200, clients=8)
  print(out)
  assert code == 0 and '200 requests, 8 clients, 0 errors' in out, out


def test_bad_requests_of_every_kind_are_answered_with_a_message(server):  # pylint: disable=redefined-outer-name
  url, proc, workdir = server
  code, out = _run_benchmark(url, _image(workdir), 20, 4, '--bad_fraction=0.5',
                             f'--server_pid={proc.pid}', '--rss_after=10')
  assert code == 0, out
  assert '20 requests, 4 clients, 0 errors' in out  # each of the 5 bad kinds twice
  assert '10 good requests' in out and '10 bad requests' in out
  assert re.search(r'server RSS MB: [\d.]+ after 10 requests, [\d.]+ after the last', out), out
  assert proc.poll() is None


@pytest.mark.slow
def test_soak_a_thousand_requests_a_third_of_them_bad(server):  # pylint: disable=redefined-outer-name
  url, proc, workdir = server
  code, out = _run_benchmark(url, _image(workdir), 1000, 8, '--bad_fraction=0.333',
                             f'--server_pid={proc.pid}', '--rss_after=100', timeout=3600)
  print(out)
  assert code == 0 and '1000 requests, 8 clients, 0 errors' in out, out
  assert '667 good requests' in out and '333 bad requests' in out
  first, last = map(float, re.search(r'server RSS MB: ([\d.]+) after 100 requests, ([\d.]+) '
                                     r'after the last', out).groups())
  assert last <= 1.25 * first, (first, last)
  assert proc.poll() is None


def test_sigterm_stops_the_server_and_removes_its_private_copies(server, server_tmpdir):  # pylint: disable=redefined-outer-name
  """Last in this file: it stops the module's server, as `docker stop` would."""
  _, proc, _ = server
  private = glob.glob(os.path.join(server_tmpdir, 'wikiart-serve-*'))
  assert len(private) == 1 and os.listdir(private[0]), private  # the examples' copies
  proc.terminate()
  assert proc.wait(timeout=60) == 128 + signal.SIGTERM
  assert not os.path.exists(private[0])
