"""Builds the `wikiart` dataset from real ArtGAN paths and from a huggan parquet.

The ArtGAN case uses a few hundred rows of the real split files (../shared/
wikiart-meta) with small synthetic pixels written under those paths, some of
them corrupt; the label counts in the built dataset must equal those of the
CSV rows used, and every bad file must be in the report.
"""

import collections
import io
import json
import os
import shutil

from conftest import SHARED_META
import common
import numpy as np
from PIL import Image
import pytest

from wikiart_jax.data import dataset
from wikiart_jax.data import metadata
from wikiart_jax.data import pipeline
from wikiart_jax.data import prepare

RESIZE = 32
TASKS = ('style', 'artist', 'artist23', 'genre')


def _jpeg(rng, min_side=24, max_side=48) -> bytes:
  h, w = rng.integers(min_side, max_side + 1, size=2)
  buffer = io.BytesIO()
  Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(
      buffer, format='JPEG', quality=90)
  return buffer.getvalue()


def _config(source: str, raw_dir: str, split_dir: str = ''):
  config = common.get_config()
  config.data.source = source
  config.data.raw_dir = raw_dir
  config.data.split_dir = split_dir
  config.data.resize_shorter = RESIZE
  return config


def _read_rows(name: str) -> list[tuple[str, int]]:
  """(path, index) rows of a real split file, skipping artist_*'s header."""
  rows = []
  with open(os.path.join(SHARED_META, name), encoding='utf-8') as f:
    for line in f:
      path, _, index = line.strip().rpartition(',')
      if index.strip().isdigit():
        rows.append((path.rstrip(','), int(index)))
  return rows


def _records(path: str, split: str) -> list[dict]:
  """The stored records of `split`; 'val' is what ArtGAN's val list became: val and test."""
  out = []
  present = dataset.info_from_dir(path).num_examples  # a tiny set may have no test split
  for stored in (('val', 'test') if split == 'val' else (split,)):
    if stored not in present:
      continue
    source = pipeline.open_split(path, stored)
    out += [source[i] for i in range(len(source))]
  return out


def _text(value) -> str:
  return value.decode('utf-8') if isinstance(value, bytes) else str(value)


# --- ArtGAN: real paths, synthetic pixels ------------------------------------


@pytest.fixture(scope='module')
def artgan(tmp_path_factory):
  if not os.path.isdir(SHARED_META):
    pytest.skip(f'no real split files in {SHARED_META}')
  root = tmp_path_factory.mktemp('artgan')
  raw, split_dir = root / 'raw', root / 'splits'
  split_dir.mkdir()
  # Every 400th train row and 200th val row (~265 images), plus rows of the
  # 23-artist files so that task has labels too.
  style = {s: _read_rows(f'style_{s}.csv') for s in ('train', 'val')}
  chosen = set(p for p, _ in style['train'][::400]) | set(
      p for p, _ in style['val'][::200])
  in_style = {p for rows in style.values() for p, _ in rows}
  for s in ('train', 'val'):
    chosen |= {p for p, _ in _read_rows(f'artist_{s}.csv')[::500] if p in in_style}
  for task in ('style', 'genre', 'artist'):
    for s in ('train', 'val'):
      kept = [(p, i) for p, i in _read_rows(f'{task}_{s}.csv') if p in chosen]
      sep = ',,' if task == 'artist' else ','
      header = '(Path to image),, (Groundtruth class)\n\n' if task == 'artist' else ''
      (split_dir / f'{task}_{s}.csv').write_text(
          header + ''.join(f'{p}{sep}{i}\n' for p, i in kept), encoding='utf-8')
    shutil.copy(os.path.join(SHARED_META, f'{task}_class.txt'), split_dir)

  rng = np.random.default_rng(0)
  paths = sorted(chosen)
  bad = {paths[3]: b'', paths[10]: _jpeg(rng)[:200], paths[20]: b'not an image',
         paths[30]: _jpeg(rng, 8, 10)}  # empty, truncated, text, tiny
  missing = paths[40]
  sizes = {}
  for p in paths:
    if p == missing:
      continue
    file = raw / p
    file.parent.mkdir(parents=True, exist_ok=True)
    data = bad[p] if p in bad else _jpeg(rng)
    file.write_bytes(data)
    if p not in bad:
      sizes[p] = Image.open(io.BytesIO(data)).size
  config = _config('artgan', str(raw), str(split_dir))
  workdir = str(root / 'work')
  path = prepare.prepare(config, workdir)
  return dict(path=path, config=config, workdir=workdir, chosen=paths,
              skipped=set(bad) | {missing}, sizes=sizes)


