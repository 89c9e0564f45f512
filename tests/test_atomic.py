"""Files written whole or not at all: the old file survives a failed write, no debris is left."""

import os

import pytest

from wikiart_jax import atomic


def test_a_write_replaces_the_file_whole(tmp_path):
  path = str(tmp_path / 'report.json')
  atomic.write_text(path, 'old')
  atomic.write_text(path, 'nouveau – é')
  with open(path, encoding='utf-8') as f:
    assert f.read() == 'nouveau – é'
  assert os.listdir(tmp_path) == ['report.json']


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
  path = str(tmp_path / 'report.json')
  atomic.write_text(path, 'old')

  def full_disk(fd):
    raise OSError(28, 'No space left on device')
  monkeypatch.setattr(os, 'fsync', full_disk)
  with pytest.raises(OSError, match='No space left'):
    atomic.write_text(path, 'new')
  with open(path, encoding='utf-8') as f:
    assert f.read() == 'old'
  assert os.listdir(tmp_path) == ['report.json']
