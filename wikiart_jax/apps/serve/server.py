"""`config.mode=serve`: the web demo on the latest checkpoint of a workdir.

    python launch.py --config configs/demo.py --workdir runs/demo --config.mode=serve

Binds to config.serve.host:config.serve.port (loopback by default). Offline by
construction: analytics off, no share link, no server-side rendering (which
would need Node), every asset served from the installed gradio package.
"""

import os

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')

import ml_collections  # pylint: disable=g-import-not-at-top
import numpy as np

from wikiart_jax.apps.serve import app  # pylint: disable=g-import-not-at-top

# Requests computed at once; more wait in gradio's queue. JAX already uses every
# core for one forward pass, so a few in flight only hide decode/encode time.
CONCURRENCY = 4
MAX_UPLOAD = '64mb'  # a large museum scan; decompression bombs are caught by pixel count


def serve(config: ml_collections.ConfigDict, workdir: str, *, block: bool = True):
  """Starts the demo; returns (blocks, local url) when `block` is False.

  Raises:
    FileNotFoundError: the workdir holds no trained model.
    ValueError: the host/port cannot be bound.
  """
  demo = app.Demo(config, workdir)
  # Compile both forward passes now, not on the first visitor's request.
  size = demo.predictor.image_size
  demo.analyse(np.zeros((size, size, 3), np.uint8))
  blocks = app.build_blocks(demo)
  blocks.queue(default_concurrency_limit=CONCURRENCY)
  # Examples and rating images live outside gradio's cache; let it serve them.
  allowed = sorted({os.path.dirname(os.path.abspath(p))
                    for p in demo.examples + demo.eval_images})
  host, port = config.serve.host, config.serve.port
  try:
    _, url, _ = blocks.launch(
        server_name=host, server_port=port,
        share=False, ssr_mode=False, pwa=False, mcp_server=False,
        enable_monitoring=False, max_file_size=MAX_UPLOAD, allowed_paths=allowed,
        prevent_thread_lock=True, quiet=True,
        footer_links=['api', 'settings'], run_history=False)
  except OSError as e:  # gradio's "Cannot find empty port" is several lines long
    raise ValueError(f'config.serve.port={port}: cannot listen on {host}:{port} '
                     f'({str(e).splitlines()[0]})') from None
  print(f'serving {workdir} ({demo.source}) on {url}', flush=True)
  if not block:
    return blocks, url
  try:
    blocks.block_thread()
  finally:
    blocks.close()
  return blocks, url
