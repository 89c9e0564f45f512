"""The demo's callbacks called directly: good and bad uploads, language, ratings."""

import concurrent.futures
import io
import json
import os
import socket
import threading

import numpy as np
import pytest
from PIL import Image

from conftest import png_header
from wikiart_jax.apps.serve import app
from wikiart_jax.data import images as images_lib
from wikiart_jax.metrics import ratings

OUTPUTS = ('result', 'description', 'style', 'artist', 'genre', 'picture', 'overlay',
           'tags', 'period', 'content', 'status')


def _config(**serve):
  from demo import get_config  # configs/ is on sys.path (tests/conftest.py)
  config = get_config('tiny')
  with config.unlocked():
    for key, value in serve.items():
      config.serve[key] = value
  return config


@pytest.fixture(scope='module')
def demo(trained_workdir):  # pylint: disable=redefined-outer-name
  return app.Demo(_config(), trained_workdir)


def _describe(demo, path, lang='English'):  # pylint: disable=redefined-outer-name
  return dict(zip(OUTPUTS, demo.describe(path, lang)))


def _save(tmp_path, name, image, **kwargs):
  path = str(tmp_path / name)
  image.save(path, **kwargs)
  return path


def test_eval_images_follow_the_split_file(trained_workdir, tmp_path):  # pylint: disable=redefined-outer-name
  listed = app.eval_images(_config(), trained_workdir)
  raw = os.path.join(trained_workdir, 'synthetic_raw')
  with open(os.path.join(raw, 'style_val.csv'), encoding='utf-8') as f:
    expected = [os.path.join(raw, line.split(',')[0]) for line in f if line.strip()]
  assert listed == expected and listed
  Image.new('RGB', (8, 8)).save(tmp_path / 'b.png')
  (tmp_path / 'sub').mkdir()
  Image.new('RGB', (8, 8)).save(tmp_path / 'sub' / 'a.jpg')
  (tmp_path / 'notes.txt').write_text('not an image')
  assert app.eval_images(_config(rating_dir=str(tmp_path)), trained_workdir) == [
      str(tmp_path / 'b.png'), str(tmp_path / 'sub' / 'a.jpg')]
  with pytest.raises(FileNotFoundError, match='rating_dir'):
    app.eval_images(_config(rating_dir=str(tmp_path / 'absent')), trained_workdir)


def test_good_image_matches_the_predictor(demo):  # pylint: disable=redefined-outer-name
  path = demo.examples[0]
  out = _describe(demo, path)
  assert out['status'].startswith('Described')
  expected = demo.predictor.label(images_lib.load_rgb(path), k=5)
  assert out['description'] == expected['description']['en']
  for task in ('style', 'artist', 'genre'):
    want = {r['label'].replace('_', ' '): r['prob'] for r in expected[task]}
    assert out[task] == pytest.approx(want, rel=1e-5) and len(want) == 5
  assert out['overlay'].shape == (384, 384, 3) and out['overlay'].dtype == np.uint8
  # Beside the top-5 lists: the top tags, the top period bins, year, palette and light.
  assert out['tags'] == pytest.approx({t['en']: t['prob'] for t in expected['tags']}, rel=1e-5)
  assert out['period'] == pytest.approx(
      {b['label']: b['prob'] for b in expected['period']['top']}, rel=1e-5)
  assert f"about {expected['period']['year']}" in out['content']
  assert 'Palette' in out['content'] and 'Light' in out['content']
  for colour in expected['palette']['colours']:
    assert colour['hex'] in out['content'] and colour['fr'] in out['content']
  french = app.Demo.switch_language(out['result'], 'Français')
  assert french == expected['description']['fr'] != out['description']


@pytest.mark.parametrize('name, content, message', [
    ('notes.txt', b'this is not a picture', 'notes.txt: not an image'),
    ('empty.jpg', b'', 'empty.jpg: empty file'),
    ('bomb.png', png_header(20_000, 20_000), 'bomb.png: more than'),
    ('cut.jpg', 'truncated', 'cut.jpg: cannot decode'),
])
def test_bad_uploads_give_a_status_line(demo, tmp_path, name, content, message):  # pylint: disable=redefined-outer-name
  if content == 'truncated':
    buffer = io.BytesIO()
    Image.new('RGB', (64, 64), (10, 200, 30)).save(buffer, format='JPEG')
    content = buffer.getvalue()[:200]
  path = tmp_path / name
  path.write_bytes(content)
  out = _describe(demo, str(path))
  assert out['status'].startswith('Error: ') and message in out['status']
  assert '\n' not in out['status']
  assert out['result'] is None and out['description'] == '' and out['overlay'] is None
  assert out['tags'] is None and out['period'] is None and out['content'] == ''


