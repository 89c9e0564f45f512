"""A public demo only on purpose: loopback by default, elsewhere a login (Gradio's auth)
or `serve.allow_public`; uploads limited in bytes and pixels and to image types; no
folder of the server named in the page or its answers, or served; analytics and share
links off whatever the environment says.

The public server runs in this process on 0.0.0.0 behind a login, for this module only.
"""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from conftest import png_header
from serve_helpers import free_port
from wikiart_jax.apps.serve import server

USER, PASSWORD = 'alice', 'correct horse battery staple'


def _config(**serve):
  from demo import get_config  # configs/ is on sys.path (tests/conftest.py)
  config = get_config('tiny')
  for key, value in serve.items():
    config.serve[key] = value
  return config


@pytest.mark.parametrize('host', ['0.0.0.0', '192.0.2.7', '::', 'example.org', ''])
def test_a_public_host_without_a_login_is_refused_at_once(trained_workdir, host):
  with pytest.raises(ValueError) as raised:
    server.serve(_config(host=host), trained_workdir, block=False)
  message = str(raised.value)
  assert '\n' not in message
  assert message.startswith(f'config.serve.host={host} is not a loopback address'), message
  assert 'config.serve.auth=USER:PASSWORD_FILE' in message
  assert 'config.serve.allow_public=True' in message


def test_loopback_needs_nothing_and_allow_public_serves_openly_with_a_warning(capsys):
  for host in ('127.0.0.1', 'localhost', '::1', '127.0.1.1'):
    assert server.access(_config(host=host).serve) is None
  assert server.access(_config(host='0.0.0.0', allow_public=True).serve) is None
  assert 'without a login (config.serve.allow_public=True)' in capsys.readouterr().err


def test_auth_settings_are_checked(tmp_path):
  secret = tmp_path / 'password'
  secret.write_text(PASSWORD + '\n')
  assert server.read_auth(f'{USER}:{secret}') == (USER, PASSWORD)
  with pytest.raises(ValueError, match="must be 'USER:PASSWORD_FILE'"):
    server.read_auth(USER)
  with pytest.raises(FileNotFoundError, match='cannot read the password file'):
    server.read_auth(f'{USER}:{tmp_path / "absent"}')
  (tmp_path / 'empty').write_text('')
  with pytest.raises(ValueError, match='is empty'):
    server.read_auth(f'{USER}:{tmp_path / "empty"}')


@pytest.fixture(scope='module')
def public(trained_workdir, tmp_path_factory):
  """(url, config) of the demo on 0.0.0.0 behind a login, 1 MB and 10M-pixel uploads,
  started with GRADIO_SHARE and GRADIO_ANALYTICS_ENABLED set to True."""
  secret = tmp_path_factory.mktemp('secret') / 'password'
  secret.write_text(PASSWORD + '\n')
  port = free_port()
  config = _config(host='0.0.0.0', port=port, auth=f'{USER}:{secret}', max_upload_mb=1,
                   max_upload_pixels=10_000_000)
  saved = {k: os.environ.get(k) for k in ('GRADIO_SHARE', 'GRADIO_ANALYTICS_ENABLED')}
  os.environ.update(GRADIO_SHARE='True', GRADIO_ANALYTICS_ENABLED='True')
  try:
    blocks, _ = server.serve(config, trained_workdir, block=False)
  finally:
    for key, value in saved.items():
      if value is None:
        os.environ.pop(key, None)
      else:
        os.environ[key] = value
  yield f'http://127.0.0.1:{port}/', blocks
  blocks.close()


def _client(url, auth=(USER, PASSWORD)):
  from gradio_client import Client  # pylint: disable=g-import-not-at-top
  return Client(url, auth=auth, verbose=False, download_files=False, analytics_enabled=False)


def _describe(client, path):
  from gradio_client import handle_file  # pylint: disable=g-import-not-at-top
  return client.predict(handle_file(str(path)), 'English', api_name='/describe')


def _http(url):
  import httpx  # pylint: disable=g-import-not-at-top
  return httpx.Client(base_url=url, trust_env=False, timeout=60)  # loopback: no proxy


