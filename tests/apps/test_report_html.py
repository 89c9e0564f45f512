"""The evaluation report: tables, images on disk and referenced, escaped text."""

from html.parser import HTMLParser
import json
import os
import re

import numpy as np
from PIL import Image
import pytest

from wikiart_jax import plots
from wikiart_jax.apps import report_html as report
from wikiart_jax.metrics import classification

EVIL_TITLE = 'Le "Déjeuner" <script>alert(1)</script> & l\'herbe'


class _Collector(HTMLParser):
  """Collects tags, image sources, tables (as rows of cell texts) and text."""

  def __init__(self):
    super().__init__()
    self.tags, self.srcs, self.hrefs, self.text = [], [], [], []
    self.tables = []  # each a list of rows, the header row first
    self._in_cell = False

  def handle_starttag(self, tag, attrs):
    self.tags.append(tag)
    attrs = dict(attrs)
    if tag == 'img':
      self.srcs.append(attrs['src'])
    if 'href' in attrs:
      self.hrefs.append(attrs['href'])
    if tag == 'table':
      self.tables.append([])
    if tag == 'tr':
      self.tables[-1].append([])
    if tag in ('td', 'th'):
      self._in_cell = True
      self.tables[-1][-1].append('')

  def handle_endtag(self, tag):
    if tag in ('td', 'th'):
      self._in_cell = False

  def handle_data(self, data):
    self.text.append(data)
    if self._in_cell:
      self.tables[-1][-1][-1] += data

  def rows(self, header):
    """Rows of the tables whose header row is `header`."""
    return [r for t in self.tables if t[0] == header for r in t[1:]]

  def row(self, header, first):
    """The cells after `first` in the one row starting with it."""
    found = [r[1:] for r in self.rows(header) if r[0] == first]
    assert len(found) == 1, (header, first, found)
    return found[0]


def _metrics(rng, num_classes, rows=200):
  acc = classification.ClassificationAccumulator(num_classes)
  labels = rng.integers(-1, num_classes, rows)
  scores = rng.normal(size=(rows, num_classes))
  scores[np.arange(rows), np.maximum(labels, 0)] += 1.5  # better than chance
  acc.update(scores, labels)
  return acc.compute()


@pytest.fixture(name='written', scope='module')
def _written(tmp_path_factory):
  tmp_path = tmp_path_factory.mktemp('report')
  rng = np.random.default_rng(0)
  metrics = {'style': _metrics(rng, 27), 'genre': _metrics(rng, 10),
             'artist': _metrics(rng, 80, rows=400)}
  names = {'style': [f'Style_{i}' for i in range(27)],
           'genre': [f'genre {i}' for i in range(10)],
           'artist': [f'Artist {i}' for i in range(80)]}
  names['style'][0] = EVIL_TITLE  # class names are data too
  photo = tmp_path / 'painting.png'
  Image.fromarray(rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)).save(photo)
  samples = [
      {'image': str(photo), 'title': EVIL_TITLE,
       'true': {'style': 'Style_1', 'genre': None},
       'pred': {'style': [('Style_1', 0.7), ('Style_2', 0.2)],
                'genre': [('genre 3', 0.9)]},
       'descriptions': {'en': "An Impressionist landscape, titled 'Water Lilies'.",
                        'fr': 'Style impressionniste, « Nymphéas » <b>.'}},
      {'image': rng.integers(0, 255, (64, 64), dtype=np.uint8),
       'true': {'style': 'Style_3'}, 'pred': {'style': [('Style_4', 0.5)]},
       'descriptions': {'en': 'A portrait.'}},
      {'image': str(tmp_path / 'gone.jpg'), 'pred': {}, 'descriptions': {}},
  ]
  counts_png = plots.save_png(
      plots.class_counts_figure({'train': [5, 3, 9]}, ['a', 'b', 'c']),
      tmp_path / 'style counts.png')
  ratings = [{'correctness': 4, 'fluency': 5, 'lang': 'en'},
             {'correctness': 2, 'fluency': 4, 'lang': 'fr'},
             {'correctness': 3, 'fluency': 3, 'lang': 'fr'}]
  out = tmp_path / 'report'
  index = report.write_report(
      out, metrics=metrics, names=names, samples=samples,
      caption_metrics={'en': {'bleu4': 0.25, 'cider': 1.1},
                       'fr': {'bleu4': 0.2, 'cider': 0.9}},
      class_count_pngs=[counts_png], human_ratings=ratings,
      calibration={'style': {'temperature': 1.5, 'ece_before': 0.12, 'ece_after': 0.03,
                             'nll_before': 0.9, 'nll_after': 0.7}},
      notes=['Trained on <synthetic> images.'])
  with open(index, encoding='utf-8') as f:
    page = f.read()
  with open(out / 'report.md', encoding='utf-8') as f:
    md = f.read()
  parser = _Collector()
  parser.feed(page)
  return dict(out=out, page=page, md=md, parser=parser, metrics=metrics,
              names=names)


