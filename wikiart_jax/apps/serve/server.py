"""`config.mode=serve`: the web demo on the latest checkpoint of a workdir.

    python launch.py --config configs/demo.py --workdir runs/demo --config.mode=serve

Binds to config.serve.host:config.serve.port, loopback by default. Any other
address is a public demo, served only on purpose: with a login
(`serve.auth=USER:PASSWORD_FILE`, Gradio's auth) or `serve.allow_public=True`.
Offline and private by construction: analytics and share links off whatever the
environment says, no server-side rendering (which would need Node), every asset
served from the installed gradio package, uploads limited in bytes
(`serve.max_upload_mb`), in pixels (`serve.max_upload_pixels`) and to image types,
no folder of the server (workdir, data) served or named: the example images are
served from copies in a private temporary folder.
"""

import atexit
import hmac
import ipaddress
import os
import shutil
import signal
import sys
import tempfile
import threading

# Read by gradio when a Blocks is made, and by its analytics calls: off, whatever the environment says.
os.environ['GRADIO_ANALYTICS_ENABLED'] = 'False'

import ml_collections  # pylint: disable=g-import-not-at-top
import numpy as np

from wikiart_jax.apps.serve import app  # pylint: disable=g-import-not-at-top

# Requests computed at once; more wait in gradio's queue. JAX already uses every
# core for one forward pass, so a few in flight only hide decode/encode time.
CONCURRENCY = 4


def is_loopback(host: str) -> bool:
  """Whether `host` is reachable only from this machine."""
  if host == 'localhost':
    return True
  try:
    return ipaddress.ip_address(host).is_loopback
  except ValueError:  # a host name: it may resolve to anything
    return False


def read_auth(spec: str) -> tuple[str, str]:
  """(user, password) of `serve.auth='USER:PASSWORD_FILE'`; the password is the file's first line.

  Raises:
    ValueError: not USER:FILE, or the file is empty.
    FileNotFoundError: the file cannot be read.
  """
  user, sep, file = spec.partition(':')
  if not sep or not user.strip() or not file.strip():
    raise ValueError(f"config.serve.auth must be 'USER:PASSWORD_FILE', got {spec!r}")
  try:
    with open(file, encoding='utf-8') as f:
      password = f.readline().rstrip('\r\n')
  except OSError as e:
    raise FileNotFoundError(
        f'config.serve.auth: cannot read the password file {file} ({e.strerror or e})') from None
  if not password:
    raise ValueError(f'config.serve.auth: the password file {file} is empty')
  return user.strip(), password


def access(serve_config) -> tuple[str, str] | None:
  """The login the demo asks for (None: none), after checking that the host may be served.

  Raises:
    ValueError: a non-loopback host with neither serve.auth nor serve.allow_public.
  """
  login = read_auth(serve_config.auth) if serve_config.auth else None
  if login is None and not is_loopback(serve_config.host):
    if not serve_config.allow_public:
      raise ValueError(
          f'config.serve.host={serve_config.host} is not a loopback address: anyone who can '
          'reach it could use the demo; set config.serve.auth=USER:PASSWORD_FILE for a login, '
          'or config.serve.allow_public=True to serve it openly')
    print(f'warning: serving on {serve_config.host} without a login '
          '(config.serve.allow_public=True)', file=sys.stderr, flush=True)
  return login


def _check_login(expected: tuple[str, str]):
  """Gradio's auth callable: constant-time comparisons, no early exit on the user."""
  user, password = (s.encode('utf-8') for s in expected)

  def check(given_user: str, given_password: str) -> bool:
    same_user = hmac.compare_digest(given_user.encode('utf-8'), user)
    same_password = hmac.compare_digest(given_password.encode('utf-8'), password)
    return same_user and same_password

  return check


def _private_copies(paths: list[str], folder: str) -> list[str]:
  """Copies of the example images in `folder`, so that gradio serves no folder of ours."""
  copies = []
  for i, path in enumerate(paths):
    os.makedirs(os.path.join(folder, str(i)))
    copies.append(shutil.copy(path, os.path.join(folder, str(i), os.path.basename(path))))
  return copies


def _exit_on_sigterm(signum, frame):  # pylint: disable=unused-argument
  """SIGTERM (`docker stop`, systemd, `kill`) ends the demo as Ctrl-C does: through
  its clean-up, with the shell's exit status for the signal (143)."""
  raise SystemExit(128 + signum)


def serve(config: ml_collections.ConfigDict, workdir: str, *, block: bool = True):
  """Starts the demo; returns (blocks, local url) when `block` is False.

  Blocking, it serves until Ctrl-C or SIGTERM, then closes the server and removes
  its private folder. Not blocking, the caller closes `blocks`; the folder is
  removed when the process exits.

  Raises:
    ValueError: a public host without serve.auth or serve.allow_public; the
      host/port cannot be bound; a bad upload limit.
    FileNotFoundError: the workdir holds no trained model, or no password file.
  """
  cfg = config.serve
  login = access(cfg)  # before the model loads: a refused demo stops at once
  if cfg.max_upload_mb <= 0:
    raise ValueError(f'config.serve.max_upload_mb must be positive, got {cfg.max_upload_mb}')
  demo = app.Demo(config, workdir)
  # Compile both forward passes now, not on the first visitor's request.
  size = demo.predictor.image_size
  demo.analyse(np.zeros((size, size, 3), np.uint8))
  private = tempfile.mkdtemp(prefix='wikiart-serve-')
  demo.examples = _private_copies(demo.examples, private)
  blocks = app.build_blocks(demo)
  blocks.queue(default_concurrency_limit=CONCURRENCY)
  host, port = cfg.host, cfg.port
  try:
    _, url, _ = blocks.launch(
        server_name=host, server_port=port,
        auth=_check_login(login) if login else None,
        auth_message='WikiArt JAX: log in to use the demo.' if login else None,
        share=False, ssr_mode=False, pwa=False, mcp_server=False,
        enable_monitoring=False, max_file_size=f'{cfg.max_upload_mb}mb', allowed_paths=[],
        prevent_thread_lock=True, quiet=True,
        footer_links=['api', 'settings'], run_history=False)
  except OSError as e:  # gradio's "Cannot find empty port" is several lines long
    shutil.rmtree(private, ignore_errors=True)
    raise ValueError(f'config.serve.port={port}: cannot listen on {host}:{port} '
                     f'({str(e).splitlines()[0]})') from None
  print(f'serving {workdir} ({demo.source}) on {url}'
        + (' (login required)' if login else ''), flush=True)
  if not block:
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    return blocks, url
  # Without a handler SIGTERM ends Python at once, and the copies stay in /tmp.
  in_main = threading.current_thread() is threading.main_thread()
  previous = signal.signal(signal.SIGTERM, _exit_on_sigterm) if in_main else None
  try:
    blocks.block_thread()
  finally:
    if in_main:
      signal.signal(signal.SIGTERM, previous)
    blocks.close()
    shutil.rmtree(private, ignore_errors=True)
  return blocks, url
