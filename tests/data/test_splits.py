"""Tests for wikiart_jax.data.splits: real ArtGAN files, quirks, seeded split, parquet."""

import collections
import dataclasses
import io
import json
import os

from conftest import SHARED_META
import numpy as np
from PIL import Image
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wikiart_jax.data import metadata
from wikiart_jax.data import splits


def _csv_paths(name):
  """{path: label} of one real split file, read independently of splits.py."""
  with open(os.path.join(SHARED_META, name), encoding='utf-8') as f:
    rows = [line.strip().rsplit(',', 1) for line in f if '.jpg' in line]
  return {path.rstrip(','): int(index) for path, index in rows}


@pytest.fixture(scope='module')
def artgan():
  if not os.path.exists(os.path.join(SHARED_META, 'style_train.csv')):
    pytest.skip(f'{SHARED_META} absent')
  return splits.read_artgan(SHARED_META, raw_dir='/data/wikiart')


def test_real_records_cover_every_image_once(artgan):
  records, report = artgan
  keys = [r.key for r in records]
  assert len(keys) == len(set(keys)) == 81_446
  assert collections.Counter(r.split for r in records) == {'train': 57_025, 'val': 24_421}
  style_train = _csv_paths('style_train.csv')
  assert {r.key for r in records if r.split == 'train'} == set(style_train)
  assert report['images'] == 81_446
  assert report['artists'] == len({r.artist for r in records}) == 1_119
  assert report['train_artists'] == 1_107
  assert {r.style for r in records} == set(metadata.STYLES)
  assert report.get('style_index_not_folder', 0) == 0
  assert all(r.path == os.path.join('/data/wikiart', r.key) for r in records)


def test_real_conflicts_counted(artgan):
  records, report = artgan
  style_val = set(_csv_paths('style_val.csv'))
  assert report['genre_train_in_style_val'] == 213
  assert report['artist_train_in_style_val'] == 120
  assert report['duplicate_genre_rows'] == 1
  # The same counts from a plain set intersection.
  assert len(style_val & set(_csv_paths('genre_train.csv'))) == 213
  assert len(style_val & set(_csv_paths('artist_train.csv'))) == 120
  # The duplicated genre row gives two labels (cityscape, landscape): dropped.
  village = next(r for r in records
                 if r.key == 'Post_Impressionism/maurice-de-vlaminck_the-village.jpg')
  assert village.genre is None and village.split == 'val'
  assert report['genre_label_conflicts'] == 1


def test_real_labels_follow_the_files(artgan):
  records, report = artgan
  by_key = {r.key: r for r in records}
  genres = {**_csv_paths('genre_train.csv'), **_csv_paths('genre_val.csv')}
  assert report['with_genre'] == len(genres) - 1 == 64_993
  for path, index in list(genres.items())[::997]:
    if path != 'Post_Impressionism/maurice-de-vlaminck_the-village.jpg':
      assert by_key[path].genre == metadata.GENRES[index]
  artists = {**_csv_paths('artist_train.csv'), **_csv_paths('artist_val.csv')}
  assert sum(r.artist23 is not None for r in records) == len(artists) == 19_052
  wheat = by_key['Post_Impressionism/vincent-van-gogh_ears-of-wheat-1890(1).jpg']
  assert (wheat.style, wheat.genre, wheat.artist23) == (
      'Post_Impressionism', 'landscape', 'Vincent_van_Gogh')
  assert (wheat.artist, wheat.artist_name, wheat.title, wheat.year) == (
      'vincent-van-gogh', 'Vincent van Gogh', 'Ears of Wheat', 1890)
  vocab = splits.build_vocabularies(records)
  assert vocab.num_classes == {'style': 27, 'artist': 1_119, 'genre': 10}


def _write(folder, name, text, encoding='utf-8'):
  with open(os.path.join(folder, name), 'w', encoding=encoding, newline='') as f:
    f.write(text)


