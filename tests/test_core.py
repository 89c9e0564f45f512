"""The shared vocabulary: the class lists are WikiArt's, the period bins tile the years."""

import os

import pytest
from PIL import Image

from wikiart_jax import core

from conftest import SHARED_META


def _class_file(name):
  with open(os.path.join(SHARED_META, name), encoding='utf-8') as f:
    return [line.split()[1] for line in f if line.strip()]


@pytest.mark.skipif(not os.path.isdir(SHARED_META), reason='../shared/wikiart-meta is absent')
def test_styles_and_genres_are_the_class_files_in_their_order():
  assert list(core.STYLES) == _class_file('style_class.txt')
  assert list(core.GENRES) == _class_file('genre_class.txt')
  # Every folder name of the CSVs is a style, or an alias of one.
  with open(os.path.join(SHARED_META, 'style_train.csv'), encoding='utf-8') as f:
    folders = {line.split('/')[0] for line in f if line.strip()}
  assert {core.STYLE_FOLDER_ALIASES.get(d, d) for d in folders} == set(core.STYLES)


def test_the_period_bins_tile_1400_to_2025():
  assert core.NUM_PERIOD_BINS * core.PERIOD_STEP == core.PERIOD_END - core.PERIOD_START
  assert core.NUM_PERIOD_BINS == 25


def test_image_extensions_are_lower_case_and_pillow_reads_them():
  assert all(e == e.lower() and e.startswith('.') for e in core.IMAGE_EXTENSIONS)
  readable = Image.registered_extensions()  # '.jpg' -> 'JPEG' ...
  assert [e for e in core.IMAGE_EXTENSIONS if e not in readable] == []


def test_the_errors_are_caught_as_their_builtin_kinds():
  # Callers catch ValueError for bad input and RuntimeError for a run that cannot go on.
  assert issubclass(core.ImageError, ValueError) and issubclass(core.CheckpointError, ValueError)
  assert issubclass(core.TrainingDivergedError, RuntimeError)
  assert issubclass(core.LockedError, RuntimeError)
  assert core.TASKS == ('style', 'artist', 'genre') and core.LANGUAGES == ('en', 'fr')
