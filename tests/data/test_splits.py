"""Tests for wikiart_jax.data.splits: real ArtGAN files, quirks, seeded split, parquet."""

import collections
import dataclasses
import os

from conftest import SHARED_META
import numpy as np
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
  counts = collections.Counter(r.split for r in records)
  assert counts['train'] == 57_025 and counts['val'] + counts['test'] == 24_421
  style_train = _csv_paths('style_train.csv')
  assert {r.key for r in records if r.split == 'train'} == set(style_train)
  # ArtGAN's val list, divided per style: floor(n / 2) of each style's n to test.
  held_out = collections.Counter(r.style for r in records if r.split != 'train')
  tested = collections.Counter(r.style for r in records if r.split == 'test')
  assert tested == {style: n // 2 for style, n in held_out.items()}
  assert {r.key for r in records if r.split != 'train'} == set(_csv_paths('style_val.csv'))
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
  assert village.genre is None and village.split in ('val', 'test')
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
  # Held out (val and test together): big (style, artist) pairs on their own, round(n * 0.3).
  val = collections.Counter((r.style, r.artist) for r in first if r.split != 'train')
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
  held_out = {r.key: r.split != 'train' for r in together}
  assert all(held_out[r.key] == (r.split != 'train') for r in alone)
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
  assert report['val_images'] + report['test_images'] == 12 + 6 + 2 + 9 + 3
  assert report['test_images'] == (12 + 6 + 2) // 2 + (9 + 3) // 2  # per style
  assert records[0].path.startswith(str(tmp_path)) and records[0].year == 1900
  with pytest.raises(FileNotFoundError, match='no style_train.csv'):
    splits.read_artgan_source(str(tmp_path), str(tmp_path / 'Baroque'))


def test_record_is_immutable():
  record = splits.Record(key='k', split='train', style='Baroque', artist=None,
                         artist_name=None)
  with pytest.raises(dataclasses.FrozenInstanceError):
    record.split = 'val'
  assert np.isscalar(record.key)


def test_the_test_split_is_seeded_stratified_and_order_free():
  records = [splits.Record(key=f'{style}/a-{i}_x.jpg', split='val' if i < 5 else 'train',
                           style=style, artist='a', artist_name='A')
             for style in ('Baroque', 'Cubism') for i in range(8)]
  first = splits.split_test(records, test_fraction=0.5, seed=3)
  again = splits.split_test(records[::-1], test_fraction=0.5, seed=3)
  assert {r.key for r in first if r.split == 'test'} == {r.key for r in again
                                                          if r.split == 'test'}
  assert [r.key for r in first] == [r.key for r in records]  # the order is kept
  for style in ('Baroque', 'Cubism'):  # floor(5 * 0.5) of each style's 5 val images
    assert sum(r.split == 'test' and r.style == style for r in first) == 2
  assert all(r.split == 'train' for r in first if int(r.key.split('-')[1][0]) >= 5)
  other = splits.split_test(records, test_fraction=0.5, seed=4)
  assert {r.key for r in other if r.split == 'test'} != {r.key for r in first
                                                          if r.split == 'test'}
  with pytest.raises(ValueError, match='test_fraction'):
    splits.split_test(records, test_fraction=1.5, seed=0)
