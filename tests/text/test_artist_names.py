"""Artists' display names: the table covers the most painted artists; rules do the rest."""

import collections
import csv
import os

from conftest import SHARED_META
import pytest

from wikiart_jax.data import metadata
from wikiart_jax.text import artist_names


def _slug_counts() -> collections.Counter:
  counts = collections.Counter()
  for split in ('train', 'val'):
    path = os.path.join(SHARED_META, f'style_{split}.csv')
    if not os.path.exists(path):
      pytest.skip(f'{path} absent')
    with open(path, encoding='utf-8') as f:
      for row in csv.reader(f):
        slug = row[0].rsplit('/', 1)[-1].split('_', 1)[0]
        counts[metadata.repair_mojibake(slug)] += 1
  return counts


def test_the_table_covers_the_300_most_painted_and_the_23():
  counts = _slug_counts()
  ranked = counts.most_common()
  assert len(ranked) == 1119
  # Every artist with at least as many images as the 300th (ties included).
  floor = ranked[299][1]
  wanted = {slug for slug, n in ranked if n >= floor}
  assert len(wanted) >= 300
  path = os.path.join(SHARED_META, 'artist_class.txt')
  with open(path, encoding='utf-8') as f:
    task23 = {line.split()[1].lower().replace('_', '-') for line in f if line.strip()}
  assert len(task23) == 23 and task23 <= set(counts)
  missing = sorted((wanted | task23) - set(artist_names.table()))
  assert not missing
  # Every entry is a real WikiArt artist.
  assert set(artist_names.table()) <= set(counts)


@pytest.mark.parametrize('slug,en,fr', [
    ('albrecht-durer', 'Albrecht Dürer', 'Albrecht Dürer'),
    ('henri-de-toulouse-lautrec', 'Henri de Toulouse-Lautrec', 'Henri de Toulouse-Lautrec'),
    ('pierre-auguste-renoir', 'Pierre-Auguste Renoir', 'Pierre-Auguste Renoir'),
    ('joaquín-sorolla', 'Joaquín Sorolla', 'Joaquín Sorolla'),
    ('paul-cezanne', 'Paul Cézanne', 'Paul Cézanne'),
    ('titian', 'Titian', 'le Titien'),
    ('leonardo-da-vinci', 'Leonardo da Vinci', 'Léonard de Vinci'),
    ('pieter-bruegel-the-elder', 'Pieter Bruegel the Elder', "Pieter Bruegel l'Ancien"),
])
def test_table_names(slug, en, fr):
  assert artist_names.display_name(slug) == en
  assert artist_names.display_name(slug, 'fr') == fr


@pytest.mark.parametrize('slug,name', [
    ('jean-baptiste-greuze', 'Jean-Baptiste Greuze'),  # a French compound given name
    ('marie-louise-dupont', 'Marie-Louise Dupont'),
    ('jean-dupont', 'Jean Dupont'),  # two words: no compound to rejoin
    ('hans-von-aachen', 'Hans von Aachen'),
    ('jacob-van-der-ulft', 'Jacob van der Ulft'),
    ('le-corbusier', 'Le Corbusier'),  # a particle first is a name
    ('jan-brueghel-the-younger', 'Jan Brueghel the Younger'),
    ('a.y.-jackson', 'A. Y. Jackson'),
    ('j.-e.-h.-macdonald', 'J. E. H. Macdonald'),
    ('john-mcdonald', 'John McDonald'),
    ("georgia-o'keeffe", "Georgia O'Keeffe"),
    ('marevna-(marie-vorobieff)', 'Marevna (Marie Vorobieff)'),
])
def test_rules_for_the_others(slug, name):
  assert artist_names.rule_name(slug) == name


def test_unlisted_slugs_fall_back_to_the_rules_and_mojibake_is_repaired_first():
  assert 'jean-baptiste-greuze' not in artist_names.table()
  assert artist_names.display_name('jean-baptiste-greuze', 'fr') == 'Jean-Baptiste Greuze'
  assert metadata.artist_display_name('joaquã\xadn-sorolla') == 'Joaquín Sorolla'
  assert metadata.artist_display_name('titian', 'fr') == 'le Titien'


def test_vocabularies_show_table_names_even_from_an_old_vocab_file(tmp_path):
  old = metadata.Vocabularies(style=list(metadata.STYLES), artist=['albrecht-durer', 'x-y'],
                              genre=list(metadata.GENRES),
                              artist_names=['Albrecht Durer', 'X Y'])
  old.to_json(str(tmp_path / 'vocab.json'))
  vocab = metadata.Vocabularies.from_json(str(tmp_path / 'vocab.json'))
  assert vocab.artist_names == ['Albrecht Dürer', 'X Y']
  assert vocab.artist_name(0, 'fr') == 'Albrecht Dürer'