def _expected_artgan(chosen, skipped):
  """Per split and task, a Counter of label names from the CSV rows used."""
  split_of, labels = {}, collections.defaultdict(dict)
  for s in ('train', 'val'):
    for p, i in _read_rows(f'style_{s}.csv'):
      if p in chosen:
        split_of[p] = s
        labels[p]['style'] = metadata.STYLES[i]
  artist23 = [line.split(maxsplit=1)[1].strip() for line in open(
      os.path.join(SHARED_META, 'artist_class.txt'), encoding='utf-8')]
  for task, names in (('genre', metadata.GENRES), ('artist23', artist23)):
    file_task = 'artist' if task == 'artist23' else task
    for s in ('train', 'val'):
      for p, i in _read_rows(f'{file_task}_{s}.csv'):
        if p in chosen:
          labels[p][task] = names[i]
  expected = {s: {t: collections.Counter() for t in TASKS} for s in ('train', 'val')}
  for p in chosen:
    if p in skipped:
      continue
    labels[p]['artist'] = p.split('/')[-1].split('_')[0]
    for task in TASKS:
      expected[split_of[p]][task][labels[p].get(task)] += 1
  return expected, labels


def test_artgan_label_counts_equal_the_csv_rows(artgan):
  expected, _ = _expected_artgan(artgan['chosen'], artgan['skipped'])
  info = dataset.load_info(artgan['config'], artgan['workdir'])
  names = {'style': info.vocab.style, 'artist': info.vocab.artist,
           'genre': info.vocab.genre, 'artist23': info.artist23}
  for split in ('train', 'val'):
    records = _records(artgan['path'], split)
    assert len(records) == sum(expected[split]['style'].values())
    stored = ('val', 'test') if split == 'val' else (split,)
    assert sum(info.num_examples[s] for s in stored) == len(records)
    for task in TASKS:
      built = collections.Counter(
          names[task][r[task]] if r[task] >= 0 else None for r in records)
      assert built == expected[split][task], (split, task)
  # The stored train counts (load_info) agree with the CSV rows too.
  for task in TASKS:
    want = [expected['train'][task][n] for n in names[task]]
    np.testing.assert_array_equal(info.class_counts[task], want)
  assert expected['train']['artist23'][None] < len(_records(artgan['path'], 'train'))


def test_artgan_records_carry_their_own_labels_and_small_images(artgan):
  _, labels = _expected_artgan(artgan['chosen'], artgan['skipped'])
  info = dataset.load_info(artgan['config'], artgan['workdir'])
  assert info.vocab.style == list(metadata.STYLES)
  assert info.vocab.genre == list(metadata.GENRES)
  assert info.vocab.artist == sorted(info.vocab.artist)
  for split in ('train', 'val'):
    for r in _records(artgan['path'], split):
      path = _text(r['path'])
      meta = metadata.parse_path(path)
      assert info.vocab.style[r['style']] == labels[path]['style']
      assert info.vocab.artist[r['artist']] == meta.artist_slug
      assert r['year'] == (meta.year if meta.year is not None else -1)
      assert _text(r['title']) == (meta.title or '')
      genre = labels[path].get('genre')
      assert r['genre'] == (-1 if genre is None else metadata.GENRES.index(genre))
      # Stored pre-resized: shorter side min(original, RESIZE), never upscaled.
      w, h = artgan['sizes'][path]
      stored = Image.open(io.BytesIO(r['image']))
      assert stored.format == 'JPEG' and stored.mode == 'RGB'
      assert min(stored.size) == min(w, h, RESIZE)
      assert abs(stored.size[0] / stored.size[1] - w / h) < 0.06


