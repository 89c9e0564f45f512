"""Tests for wikiart_jax.data.metadata, on hand-made paths and the real split files."""

import collections
import os
import re

from conftest import SHARED_META
import pytest

from wikiart_jax.data import metadata


def _class_file(name):
  path = os.path.join(SHARED_META, name)
  if not os.path.exists(path):
    pytest.skip(f'{path} absent')
  with open(path, encoding='utf-8') as f:
    return [line.split()[1] for line in f if line.strip()]


@pytest.fixture(scope='module')
def real_paths():
  """The distinct image paths of the ArtGAN style split files."""
  paths = set()
  for split in ('train', 'val'):
    file = os.path.join(SHARED_META, f'style_{split}.csv')
    if not os.path.exists(file):
      pytest.skip(f'{file} absent')
    with open(file, encoding='utf-8') as f:
      paths.update(line.rsplit(',', 1)[0] for line in f if line.strip())
  return sorted(paths)


@pytest.fixture(scope='module')
def real_metas(real_paths):
  return [metadata.parse_path(p) for p in real_paths]


def test_class_constants_match_class_files():
  assert metadata.STYLES == tuple(_class_file('style_class.txt'))
  assert metadata.GENRES == tuple(_class_file('genre_class.txt'))


@pytest.mark.parametrize('slug,name', [
    ('claude-monet', 'Claude Monet'),
    ('vincent-van-gogh', 'Vincent van Gogh'),
    ('leonardo-da-vinci', 'Leonardo da Vinci'),
    ('albrecht-durer', 'Albrecht Dürer'),  # the table's proper name
    ('grã©goire-michonze', 'Grégoire Michonze'),
    ('joaquã\xadn-sorolla', 'Joaquín Sorolla'),
    ('arnold-bã¶cklin', 'Arnold Böcklin'),
    ('antã³nio-de-carvalho-da-silva-porto', 'António de Carvalho da Silva Porto'),
    ('georges-lacombeâ\xa0', 'Georges Lacombe'),  # a trailing no-break space
    ("georgia-o'keeffe", "Georgia O'Keeffe"),
    ("pierre-paul-prud'hon", "Pierre-Paul Prud'hon"),
    ('a.y.-jackson', 'A. Y. Jackson'),
    ('j.-e.-h.-macdonald', 'J. E. H. Macdonald'),
    ('marevna-(marie-vorobieff)', 'Marevna (Marie Vorobieff)'),
    ('le-corbusier', 'Le Corbusier'),  # a particle first is a name
    ('rembrandt', 'Rembrandt'),
])
def test_artist_display_name(slug, name):
  assert metadata.artist_display_name(slug) == name


def test_repair_mojibake_is_the_inverse_of_the_damage():
  # Re-create the damage from clean text: UTF-8 bytes read as Latin-1, lowered.
  for clean in ('grégoire', 'joaquín', 'böcklin', 'çà et là', 'øre', 'señor',
                'l’été', 'ŝ', 'なの', '🎨 ok'):
    damaged = clean.encode('utf-8').decode('latin-1').lower()
    assert damaged != clean
    assert metadata.repair_mojibake(damaged) == clean
  assert metadata.repair_mojibake('plain-ascii_title-1900') == 'plain-ascii_title-1900'


def test_parse_path_examples():
  meta = metadata.parse_path('Impressionism/claude-monet_water-lilies-1919.jpg')
  assert meta == metadata.ImageMeta(
      path='Impressionism/claude-monet_water-lilies-1919.jpg',
      style='Impressionism', artist_slug='claude-monet',
      artist_name='Claude Monet', title='Water Lilies', year=1919)
  meta = metadata.parse_path('Post_Impressionism/vincent-van-gogh_ears-of-wheat-1890(1).jpg')
  assert (meta.title, meta.year) == ('Ears of Wheat', 1890)
  meta = metadata.parse_path('Baroque/rembrandt_the-angel-appearing-to-the-shepherds-1634.jpg')
  assert meta.title == 'The Angel Appearing to the Shepherds'
  meta = metadata.parse_path('Post_Impressionism/paul-cezanne_portrait-of-the-artist-s-son.jpg')
  assert (meta.title, meta.year) == ("Portrait of the Artist's Son", None)
  meta = metadata.parse_path('Abstract_Expressionism/joan-miro_not_detected_227939.jpg')
  assert (meta.title, meta.year) == (None, None)
  # A catalogue number is not a year.
  meta = metadata.parse_path('Expressionism/chronis-botsoglou_p-5533.jpg')
  assert (meta.title, meta.year) == ('P 5533', None)
  meta = metadata.parse_path('Art_Nouveau_Modern/x_louis-xiv-1700.jpg')
  assert (meta.style, meta.title) == ('Art_Nouveau', 'Louis XIV')