def test_split_file_quirks(tmp_path):
  _write(tmp_path, 'style_train.csv',
         '\ufeffImpressionism/claude-monet_water-lilies-1919.jpg,12\r\n'
         'Realism/jean,-paul_a-b.jpg,21\r\n\r\n')
  _write(tmp_path, 'style_val.csv', 'Baroque/rembrandt_x-1634.jpg,4\n')
  _write(tmp_path, 'artist_class.txt', '0 Claude_Monet\n1 Rembrandt\n')
  _write(tmp_path, 'artist_train.csv', '(Path to image),, (Groundtruth class)\n\n'
         'Baroque/rembrandt_x-1634.jpg,,1\n')
  records, report = splits.read_artgan(str(tmp_path))
  assert [(r.key, r.split, r.style, r.genre, r.artist23) for r in records] == [
      ('Baroque/rembrandt_x-1634.jpg', 'val', 'Baroque', None, 'Rembrandt'),
      ('Impressionism/claude-monet_water-lilies-1919.jpg', 'train',
       'Impressionism', None, None),
      ('Realism/jean,-paul_a-b.jpg', 'train', 'Realism', None, None)]
  assert report['artist_train_in_style_val'] == 1
  assert splits.read_split_csv(os.path.join(tmp_path, 'artist_train.csv')) == [
      ('Baroque/rembrandt_x-1634.jpg', 1)]


def test_split_file_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match='style_train.csv'):
    splits.read_artgan(str(tmp_path))
  _write(tmp_path, 'style_train.csv', 'Baroque/a_b.jpg,4\nBaroque/a_c.jpg\n')
  _write(tmp_path, 'style_val.csv', '')
  with pytest.raises(ValueError, match=r'style_train.csv:2: expected'):
    splits.read_artgan(str(tmp_path))
  _write(tmp_path, 'style_train.csv', 'Baroque/a_b.jpg,27\n')
  with pytest.raises(ValueError, match='style index 27 out of range'):
    splits.read_artgan(str(tmp_path))
  _write(tmp_path, 'style_train.csv', 'Baroque/a_b.jpg,4\n')
  _write(tmp_path, 'genre_class.txt', '0 portrait\n1 landscape\n')
  with pytest.raises(ValueError, match='genre_class.txt does not list'):
    splits.read_artgan(str(tmp_path))


def _synthetic_records(n_per_artist):
  records = []
  for style, artists in n_per_artist.items():
    for artist, n in artists.items():
      for i in range(n):
        records.append(splits.Record(
            key=f'{style}/{artist}_{i}.jpg', split='train', style=style,
            artist=artist, artist_name=artist.title()))
  return records


SIZES = {'Baroque': {'rembrandt': 40, 'rubens': 20, 'x': 2, 'y': 3},
         'Cubism': {'picasso': 30, 'braque': 10, 'z': 1},
         'Rococo': {'watteau': 1}}


def test_seeded_split_is_deterministic_and_stratified():
  records = _synthetic_records(SIZES)
  first = splits.assign_splits(records, val_fraction=0.3, seed=7)
  again = splits.assign_splits(records[::-1], val_fraction=0.3, seed=7)
  assert first == again
  other = splits.assign_splits(records, val_fraction=0.3, seed=8)
  assert [r.split for r in other] != [r.split for r in first]
  val = collections.Counter((r.style, r.artist) for r in first if r.split == 'val')
  # Big (style, artist) pairs are split on their own: round(n * 0.3).
  assert (val['Baroque', 'rembrandt'], val['Baroque', 'rubens']) == (12, 6)
  assert (val['Cubism', 'picasso'], val['Cubism', 'braque']) == (9, 3)
  # Small ones share a per-style pool: Baroque x+y = 5 -> 2, Cubism z = 1 -> 0.
  assert val['Baroque', 'x'] + val['Baroque', 'y'] == 2
  assert val['Cubism', 'z'] == val['Rococo', 'watteau'] == 0
  assert len({r.key for r in first}) == len(records)


def test_seeded_split_of_one_stratum_ignores_the_others():
  records = _synthetic_records(SIZES)
  alone = splits.assign_splits(
      [r for r in records if r.artist == 'rembrandt'], val_fraction=0.3, seed=7)
  together = splits.assign_splits(records, val_fraction=0.3, seed=7)
  split_of = {r.key: r.split for r in together}
  assert all(split_of[r.key] == r.split for r in alone)
  with pytest.raises(ValueError, match='val_fraction'):
    splits.assign_splits(records, val_fraction=1.0, seed=0)


def test_tree_without_split_files(tmp_path):
  for style, artists in SIZES.items():
    os.makedirs(tmp_path / style)
    for artist, n in artists.items():
      for i in range(n):
        (tmp_path / style / f'{artist}_work-{i}-1900.jpg').write_bytes(b'')
  (tmp_path / 'Baroque' / 'notes.txt').write_text('ignored')
  records, report = splits.read_artgan_source(str(tmp_path), val_fraction=0.3, seed=0)
  assert report['images'] == len(records) == sum(map(sum, (a.values() for a in SIZES.values())))
  assert report['val_images'] == 12 + 6 + 2 + 9 + 3
  assert records[0].path.startswith(str(tmp_path)) and records[0].year == 1900
  with pytest.raises(FileNotFoundError, match='no style_train.csv'):
    splits.read_artgan_source(str(tmp_path), str(tmp_path / 'Baroque'))


