"""Shared by the data and text tests: a tiny ArtGAN tree (two styles, split CSVs), its
config, a prepared dataset of it (the `built` fixture) and an ArtEmis CSV."""

import os

import common
import numpy as np
import pytest
from PIL import Image

from wikiart_jax.core import STYLES
from wikiart_jax.data import prepare


def write_tree(root: str, per_style: int = 4) -> None:
  """Two styles of small images and ArtGAN split CSVs (last image -> val)."""
  rng = np.random.default_rng(0)
  rows = {'train': [], 'val': []}
  for style in ('Fauvism', 'Rococo'):
    os.makedirs(os.path.join(root, style))
    for i in range(per_style):
      rel = f'{style}/artist-{i % 2}_picture-{i}.jpg'
      Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(
          os.path.join(root, rel))
      split = 'val' if i == per_style - 1 else 'train'
      rows[split].append(f'{rel},{STYLES.index(style)}\n')
  for split, lines in rows.items():
    with open(os.path.join(root, f'style_{split}.csv'), 'w') as f:
      f.writelines(lines)


def artgan_config(raw_dir: str, **data):
  """The common config reading `raw_dir` as an ArtGAN tree, stored at 24 px."""
  config = common.get_config()
  config.data.raw_dir = raw_dir
  config.data.resize_shorter = 24
  for key, value in data.items():
    setattr(config.data, key, value)
  return config


@pytest.fixture(scope='module')
def built(tmp_path_factory):
  """(raw tree, workdir, dataset folder) of the prepared tiny tree; import it to use it."""
  raw = str(tmp_path_factory.mktemp('raw') / 'raw')
  write_tree(raw)
  workdir = str(tmp_path_factory.mktemp('work'))
  return raw, workdir, prepare.prepare(artgan_config(raw), workdir)


def write_artemis_csv(path):
  """Two utterances for Monet's Water Lilies and an empty one; returns the path."""
  path.write_text('art_style,painting,emotion,utterance\n'
                  'Impressionism,claude-monet_water-lilies-1919,contentment,The water looks calm\n'
                  'Impressionism,claude-monet_water-lilies-1919,awe,"So many colours, wow"\n'
                  'Cubism,pablo-picasso_guitar,fear,\n', encoding='utf-8')
  return str(path)