def test_a_public_host_with_a_login_serves_only_after_login(public, tmp_path):
  url, blocks = public
  assert blocks.share is False and blocks.share_url is None  # GRADIO_SHARE=True ignored
  assert blocks.analytics_enabled is False
  with _http(url) as http:
    assert http.get('config').status_code == 401
    assert http.post('login', data={'username': USER, 'password': 'wrong'}).status_code == 400
  with pytest.raises(Exception):  # pylint: disable=broad-except
    _client(url, auth=(USER, 'wrong'))
  image = tmp_path / 'a.png'
  Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 50, 3), np.uint8)).save(image)
  assert _describe(_client(url), image)[-1] == 'Described a.png.'


def test_uploads_are_limited_in_bytes_pixels_and_type(public, tmp_path):
  url, _ = public
  client = _client(url)
  oversized = tmp_path / 'big.jpg'
  oversized.write_bytes(os.urandom(2 * 2**20))  # 2 MB > serve.max_upload_mb=1
  with pytest.raises(Exception, match='exceeds the maximum file size of 1048576 bytes'):
    _describe(client, oversized)  # gradio_client reads the limit from the page
  with _http(url) as http:  # and a client that does not is refused by the server
    assert http.post('login', data={'username': USER, 'password': PASSWORD}).status_code == 200
    refused = http.post('gradio_api/upload', files={'files': ('big.jpg', oversized.read_bytes())})
    assert refused.status_code == 413
    assert 'File size exceeded maximum allowed size of 1048576 bytes' in refused.text
  text = tmp_path / 'notes.txt'
  text.write_text('not a picture')
  with pytest.raises(Exception, match='Invalid file type'):
    _describe(client, text)
  wide = tmp_path / 'wide.png'
  wide.write_bytes(png_header(4000, 3000))  # 12M pixels > serve.max_upload_pixels
  assert _describe(client, wide)[-1] == ('Error: wide.png: more than 10000000 pixels '
                                         '(decompression bomb?)')
  disguised = tmp_path / 'disguised.jpg'
  disguised.write_text('a text file named .jpg')
  assert _describe(client, disguised)[-1] == 'Error: disguised.jpg: not an image'


def test_no_server_folder_is_named_or_served(public, trained_workdir, tmp_path):
  url, _ = public
  folders = {trained_workdir, os.path.realpath(trained_workdir), ROOT, os.path.expanduser('~')}
  folders = {f for f in folders if len(f) > 1}
  good = tmp_path / 'good.png'
  Image.fromarray(np.full((40, 50, 3), 128, np.uint8)).save(good)
  cut = tmp_path / 'cut.jpg'
  buffer = io.BytesIO()
  Image.new('RGB', (64, 64), (10, 200, 30)).save(buffer, format='JPEG')
  cut.write_bytes(buffer.getvalue()[:200])
  client = _client(url)
  answers = json.dumps([_describe(client, good), _describe(client, cut)])
  with _http(url) as http:
    assert http.post('login', data={'username': USER, 'password': PASSWORD}).status_code == 200
    page, config = http.get('').text, http.get('config').text
    for path in (os.path.join(trained_workdir, 'vocab.json'),
                 os.path.join(trained_workdir, 'synthetic_raw', 'style_val.csv')):
      assert http.get(f'gradio_api/file={path}').status_code in (403, 404)
  for folder in folders:
    for text, what in ((answers, 'the API answers'), (page, 'the page'), (config, 'its config')):
      assert folder not in text, f'{folder} in {what}'


def test_analytics_stay_off_whatever_the_environment():
  probe = ('import sys; sys.path.insert(0, sys.argv[1]); '
           'from wikiart_jax.apps.serve import server; '
           'from gradio import analytics; print(analytics.analytics_enabled())')
  proc = subprocess.run([sys.executable, '-c', probe, ROOT], capture_output=True, text=True,
                        timeout=300, check=False,
                        env=dict(os.environ, GRADIO_ANALYTICS_ENABLED='True'))
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.strip() == 'False'
