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
"""

import concurrent.futures
import logging
import os
import sys
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
STATUS_INDEX = -1  # the status line is the describe event's last output


def run_load(url: str, image: str, requests: int, clients: int) -> dict:
  """Sends `requests` describe calls from `clients` threads; returns latencies and errors."""
  from gradio_client import Client, handle_file  # pylint: disable=g-import-not-at-top
  logging.getLogger('httpx').setLevel(logging.WARNING)  # one INFO line per HTTP call
  local = threading.local()
  errors = []

  def one(_):
    if not hasattr(local, 'client'):
      # download_files=False: time the server, not writing result images here.
      local.client = Client(url, verbose=False, download_files=False,
                            analytics_enabled=False)
    start = time.perf_counter()
    try:
      outputs = local.client.predict(handle_file(image), 'English', api_name='/describe')
      status = outputs[STATUS_INDEX]
      if not str(status).startswith('Described'):
        errors.append(f'status: {status}')
    except Exception as e:  # pylint: disable=broad-except
      errors.append(f'{type(e).__name__}: {e}')
    return time.perf_counter() - start

  start = time.perf_counter()
  with concurrent.futures.ThreadPoolExecutor(clients) as pool:
    latencies = np.asarray(list(pool.map(one, range(requests))))
  wall = time.perf_counter() - start
  return {'latencies': latencies, 'errors': errors, 'wall_s': wall}


def main(argv):
  del argv
  if not _IMAGE.value or not os.path.isfile(_IMAGE.value):
    print(f'error: --image={_IMAGE.value} is not a file', file=sys.stderr)
    sys.exit(1)
  load_before = os.getloadavg()[0]
  stats = run_load(_URL.value, _IMAGE.value, _REQUESTS.value, _CLIENTS.value)
  load_after = os.getloadavg()[0]
  ms = stats['latencies'] * 1e3
  print(f'machine: {harness.machine()} (client and server on it)')
  print(f'{_REQUESTS.value} requests, {_CLIENTS.value} clients, {len(stats["errors"])} errors')
  print(f'latency ms: p50 {np.percentile(ms, 50):.1f}  p95 {np.percentile(ms, 95):.1f}  '
        f'max {ms.max():.1f}')
  print(f'throughput: {_REQUESTS.value / stats["wall_s"]:.1f} requests/s '
        f'({stats["wall_s"]:.1f} s wall)')
  print(harness.load_verdict(load_before, load_after), flush=True)
  for error in sorted(set(stats['errors']))[:5]:
    print(f'error: {error}', file=sys.stderr)
  sys.exit(1 if stats['errors'] else 0)


if __name__ == '__main__':
  app.run(main)
