"""The report and class-count charts written beside a prepared dataset."""

import json
import os

from PIL import Image

from artgan_tree import artgan_config
from artgan_tree import built  # noqa: F401  (a fixture)
from wikiart_jax.data import dataset
from wikiart_jax.data import reports


def test_report_and_class_counts(built):
  raw, workdir, path = built
  info = dataset.load_info(artgan_config(raw), workdir)
  with open(os.path.join(path, dataset.REPORT), encoding='utf-8') as f:
    report = json.load(f)
  assert report['num_examples'] == info.num_examples
  assert report['num_skipped'] == 0 and report['skipped'] == []
  for task in ('style', 'artist', 'genre'):
    with open(os.path.join(path, f'class_counts_{task}.json'), encoding='utf-8') as f:
      table = json.load(f)
    assert table['val']['missing'] + sum(table['val']['counts'].values()) == 2
    with Image.open(os.path.join(path, f'class_counts_{task}.png')) as png:
      assert png.format == 'PNG' and png.size[0] > 100




def test_write_reports_rewrites_from_the_metadata(built):
  _, _, path = built
  os.remove(os.path.join(path, 'class_counts_style.png'))
  report = reports.write_reports(path)
  assert report['num_classes']['style'] == 27
  assert os.path.exists(os.path.join(path, 'class_counts_style.png'))
  # Without the charts (data.class_count_charts=False): the tables, the report, no PNG.
  os.remove(os.path.join(path, 'class_counts_style.png'))
  os.remove(os.path.join(path, 'class_counts_style.json'))
  assert reports.write_reports(path, charts=False)['num_classes']['style'] == 27
  assert os.path.exists(os.path.join(path, 'class_counts_style.json'))
  assert not os.path.exists(os.path.join(path, 'class_counts_style.png'))
