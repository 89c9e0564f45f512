"""The issue's done-when, in a real browser: describe, bad upload, rating.

Starts `launch.py --config.mode=serve` on a free loopback port and drives Debian's
Chromium (/usr/bin/chromium; tests/apps/serve/install_chromium.sh installs it) with
Playwright. Every request the page makes to a host other than loopback is
blocked and fails the test: the demo must work offline. A screenshot of the
described image is kept in the workdir (serve_describe.png).
"""

import json
import os
import urllib.parse

import pytest

from serve_helpers import running_server

CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                 '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']
TIMEOUT_MS = 60_000  # one CPU request can wait behind JIT compiles on a busy machine

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f'{CHROMIUM} is absent (tests/apps/serve/install_chromium.sh)')


@pytest.fixture(scope='module')
def page_and_server(trained_workdir):  # pylint: disable=redefined-outer-name
  sync_api = pytest.importorskip('playwright.sync_api')
  with running_server(trained_workdir) as (url, _):
    with sync_api.sync_playwright() as playwright:
      browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
      page = browser.new_page(viewport={'width': 1400, 'height': 1000})
      page.set_default_timeout(TIMEOUT_MS)
      external = []

      def only_loopback(route):
        request_url = route.request.url
        host = urllib.parse.urlparse(request_url).hostname
        if request_url.startswith(('data:', 'blob:')) or host in ('127.0.0.1', 'localhost'):
          route.continue_()
        else:
          external.append(request_url)
          route.abort()

      page.route('**/*', only_loopback)
      page.goto(url)
      yield page, trained_workdir, external
      browser.close()


def _first_val_image(workdir):
  raw = os.path.join(workdir, 'synthetic_raw')
  with open(os.path.join(raw, 'style_val.csv'), encoding='utf-8') as f:
    return os.path.join(raw, f.readline().split(',')[0])


def _upload(page, path):
  clear = page.locator('#upload button[aria-label=Clear]')
  if clear.count():  # a file is shown: clear it to get the file input back
    clear.click()
    page.wait_for_function(
        "document.querySelector('#description textarea').value === ''")
  page.set_input_files('#upload input[type=file]', path)


def test_describe_an_image(page_and_server):  # pylint: disable=redefined-outer-name
  page, workdir, external = page_and_server
  image = _first_val_image(workdir)
  _upload(page, image)
  page.wait_for_selector('#status:has-text("Described")')
  description = page.input_value('#description textarea')
  assert len(description) > 10, description
  for task in ('style', 'artist', 'genre'):
    bars = page.locator(f'#top-{task} .confidence-set')
    assert bars.count() == 5, f'{task}: {bars.count()} bars'
    assert '%' in bars.first.inner_text()
  page.wait_for_selector('#heatmap img')
  page.get_by_label('Français').first.check()
  page.wait_for_function(
      f"document.querySelector('#description textarea').value !== {json.dumps(description)}")
  assert page.input_value('#description textarea') != description
  page.screenshot(path=os.path.join(workdir, 'serve_describe.png'), full_page=True)
  assert not external, external


def test_text_files_are_refused_by_content_and_by_type(page_and_server, tmp_path):  # pylint: disable=redefined-outer-name
  page, _, external = page_and_server
  disguised = tmp_path / 'notes.jpg'
  disguised.write_text('not a painting')
  _upload(page, str(disguised))  # an image's name, a text inside: the decoder refuses it
  page.wait_for_selector('#status:has-text("Error")')
  assert 'notes.jpg: not an image' in page.inner_text('#status')
  assert page.input_value('#description textarea') == ''
  notes = tmp_path / 'notes.txt'
  notes.write_text('not a painting either')
  _upload(page, str(notes))  # image types only: gradio refuses it, with a message
  page.locator('[data-testid=toast-text]:has-text("Invalid file type: notes.txt")').first.wait_for()
  assert not external, external


def test_submit_a_rating(page_and_server):  # pylint: disable=redefined-outer-name
  page, workdir, external = page_and_server
  page.get_by_role('tab', name='Rate descriptions').click()
  page.wait_for_function(
      "document.querySelector('#rate-description textarea').value.length > 0")
  shown = page.input_value('#rate-description textarea')
  page.locator('#rate-correctness input[value="4"]').check()
  page.locator('#rate-fluency input[value="2"]').check()
  page.fill('#rate-comment textarea', 'browser test rating')
  page.click('#rate-submit')
  page.wait_for_selector('#rate-status:has-text("Saved")')
  with open(os.path.join(workdir, 'human_eval.jsonl'), encoding='utf-8') as f:
    records = [json.loads(line) for line in f]
  mine = [r for r in records if r['comment'] == 'browser test rating']
  assert len(mine) == 1
  assert (mine[0]['correctness'], mine[0]['fluency']) == (4, 2)
  assert mine[0]['description'] == shown and mine[0]['lang'] == 'en'
  page.screenshot(path=os.path.join(workdir, 'serve_rate.png'), full_page=True)
  assert not external, external
