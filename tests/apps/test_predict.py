"""`mode=predict`: JSON lines and CSV for every readable image, one line per bad file;
the synthetic-set note first and only supplied titles and years; 12,000 px scans decoded
reduced, bigger than data.max_image_pixels refused."""

import csv
import json
import os

import numpy as np
from PIL import Image

from conftest import launch
from conftest import png_header


def test_predict_labels_images_and_reports_bad_files(trained_workdir, tmp_path):
  workdir = trained_workdir
  images = tmp_path / 'in'
  images.mkdir()
  rng = np.random.default_rng(0)
  pixels = rng.integers(0, 255, (50, 70, 3), np.uint8)
  Image.fromarray(pixels).save(images / 'a.png')
  Image.fromarray(pixels).convert('CMYK').save(images / 'b.jpg')
  Image.fromarray(pixels[..., 0]).save(images / 'c.webp')
  (images / 'not_an_image.jpg').write_text('hello')
  output = tmp_path / 'out' / 'pred.jsonl'
  proc = launch(workdir, '--config.mode=predict', f'--config.predict.inputs={images}',
                f'--config.predict.output={output}', check=False)
  assert proc.returncode == 1
  assert 'not_an_image.jpg' in proc.stderr
  records = [json.loads(line) for line in output.read_text().splitlines()]
  assert sorted(os.path.basename(r['path']) for r in records) == ['a.png', 'b.jpg', 'c.webp']
  for record in records:
    for task in ('style', 'artist', 'genre'):
      probs = [r['prob'] for r in record[task]]
      assert len(probs) == 5 and probs == sorted(probs, reverse=True)
    assert record['description']['en'] and record['description']['fr']
  with open(tmp_path / 'out' / 'pred.csv', encoding='utf-8', newline='') as f:
    rows = list(csv.DictReader(f))
  assert [r['path'] for r in rows] == [r['path'] for r in records]
  assert [r['style'] for r in rows] == [r['style'][0]['label'] for r in records]
  by_name = {os.path.basename(r['path']): r for r in records}
  for record, row in zip(records, rows):
    # The content tags (top 5), the period (expected year, top 3 bins), palette and light.
    tags = record['tags']
    assert len(tags) == 5 and [t['prob'] for t in tags] == sorted(
        (t['prob'] for t in tags), reverse=True)
    assert all(t['en'] and t['fr'] for t in tags)
    period = record['period']
    assert 1400 <= period['year'] <= 2025 and len(period['top']) == 3
    assert all(b['end'] - b['start'] == 24 for b in period['top'])
    assert set(record['light']) == {'lightness', 'contrast', 'saturation'}
    assert row['tags'].split('; ')[0].split(' ')[0] == tags[0]['tag']
    assert int(row['period_year']) == period['year']
    assert float(row['lightness']) == record['light']['lightness']
  # c.webp is grey: black and white, no colour; the others are coloured noise.
  assert by_name['c.webp']['palette'] == {'black_and_white': True, 'colours': []}
  assert by_name['a.png']['palette']['colours'] and not by_name['a.png']['palette'][
      'black_and_white']
  assert rows[[os.path.basename(r['path']) for r in records].index('c.webp')][
      'palette'] == 'black and white'


def test_predict_says_synthetic_first_and_states_only_supplied_titles(trained_workdir, tmp_path):
  images = tmp_path / 'in'
  images.mkdir()
  pixels = np.random.default_rng(1).integers(0, 255, (40, 40, 3), np.uint8)
  for name in ('the_scream.jpg', 'escher_sphere.jpg', 'munch_the-scream-1893.jpg'):
    Image.fromarray(pixels).save(images / name)
  output = tmp_path / 'pred.jsonl'
  meta = tmp_path / 'meta.csv'
  meta.write_text(f'path,title,year\n{images}/escher_sphere.jpg,Hand with Reflecting Sphere,'
                  '1935\n', encoding='utf-8')
  proc = launch(trained_workdir, '--config.mode=predict', f'--config.predict.inputs={images}',
                f'--config.predict.output={output}', f'--config.predict.metadata={meta}')
  assert proc.stdout.splitlines()[0].startswith(
      'note: This checkpoint was trained on the synthetic demo set')
  records = {os.path.basename(r['path']): r for r in
             map(json.loads, output.read_text().splitlines())}
  for name in ('the_scream.jpg', 'munch_the-scream-1893.jpg'):
    for text in records[name]['description'].values():
      assert not any(ch.isdigit() for ch in text) and 'Scream' not in text
  described = records['escher_sphere.jpg']['description']
  assert '“Hand with Reflecting Sphere”' in described['en'] and '1935' in described['en']
  assert '«\u00a0Hand with Reflecting Sphere\u00a0»' in described['fr']


def test_12000_px_scans_are_described_and_bigger_ones_refused(trained_workdir, big_scans,
                                                              tmp_path):
  bomb = tmp_path / 'bomb.png'
  bomb.write_bytes(png_header(16_000, 16_000))  # 256M pixels, over the limit below
  output = tmp_path / 'scans.jsonl'
  proc = launch(trained_workdir, '--config.mode=predict', '--config.data.max_image_pixels=200000000',
                f'--config.predict.inputs={big_scans["jpeg"]},{big_scans["png"]},{bomb}',
                f'--config.predict.output={output}', check=False)
  assert proc.returncode == 1
  assert f'error: {bomb}: more than 200000000 pixels (decompression bomb?)' in proc.stderr
  records = [json.loads(line) for line in output.read_text().splitlines()]
  assert [r['path'] for r in records] == [big_scans['jpeg'], big_scans['png']]
  # The same picture in two formats, each decoded reduced its own way: the same labels.
  assert records[0]['style'][0]['label'] == records[1]['style'][0]['label']