HF_NAMES = {
    'artist': ['Unknown Artist', 'claude-monet', 'vincent-van-gogh'],
    'genre': list(metadata.GENRES) + ['Unknown Genre'],
    'style': list(metadata.STYLES),
}


def _png(colour):
  buffer = io.BytesIO()
  Image.new('RGB', (4, 4), colour).save(buffer, format='PNG')
  return buffer.getvalue()


def _write_parquet(path, rows):
  """A parquet in the huggan/wikiart layout, class names in the schema."""
  features = {c: {'names': names, '_type': 'ClassLabel'} for c, names in HF_NAMES.items()}
  features['image'] = {'_type': 'Image'}
  table = pa.table({
      'image': pa.array([{'bytes': b, 'path': p} for b, p, *_ in rows],
                        pa.struct([('bytes', pa.binary()), ('path', pa.string())])),
      'artist': pa.array([r[2] for r in rows], pa.int64()),
      'genre': pa.array([r[3] for r in rows], pa.int64()),
      'style': pa.array([r[4] for r in rows], pa.int64()),
  })
  meta = {b'huggingface': json.dumps({'info': {'features': features}}).encode()}
  pq.write_table(table.replace_schema_metadata(meta), path, row_group_size=3)


def test_hf_parquet_reads_back(tmp_path):
  rows = [(_png((i * 20, 0, 0)), 'claude-monet_water-lilies-1919.jpg' if i == 1 else None,
           i % 3, [4, 10, 6][i % 3], [12, 20, 0][i % 3]) for i in range(12)]
  os.makedirs(tmp_path / 'data')
  _write_parquet(tmp_path / 'data' / 'train-00000.parquet', rows[:7])
  _write_parquet(tmp_path / 'data' / 'train-00001.parquet', rows[7:])
  assert splits.hf_class_names(str(tmp_path / 'data' / 'train-00000.parquet')) == HF_NAMES
  records = list(splits.read_hf_parquet(str(tmp_path), val_fraction=0.25, seed=0))
  assert len(records) == 12
  for record, row in zip(records, rows):
    assert record.image_bytes == row[0]
    assert record.style == metadata.STYLES[row[4]]
    assert record.artist == (None, 'claude-monet', 'vincent-van-gogh')[row[2]]
    assert record.genre == (None if row[3] == 10 else metadata.GENRES[row[3]])
    assert record.path is None
  assert records[0].key == 'data/train-00000.parquet:0'
  assert records[7].key == 'data/train-00001.parquet:0'
  assert (records[1].title, records[1].year, records[1].artist_name) == (
      'Water Lilies', 1919, 'Claude Monet')
  assert (records[0].title, records[0].year, records[0].artist_name) == (None, None, None)
  assert collections.Counter(r.split for r in records)['val'] == 3  # 3 styles x round(4 * .25)
  again = list(splits.read_hf_parquet(str(tmp_path), val_fraction=0.25, seed=0,
                                      split='val', with_images=False))
  assert [r.key for r in again] == [r.key for r in records if r.split == 'val']
  assert all(r.image_bytes is None for r in again)
  vocab = splits.build_vocabularies(records)
  assert vocab.artist == ['claude-monet', 'vincent-van-gogh']


def test_hf_parquet_errors(tmp_path):
  pq.write_table(pa.table({'style': [1]}), tmp_path / 'plain.parquet')
  with pytest.raises(ValueError, match='plain.parquet: no huggan/wikiart class names'):
    list(splits.read_hf_parquet(str(tmp_path / 'plain.parquet'), val_fraction=0.3, seed=0))
  with pytest.raises(FileNotFoundError, match='no .parquet files'):
    splits.hf_parquet_files(str(tmp_path / 'nothing'))
  os.remove(tmp_path / 'plain.parquet')
  _write_parquet(tmp_path / 'bad.parquet', [(_png((0, 0, 0)), None, 0, 0, 27)])
  with pytest.raises(ValueError, match='style 27 out of range'):
    list(splits.read_hf_parquet(str(tmp_path), val_fraction=0.3, seed=0))


def test_record_is_immutable():
  record = splits.Record(key='k', split='train', style='Baroque', artist=None,
                         artist_name=None)
  with pytest.raises(dataclasses.FrozenInstanceError):
    record.split = 'val'
  assert np.isscalar(record.key)