def test_summary_and_per_class_tables(written):
  parser, metrics = written['parser'], written['metrics']
  summary = ['task', 'split', 'top-1', 'top-5', 'macro-F1', 'examples']
  for task in ('style', 'genre', 'artist'):
    m = metrics[task]
    assert parser.row(summary, task) == [
        'val', f'{m["top1"]:.4f}', f'{m["top5"]:.4f}', f'{m["f1_macro"]:.4f}',
        str(m['count'])]
    assert f'| {task} | val | {m["top1"]:.4f} | {m["top5"]:.4f} |' in written['md']
  # Every per-class row of the genre table equals sklearn-checked arrays.
  per = metrics['genre']['per_class']
  per_class = ['class', 'precision', 'recall', 'F1', 'support']
  for g in range(10):
    if per['support'][g] or metrics['genre']['confusion'][:, g].sum():
      assert parser.row(per_class, f'genre {g}') == [
          f'{per["precision"][g]:.4f}', f'{per["recall"][g]:.4f}',
          f'{per["f1"][g]:.4f}', str(per['support'][g])]
  # The most confused pairs of the style task are listed in order.
  pairs = classification.most_confused_pairs(metrics['style']['confusion'],
                                             written['names']['style'], 10)
  listed = parser.rows(['true', 'predicted as', 'count', 'share of true class'])
  want = [[p.true, p.predicted, str(p.count), f'{p.rate:.4f}'] for p in pairs]
  assert listed[:len(want)] == want


def test_optional_sections(written):
  parser = written['parser']
  calibration = ['task', 'temperature', 'ECE before', 'ECE after', 'NLL before', 'NLL after']
  assert parser.row(calibration, 'style') == ['1.5000', '0.1200', '0.0300', '0.9000', '0.7000']
  assert 'Trained on &lt;synthetic&gt; images.' in written['page']
  assert parser.row(['', 'bleu4', 'cider'], 'fr') == ['0.2000', '0.9000']
  ratings = ['group', 'ratings', 'mean correctness', 'mean fluency']
  assert parser.row(ratings, 'all') == ['3', '3.0000', '4.0000']
  assert parser.row(ratings, 'fr') == ['2', '2.5000', '3.5000']
  assert 'Class distribution' in written['page']
  assert 'image unavailable' in written['page']


def test_sample_cards(written):
  text = ''.join(written['parser'].text)
  assert 'Style_1 (70%), Style_2 (20%); true: Style_1 ✓' in text
  assert 'genre 3 (90%); true: unknown' in text
  assert 'Style_4 (50%); true: Style_3 ✗' in text
  assert 'Style\\_1 (70%), Style\\_2 (20%); true: Style\\_1 ✓' in written['md']
  assert text.count('image unavailable') == 1


def test_images_exist_and_are_referenced(written):
  out, srcs = written['out'], written['parser'].srcs
  for task in ('style', 'genre', 'artist'):
    assert f'img/confusion_{task}.png' in srcs
    assert f'](img/confusion_{task}.png)' in written['md']
  assert 'img/sample_000.jpg' in srcs and 'img/sample_001.jpg' in srcs
  assert not (out / 'img' / 'sample_002.jpg').exists()  # unreadable source
  assert any(s.startswith('img/counts_0_') for s in srcs)
  for src in srcs:
    assert not re.match(r'^[a-z]+:', src)  # relative: self-contained
    with Image.open(out / src) as im:
      assert im.size[0] > 0
  with Image.open(out / 'img' / 'sample_000.jpg') as im:
    assert max(im.size) == report.THUMBNAIL_SIZE
  # The artist matrix keeps the 50 most frequent classes only.
  with Image.open(out / 'img' / 'confusion_artist.png') as a, \
       Image.open(out / 'img' / 'confusion_style.png') as s:
    assert a.size[1] > s.size[1]
  assert '50 most frequent' in written['page']


