"""Load test of the web demo: N describe requests from C concurrent API clients.

Start the demo, then point this at it:

    .venv/bin/python launch.py --config configs/demo.py --workdir runs/demo \
        --config.mode=serve &
    .venv/bin/python benchmarks/serve_load.py --url=http://127.0.0.1:7860/ \
        --image=runs/demo/synthetic_raw/Baroque/<file>.jpg [--requests=200] [--clients=8]

Each client is a `gradio_client.Client` (the page's own HTTP API, queue
included) calling `/describe` with the image; a request fails if it raises or
the page's status line says 'Error'. Prints p50 / p95 / max latency (upload to
description), the throughput, the machine and the load average before and after
(a last line flags a change over 1, as benchmarks/harness.py does); exits 1 on
any failure. With `--clients=1` the latency is one user's, with nobody queued.

A soak test (`--bad_fraction=0.33 --server_pid=<pid>`) makes that share of the
requests bad, in turn: an empty file, a truncated JPEG, a text file, an upload
over the server's size limit (sent as a browser would, straight to the upload
route, since gradio_client refuses it itself) and a PNG claiming 20,000 x 20,000
pixels. A bad request must be answered with a message (the status line, a
Gradio error, or the upload route's 413), a good one described; anything else
(a 5xx, a dropped connection, an answer without a message) is a server error.
The server's resident memory is read from /proc after the first
`--rss_after` requests and after the last.
"""

import concurrent.futures
import io
import logging
import os
import sys
import tempfile
import threading
import time

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import harness  # pylint: disable=g-import-not-at-top,wrong-import-position

_URL = flags.DEFINE_string('url', 'http://127.0.0.1:7860/', 'the running demo')
_IMAGE = flags.DEFINE_string('image', None, 'image file sent with every request')
_REQUESTS = flags.DEFINE_integer('requests', 200, 'total requests')
_CLIENTS = flags.DEFINE_integer('clients', 8, 'concurrent clients')
_BAD_FRACTION = flags.DEFINE_float('bad_fraction', 0.0, 'share of bad requests (soak test)')
_SERVER_PID = flags.DEFINE_integer('server_pid', 0, 'the server process, to read its memory')
_RSS_AFTER = flags.DEFINE_integer('rss_after', 100, 'requests before the first memory reading')
STATUS_INDEX = -1  # the status line is the describe event's last output
BAD_KINDS = ('empty', 'truncated', 'text', 'oversized', 'huge_pixels')