def test_no_upload_asks_for_one(demo):  # pylint: disable=redefined-outer-name
  out = _describe(demo, None)
  assert out['status'].startswith('Upload an image') and out['result'] is None


def test_cmyk_and_16_bit_images_are_described(demo, tmp_path):  # pylint: disable=redefined-outer-name
  cmyk = _save(tmp_path, 'cmyk.jpg', Image.new('CMYK', (48, 40), (0, 255, 255, 0)))
  ramp = (np.arange(40 * 48, dtype=np.uint16).reshape(40, 48) * 30).astype(np.uint16)
  grey16 = _save(tmp_path, 'grey16.png', Image.fromarray(ramp))
  assert Image.open(grey16).mode.startswith('I')
  for path in (cmyk, grey16):
    out = _describe(demo, path, 'Français')
    assert out['status'] == f'Described {os.path.basename(path)}.'
    assert out['description'] == out['result']['description']['fr']
  red = _describe(demo, cmyk)['picture']
  assert red[..., 0].mean() > 200 and red[..., 1:].mean() < 60  # C=0, M=Y=255: red


def test_an_uploads_name_gives_no_title_and_no_year(trained_workdir, tmp_path):  # pylint: disable=redefined-outer-name
  config = _config()
  config.predict.titles_from_wikiart_names = True  # even so: an upload is no WikiArt path
  demo = app.Demo(config, trained_workdir)  # pylint: disable=redefined-outer-name
  folder = tmp_path / 'Impressionism'
  folder.mkdir()
  for name in ('the_scream.jpg', 'claude-monet_water-lilies-1919.jpg'):
    path = _save(folder, name, Image.new('RGB', (40, 40), (200, 30, 30)))
    out = _describe(demo, path)
    for text in out['result']['description'].values():
      assert not any(ch.isdigit() for ch in text) and '“' not in text and '«' not in text


def test_the_page_says_the_checkpoint_saw_only_synthetic_images(demo):  # pylint: disable=redefined-outer-name
  assert demo.predictor.synthetic
  blocks = app.build_blocks(demo)
  intro = next(b for b in blocks.blocks.values() if getattr(b, 'elem_id', None) == 'intro')
  assert 'trained on the synthetic demo set' in intro.value


def test_rating_tab_language_switch(demo):  # pylint: disable=redefined-outer-name
  _, item, _, text, _ = demo.show_item(0, 'English')
  assert 'shown' not in item  # the rating item has its descriptions only (was a KeyError)
  assert app.Demo.switch_language(item, 'English') == text == item['description']['en']
  assert app.Demo.switch_language(item, 'Français') == item['description']['fr']
  assert app.Demo.switch_language(None, 'Français') == ''


def test_rating_flow_appends_a_line(demo, tmp_path):  # pylint: disable=redefined-outer-name
  demo.workdir = str(tmp_path)  # keep the shared workdir's ratings file clean
  index, item, picture, text, status = demo.show_item(0, 'English')
  assert index == 0 and picture is not None and status.startswith('Image 1 of')
  refused = demo.rate(index, item, 'English', None, 4, '', '')
  assert refused[4].startswith('Error: choose') and not ratings.load(str(tmp_path))
  out_of_range = demo.rate(index, item, 'English', 7, 4, '', '')
  assert out_of_range[4].startswith('Error: rating not saved: correctness must be')
  assert not ratings.load(str(tmp_path))
  saved = demo.rate(index, item, 'Français', 4, '2', '  bon  ', 'ab')
  assert saved[0] == 1 and saved[4].startswith('Saved (rating 1')
  assert saved[-3:] == (None, None, '')  # the form is cleared for the next image
  with open(ratings.path(str(tmp_path)), encoding='utf-8') as f:
    (line,) = f.read().splitlines()
  record = json.loads(line)
  assert record['image'] == demo.eval_images[0] and record['lang'] == 'fr'
  assert record['description'] == item['description']['fr'] and text == item['description']['en']
  assert (record['correctness'], record['fluency'], record['comment'], record['rater']) == (
      4, 2, 'bon', 'ab')
  assert record['step'] == demo.predictor.step
  assert demo.start_index() == 1 % len(demo.eval_images)