def test_title_and_year_of_a_bare_file_name():
  assert metadata.title_and_year('/home/me/claude-monet_water-lilies-1919(2).png') == (
      'Water Lilies', 1919)
  assert metadata.title_and_year('joan-miro_not_detected_227953-1974.jpg') == (None, 1974)
  assert metadata.title_and_year('IMG_0042.jpg') == ('0042', None)
  assert metadata.title_and_year('photo.jpg') == (None, None)


@pytest.mark.parametrize('bad', ['claude-monet_water.jpg', 'Impressionism/nounderscore.jpg',
                                 'NoSuchStyle/a_b.jpg'])
def test_parse_path_rejects_bad_paths(bad):
  with pytest.raises(ValueError, match=re.escape(repr(bad.split('/')[0]))
                     if bad.startswith('NoSuch') else 'path|file name'):
    metadata.parse_path(bad)


def test_real_paths_counts(real_paths, real_metas):
  assert len(real_paths) == 81_446
  assert {m.style for m in real_metas} == set(metadata.STYLES)
  assert len({m.artist_slug for m in real_metas}) == 1_119
  counts = collections.Counter(m.artist_slug for m in real_metas)
  assert counts.most_common(1) == [('vincent-van-gogh', 1_890)]
  assert sum(c < 5 for c in counts.values()) == 80
  styles = collections.Counter(m.style for m in real_metas)
  assert max(styles.values()) == styles['Impressionism'] == 13_060
  assert min(styles.values()) == styles['Action_painting'] == 98


def test_real_years(real_paths, real_metas):
  # The README counts 45,608 names ending in `-dddd` (and maybe `(n)`); one
  # of them, `p-5533`, is a catalogue number, so 45,607 carry a year.
  ends_in_digits = [p for p in real_paths
                    if re.search(r'-\d{4}(\(\d+\))?\.jpg$', p)]
  assert len(ends_in_digits) == 45_608
  with_year = [m for m in real_metas if m.year is not None]
  assert len(with_year) == 45_607
  assert {m.path for m in with_year} == set(ends_in_digits) - {
      'Expressionism/chronis-botsoglou_p-5533.jpg'}
  assert all(metadata.MIN_YEAR <= m.year <= metadata.MAX_YEAR for m in with_year)


def test_real_titles(real_metas):
  no_title = [m for m in real_metas
              if m.path.split('/')[1].split('_', 1)[1].startswith('not_detected_')]
  # The brief quoted 485; the files hold 481 `not_detected_<id>` names.
  assert len(no_title) == 481
  assert all(m.title is None for m in no_title)
  assert all(m.title for m in real_metas if m.title is not None)


def test_real_mojibake_repaired(real_metas):
  damaged = [m for m in real_metas if metadata.repair_mojibake(m.path) != m.path]
  assert len(damaged) == 709
  names = {m.artist_slug: m.artist_name for m in real_metas}
  assert names['grã©goire-michonze'] == 'Grégoire Michonze'
  assert names['joaquã\xadn-sorolla'] == 'Joaquín Sorolla'
  # No Latin-1 reading of UTF-8 is left in any display name or title.
  leftover = re.compile('[\u00c2-\u00c3\u00e2-\u00e3][\u0080-\u00bf]')
  for m in real_metas:
    assert not leftover.search(m.artist_name), m.path
    assert not leftover.search(m.title or ''), m.path


def test_vocabularies_round_trip(tmp_path, real_metas):
  pairs = [(m.artist_slug, m.artist_name) for m in real_metas]
  vocab = metadata.Vocabularies.build(pairs)
  assert vocab.num_classes == {'style': 27, 'artist': 1_119, 'genre': 10}
  assert vocab.artist == sorted(vocab.artist)
  assert vocab.artist_names[vocab.index('artist', 'vincent-van-gogh')] == 'Vincent van Gogh'
  # Input order does not change the ids.
  assert metadata.Vocabularies.build(reversed(pairs)) == vocab
  vocab.to_json(tmp_path / 'vocab.json')
  back = metadata.Vocabularies.from_json(tmp_path / 'vocab.json')
  assert back == vocab
  assert back.index('style', 'Impressionism') == 12
  assert back.index('genre', None) == -1
  assert back.index('artist', 'nobody') == -1


def test_vocabularies_validation(tmp_path):
  with pytest.raises(ValueError, match='duplicate names in the style'):
    metadata.Vocabularies(['a', 'a'], [], [], [])
  with pytest.raises(ValueError, match='1 artists but 0 artist names'):
    metadata.Vocabularies([], ['x'], [], [])
  (tmp_path / 'v.json').write_text('{"style": []}')
  with pytest.raises(ValueError, match='lacks'):
    metadata.Vocabularies.from_json(tmp_path / 'v.json')