def _bilevel_png(width: int, height: int) -> bytes:
  """A blank 1-bit PNG of width x height pixels: some kB on disk, a bomb if decoded."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  Image.MAX_IMAGE_PIXELS = None  # writing it is ours to do; the server must refuse it
  buffer = io.BytesIO()
  Image.new('1', (width, height)).save(buffer, format='PNG')
  return buffer.getvalue()


def write_bad_files(folder: str, image: str, max_file_size: int | None) -> dict[str, str]:
  """One file of each bad kind in `folder` (the oversized one just over the server's limit)."""
  with open(image, 'rb') as f:
    good = f.read()
  limit = max_file_size or 64 * 2**20
  contents = {'empty': ('empty.jpg', b''), 'truncated': ('cut.jpg', good[:len(good) // 3]),
              'text': ('notes.txt', b'not a picture\n'),
              'oversized': ('huge_file.jpg', good + os.urandom(limit + 1024 - len(good))),
              'huge_pixels': ('huge_pixels.png', _bilevel_png(20_000, 20_000))}
  paths = {}
  for kind, (name, data) in contents.items():
    paths[kind] = os.path.join(folder, name)
    with open(paths[kind], 'wb') as f:
      f.write(data)
  return paths


def rss_mb(pid: int) -> float | None:
  """Resident memory of process `pid` in MB (Linux /proc), None when unknown."""
  try:
    with open(f'/proc/{pid}/status', encoding='ascii') as f:
      return next(int(l.split()[1]) for l in f if l.startswith('VmRSS')) / 1024
  except (OSError, StopIteration):
    return None


def _upload_raw(url: str, path: str):
  """Posts a file to the upload route as a browser would (no client-side size check)."""
  import httpx  # pylint: disable=g-import-not-at-top
  with open(path, 'rb') as f, httpx.Client(trust_env=False, timeout=120) as http:
    return http.post(url.rstrip('/') + '/gradio_api/upload',
                     files={'files': (os.path.basename(path), f)})


def run_load(url: str, image: str, requests: int, clients: int, *, bad_fraction: float = 0.0,
             server_pid: int = 0, rss_after: int = 100) -> dict:
  """Sends `requests` describe calls from `clients` threads; returns latencies and errors.

  Returns:
    {'latencies': s per request, 'bad': whether each was bad, 'errors': what went wrong,
     'wall_s', 'rss_mb': (after rss_after requests, after the last) or None}.
  """
  from gradio_client import Client, handle_file  # pylint: disable=g-import-not-at-top
  logging.getLogger('httpx').setLevel(logging.WARNING)  # one INFO line per HTTP call
  local = threading.local()
  errors, lock, done, rss = [], threading.Lock(), [0], [None, None]
  every = round(1 / bad_fraction) if bad_fraction > 0 else 0
  kinds = [BAD_KINDS[(i // every) % len(BAD_KINDS)] if every and i % every == every - 1 else None
           for i in range(requests)]
  folder = tempfile.mkdtemp(prefix='serve_load_')

  def client():
    if not hasattr(local, 'client'):
      # download_files=False: time the server, not writing result images here.
      local.client = Client(url, verbose=False, download_files=False,
                            analytics_enabled=False)
    return local.client

  bad_files = {}
  if every:
    bad_files = write_bad_files(folder, image, client().config.get('max_file_size'))

  def good_request():
    status = client().predict(handle_file(image), 'English', api_name='/describe')[STATUS_INDEX]
    if not str(status).startswith('Described'):
      errors.append(f'status: {status}')

  def bad_request(kind):
    if kind == 'oversized':
      answer = _upload_raw(url, bad_files[kind])
      if answer.status_code != 413 or 'exceeded' not in answer.text:
        errors.append(f'{kind}: HTTP {answer.status_code} {answer.text[:200]}')
      return
    try:
      status = client().predict(handle_file(bad_files[kind]), 'English',
                                api_name='/describe')[STATUS_INDEX]
    except Exception as e:  # pylint: disable=broad-except
      # A Gradio error raised on purpose (an invalid file type) is an answer with a message.
      if type(e).__name__ != 'AppError' or not str(e).strip():
        errors.append(f'{kind}: {type(e).__name__}: {e}')
      return
    if not str(status).startswith('Error: '):
      errors.append(f'{kind}: answered {status!r}')

  def one(i):
    start = time.perf_counter()
    try:
      if kinds[i]:
        bad_request(kinds[i])
      else:
        good_request()
    except Exception as e:  # pylint: disable=broad-except
      errors.append(f'{kinds[i] or "good"}: {type(e).__name__}: {e}')
    latency = time.perf_counter() - start
    with lock:
      done[0] += 1
      if server_pid and done[0] == min(rss_after, requests):
        rss[0] = rss_mb(server_pid)
    return latency

  start = time.perf_counter()
  with concurrent.futures.ThreadPoolExecutor(clients) as pool:
    latencies = np.asarray(list(pool.map(one, range(requests))))
  wall = time.perf_counter() - start
  if server_pid:
    rss[1] = rss_mb(server_pid)
  for path in bad_files.values():
    os.remove(path)
  os.rmdir(folder)
  return {'latencies': latencies, 'bad': np.asarray([k is not None for k in kinds]),
          'errors': errors, 'wall_s': wall, 'rss_mb': tuple(rss) if server_pid else None}


def _percentiles(seconds: np.ndarray) -> str:
  ms = seconds * 1e3
  return (f'p50 {np.percentile(ms, 50):.1f}  p95 {np.percentile(ms, 95):.1f}  '
          f'max {ms.max():.1f}') if ms.size else 'none'


def main(argv):
  del argv
  if not _IMAGE.value or not os.path.isfile(_IMAGE.value):
    print(f'error: --image={_IMAGE.value} is not a file', file=sys.stderr)
    sys.exit(1)
  if not 0 <= _BAD_FRACTION.value < 1:
    print(f'error: --bad_fraction={_BAD_FRACTION.value} is not in [0, 1)', file=sys.stderr)
    sys.exit(1)
  load_before = os.getloadavg()[0]
  stats = run_load(_URL.value, _IMAGE.value, _REQUESTS.value, _CLIENTS.value,
                   bad_fraction=_BAD_FRACTION.value, server_pid=_SERVER_PID.value,
                   rss_after=_RSS_AFTER.value)
  load_after = os.getloadavg()[0]
  print(f'machine: {harness.machine()} (client and server on it)')
  print(f'{_REQUESTS.value} requests, {_CLIENTS.value} clients, {len(stats["errors"])} errors')
  print(f'latency ms: {_percentiles(stats["latencies"])}')
  bad = stats['bad']
  if bad.any():
    print(f'{int((~bad).sum())} good requests, latency ms: {_percentiles(stats["latencies"][~bad])}')
    print(f'{int(bad.sum())} bad requests ({", ".join(BAD_KINDS)}), latency ms: '
          f'{_percentiles(stats["latencies"][bad])}')
  if stats['rss_mb']:
    first, last = (f'{x:.1f}' if x else 'unknown' for x in stats['rss_mb'])
    ratio = (f'{stats["rss_mb"][1] / stats["rss_mb"][0]:.3f}' if all(stats['rss_mb'])
             else 'unknown')
    print(f'server RSS MB: {first} after {min(_RSS_AFTER.value, _REQUESTS.value)} requests, '
          f'{last} after the last (ratio {ratio})')
  print(f'throughput: {_REQUESTS.value / stats["wall_s"]:.1f} requests/s '
        f'({stats["wall_s"]:.1f} s wall)')
  print(harness.load_verdict(load_before, load_after), flush=True)
  for error in sorted(set(stats['errors']))[:5]:
    print(f'error: {error}', file=sys.stderr)
  sys.exit(1 if stats['errors'] else 0)


if __name__ == '__main__':
  app.run(main)