def test_self_contained_html(written):
  page, tags = written['page'], written['parser'].tags
  assert 'script' not in tags and 'link' not in tags
  for href in written['parser'].hrefs:  # links open local images only
    assert href.startswith('img/') and (written['out'] / href).is_file()
  assert '<style>' in page and 'http' not in page


def test_text_is_escaped(written):
  page, md = written['page'], written['md']
  assert '<script>' not in page and '<b>.' not in page
  assert '&lt;script&gt;' in page and '&quot;Déjeuner&quot;' in page
  # Parsed back, the text is exactly the original, accents and all.
  text = ''.join(written['parser'].text)
  assert EVIL_TITLE in text
  assert 'Style impressionniste, « Nymphéas » <b>.' in text
  assert "titled 'Water Lilies'" in text
  assert '<script>' not in md and '&lt;script&gt;' in md and 'Nymphéas' in md


def test_bad_input_is_a_clear_error(tmp_path):
  m = {'style': _metrics(np.random.default_rng(1), 3, rows=20)}
  with pytest.raises(ValueError, match="no entry for task 'style'"):
    report.write_report(tmp_path, metrics=m, names={})
  with pytest.raises(ValueError, match='match names'):
    report.write_report(tmp_path, metrics=m, names={'style': ['a', 'b']})
  # A hand-edited rating with a bad score is left out of the means (metrics.ratings).
  index = report.write_report(tmp_path, metrics=m, names={'style': ['a', 'b', 'c']},
                              human_ratings=[{'correctness': 'good', 'fluency': 3},
                                             {'correctness': 5, 'fluency': 4}])
  with open(index, encoding='utf-8') as f:
    page = f.read()
  assert '5.0000' in page and '3.5000' in page
  with pytest.raises(ValueError, match='uint8'):
    report.write_report(tmp_path, metrics=m, names={'style': ['a', 'b', 'c']},
                        samples=[{'image': np.zeros((4, 4, 3), np.float32)}])
  assert os.path.exists(tmp_path / 'img')


def test_metrics_after_a_json_round_trip(tmp_path):
  m = _metrics(np.random.default_rng(2), 4, rows=40)
  as_json = json.loads(json.dumps({
      k: ({kk: vv.tolist() for kk, vv in v.items()} if k == 'per_class' else
          v.tolist() if isinstance(v, np.ndarray) else v)
      for k, v in m.items()}))
  index = report.write_report(tmp_path, metrics={'genre': as_json},
                              names={'genre': ['a', 'b', 'c', 'd']})
  parser = _Collector()
  with open(index, encoding='utf-8') as f:
    parser.feed(f.read())
  assert parser.row(['task', 'split', 'top-1', 'top-5', 'macro-F1', 'examples'],
                    'genre')[1] == f'{m["top1"]:.4f}'
  assert len(parser.rows(['class', 'precision', 'recall', 'F1', 'support'])) == 4


def test_the_other_split_is_summarised_beside(tmp_path):
  m = _metrics(np.random.default_rng(3), 4)
  index = report.write_report(tmp_path, metrics={'genre': m}, names={'genre': list('abcd')},
                              other_split=('test', 12, {'genre': {'top1': 0.25, 'top5': 1.0,
                                                                  'f1_macro': 0.2,
                                                                  'count': 9.0}}))
  parser = _Collector()
  with open(index, encoding='utf-8') as f:
    parser.feed(f.read())
  rows = parser.rows(['task', 'split', 'top-1', 'top-5', 'macro-F1', 'examples'])
  assert [r[1] for r in rows] == ['val', 'test (step 12)']
  assert rows[1][2:] == ['0.2500', '1.0000', '0.2000', '9.0000']