def test_artgan_report_lists_bad_files_and_split_conflicts(artgan):
  with open(os.path.join(artgan['path'], dataset.REPORT), encoding='utf-8') as f:
    report = json.load(f)
  assert {s['key'] for s in report['skipped']} == artgan['skipped']
  assert report['num_skipped'] == len(artgan['skipped'])
  assert all(s['reason'].startswith(s['key'] + ':') for s in report['skipped'])
  reasons = ' '.join(s['reason'] for s in report['skipped'])
  for reason in ('empty file', 'not an image', 'cannot decode', 'under 16 px',
                 'cannot read'):
    assert reason in reasons
  assert sum(report['num_examples'].values()) == (
      len(artgan['chosen']) - len(artgan['skipped']))
  assert set(report['num_examples']) == {'train', 'val', 'test'}
  assert report['split_report']['images'] == len(artgan['chosen'])
  for task in TASKS:
    with open(os.path.join(artgan['path'], f'class_counts_{task}.json'),
              encoding='utf-8') as f:
      table = json.load(f)
    assert sum(table['train']['counts'].values()) + table['train']['missing'] == (
        report['num_examples']['train'])
    assert os.path.getsize(os.path.join(artgan['path'], f'class_counts_{task}.png'))


# --- huggan/wikiart parquet --------------------------------------------------

_HF_ARTISTS = ['Unknown Artist', 'boris-kustodiev', 'claude-monet',
               'vincent-van-gogh']
_HF_GENRES = list(metadata.GENRES) + ['Unknown Genre']


def _write_parquet(file: str, n: int, bad_rows: set[int]) -> dict:
  import pyarrow as pa  # pylint: disable=g-import-not-at-top
  import pyarrow.parquet as pq  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(1)
  columns = {'artist': rng.integers(0, len(_HF_ARTISTS), n),
             'genre': rng.integers(0, len(_HF_GENRES), n),
             'style': rng.integers(0, len(metadata.STYLES), n)}
  images = [{'bytes': b'\xff\xd8broken' if i in bad_rows else _jpeg(rng),
             'path': f'{_HF_ARTISTS[columns["artist"][i]]}_work-{i}-19{i:02d}.jpg'}
            for i in range(n)]
  names = {'artist': _HF_ARTISTS, 'genre': _HF_GENRES,
           'style': list(metadata.STYLES)}
  hf = {'info': {'features': {
      'image': {'_type': 'Image'},
      **{c: {'names': v, '_type': 'ClassLabel'} for c, v in names.items()}}}}
  table = pa.table({
      'image': pa.array(images, pa.struct([('bytes', pa.binary()),
                                           ('path', pa.string())])),
      **{c: pa.array(v.astype(np.int64)) for c, v in columns.items()}})
  table = table.replace_schema_metadata({'huggingface': json.dumps(hf)})
  pq.write_table(table, file)
  return columns


def test_hf_parquet_build_matches_the_parquet_labels(tmp_path):
  raw = tmp_path / 'parquet'
  raw.mkdir()
  n, bad = 60, {5, 17}
  columns = _write_parquet(str(raw / 'train-00000.parquet'), n, bad)
  config = _config('hf_parquet', str(raw))
  workdir = str(tmp_path / 'work')
  path = prepare.prepare(config, workdir)
  assert path == dataset.dataset_dir(config, workdir)
  assert '/wikiart/hf_parquet/' in path
  info = dataset.load_info(config, workdir)
  assert info.vocab.artist == sorted(_HF_ARTISTS[1:])  # 'Unknown Artist' is -1

  seen = set()
  built = collections.Counter()
  for split in ('train', 'val'):
    for r in _records(path, split):
      row = int(_text(r['path']).rpartition(':')[2])
      seen.add(row)
      artist = _HF_ARTISTS[columns['artist'][row]]
      genre = _HF_GENRES[columns['genre'][row]]
      assert r['style'] == columns['style'][row]
      assert r['artist'] == (info.vocab.artist.index(artist) if artist != 'Unknown Artist' else -1)
      assert r['genre'] == (metadata.GENRES.index(genre) if genre in metadata.GENRES else -1)
      assert r['year'] == 1900 + row
      built[r['style']] += 1
  assert seen == set(range(n)) - bad
  want = collections.Counter(int(s) for i, s in enumerate(columns['style']) if i not in bad)
  assert built == want
  assert sum(info.num_examples.values()) == n - len(bad)
  with open(os.path.join(path, dataset.REPORT), encoding='utf-8') as f:
    report = json.load(f)
  assert {s['key'] for s in report['skipped']} == {
      f'train-00000.parquet:{i}' for i in bad}