def test_busy_port_is_a_one_line_error(trained_workdir):  # pylint: disable=redefined-outer-name
  from wikiart_jax.apps.serve import server  # pylint: disable=g-import-not-at-top
  with socket.socket() as busy:
    busy.bind(('127.0.0.1', 0))
    busy.listen()
    config = _config(port=busy.getsockname()[1])
    with pytest.raises(ValueError, match=r'config\.serve\.port=\d+: cannot listen on 127'):
      server.serve(config, trained_workdir, block=False)


def test_missing_model_names_the_workdir(tmp_path):
  with pytest.raises(FileNotFoundError, match='vocab.json is missing'):
    app.Demo(_config(), str(tmp_path))


def test_content_of_a_black_and_white_picture():
  result = {'palette': {'black_and_white': True, 'colours': []},
            'light': {'lightness': 0.5, 'contrast': 0.2, 'saturation': 0.0}}
  shown = app.content_html(result)
  assert 'black and white' in shown and 'lightness 0.50' in shown and 'Expected' not in shown
  assert app.tag_scores(result) is None and app.period_scores(result) is None


def test_learned_description_is_shown_beside_the_composed_one():
  result = {'description': {'en': 'A Baroque portrait.', 'fr': 'Style baroque, un portrait.'}}
  assert app.shown_descriptions(result) == result['description']
  result['generated'] = {'en': 'A Baroque portrait by Rembrandt.', 'fr': 'Un portrait baroque.'}
  shown = app.shown_descriptions(result)
  assert shown['en'].startswith('A Baroque portrait by Rembrandt.')
  assert '(composed from the labels: A Baroque portrait.)' in shown['en']
  assert shown['fr'].startswith('Un portrait baroque.')


def test_a_12000_px_scan_is_described_and_shown_small(demo, big_scans):  # pylint: disable=redefined-outer-name
  for path in big_scans.values():
    out = _describe(demo, path)
    assert out['status'] == f'Described {os.path.basename(path)}.'
    assert max(out['picture'].shape[:2]) == app.DISPLAY_SIZE


def test_a_rating_image_that_cannot_be_read_is_named_without_its_folder(demo, tmp_path):  # pylint: disable=redefined-outer-name
  demo.workdir = str(tmp_path)
  bad = tmp_path / 'broken.jpg'
  bad.write_bytes(b'not a jpeg')
  saved = demo.eval_images
  demo.eval_images = [str(bad), saved[0]]
  try:
    *_, status = demo.show_item(0, 'English')
  finally:
    demo.eval_images = saved
  assert status.endswith('Skipped: broken.jpg: not an image') and str(tmp_path) not in status


def test_eight_raters_submitting_at_once_are_all_saved_whole(demo, tmp_path):  # pylint: disable=redefined-outer-name
  demo.workdir = str(tmp_path)
  items = [demo.show_item(i, 'English')[1] for i in range(8)]
  langs = ['English', 'Français'] * 4
  barrier = threading.Barrier(8)

  def submit(i):
    barrier.wait()  # the eight tabs press "Submit" together
    return demo.rate(i, items[i], langs[i], 1 + i % 5, 5 - i % 5, f'tab {i}', f'rater {i}')

  with concurrent.futures.ThreadPoolExecutor(8) as pool:
    answers = list(pool.map(submit, range(8)))
  assert all(a[4].startswith('Saved (rating ') for a in answers), [a[4] for a in answers]
  with open(ratings.path(str(tmp_path)), encoding='utf-8') as f:
    records = {json.loads(line)['rater']: json.loads(line) for line in f}
  assert sorted(records) == [f'rater {i}' for i in range(8)]
  for i in range(8):
    record, lang = records[f'rater {i}'], app.LANGS[langs[i]]
    assert record['step'] == demo.predictor.step and record['lang'] == lang
    assert record['description'] == items[i]['description'][lang]
    assert (record['correctness'], record['fluency'], record['comment']) == (
        1 + i % 5, 5 - i % 5, f'tab {i}')
