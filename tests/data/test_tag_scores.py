"""Resumable tag scoring: finished chunks are kept and reused, a bad image gets NaN, another
scorer's folder is refused. The scorer here is a stand-in (mean colour); the real one,
CLIP, is checked against transformers in tests/inference/test_clip_tags.py."""

import io
import os

import numpy as np
import pytest
from PIL import Image

from wikiart_jax.data import tag_scores
from wikiart_jax.data.splits import Record


class _Killed(Exception):
  pass


class _MeanColour:
  """Scores an image by its mean red and green in [0, 1]; dies after `die_after` calls."""

  num_tags = 2

  def __init__(self, die_after=None, name='mean-colour'):
    self.fingerprint = {'model': name, 'tags': ('red', 'green')}
    self.die_after, self.calls, self.images = die_after, 0, 0

  def __call__(self, batch):
    if self.die_after is not None and self.calls >= self.die_after:
      raise _Killed()
    self.calls += 1
    self.images += len(batch)
    return np.stack([x.reshape(-1, 3)[:, :2].mean(0) / 255 for x in batch]).astype(np.float32)


def _records(tmp_path, n=10):
  out = []
  for i in range(n):
    buf = io.BytesIO()
    Image.new('RGB', (8, 6), (20 * i, 255 - 20 * i, 0)).save(buf, 'PNG')
    out.append(Record(key=f'img{i}.png', split='train', style='x', artist=None,
                      artist_name=None, image_bytes=buf.getvalue()))
  # One file on disk, one that is not an image at all.
  path = tmp_path / 'on_disk.png'
  Image.new('RGB', (5, 5), (255, 0, 0)).save(path)
  out.append(Record(key='on_disk.png', split='val', style='x', artist=None, artist_name=None,
                    path=str(path)))
  out.append(Record(key='broken.png', split='val', style='x', artist=None, artist_name=None,
                    image_bytes=b'not a png'))
  return out


def test_every_image_is_scored_and_a_broken_one_gets_nan(tmp_path):
  records = _records(tmp_path)
  got = tag_scores.score_records(records, len(records), _MeanColour(), str(tmp_path / 's'),
                                 chunk_size=5, batch_size=2, num_threads=2)
  assert list(got) == [r.key for r in records]
  np.testing.assert_allclose(got['img3.png'], [60 / 255, 195 / 255], rtol=1e-6)
  np.testing.assert_allclose(got['on_disk.png'], [1.0, 0.0])
  assert got['broken.png'].shape == (2,) and np.isnan(got['broken.png']).all()
  assert sorted(os.listdir(tmp_path / 's')) == [
      'chunk_000000.npz', 'chunk_000001.npz', 'chunk_000002.npz', tag_scores.MANIFEST]


def test_an_interrupted_scoring_resumes_where_it_stopped(tmp_path):
  records = _records(tmp_path)
  folder = str(tmp_path / 'scores')
  # Chunks of 4 images scored 2 at a time: it dies in the 2nd batch of chunk 1.
  dying = _MeanColour(die_after=3)
  with pytest.raises(_Killed):
    tag_scores.score_records(records, len(records), dying, folder, chunk_size=4, batch_size=2)
  assert dying.images == 6
  saved = sorted(f for f in os.listdir(folder) if f.startswith('chunk_'))
  assert saved == ['chunk_000000.npz']  # chunk 1 was in progress: lost, nothing half-written
  assert not [f for f in os.listdir(folder) if '.tmp' in f]
  resumed = _MeanColour()
  got = tag_scores.score_records(records, len(records), resumed, folder, chunk_size=4,
                                 batch_size=2)
  assert resumed.images == len(records) - 4 - 1  # what was not finished (the broken one is not scored)
  fresh = tag_scores.score_records(records, len(records), _MeanColour(), str(tmp_path / 'fresh'),
                                   chunk_size=4, batch_size=2)
  assert list(got) == list(fresh) == [r.key for r in records]
  for key in got:
    np.testing.assert_array_equal(got[key], fresh[key])


def test_a_chunk_of_other_images_is_scored_again(tmp_path):
  records = _records(tmp_path)
  folder = str(tmp_path / 'scores')
  tag_scores.score_records(records[:4], 4, _MeanColour(), folder, chunk_size=4)
  # The same folder with the images in another order: chunk 0 no longer holds these keys.
  again = _MeanColour()
  got = tag_scores.score_records(records[4:8], 4, again, folder, chunk_size=4)
  assert again.images == 4 and list(got) == [r.key for r in records[4:8]]


def test_a_scores_folder_of_another_scorer_is_refused(tmp_path):
  records = _records(tmp_path)[:2]
  tag_scores.score_records(records, 2, _MeanColour(), str(tmp_path / 's'))
  with pytest.raises(ValueError, match='another CLIP, tag list or prompts: delete it'):
    tag_scores.score_records(records, 2, _MeanColour(name='another'), str(tmp_path / 's'))
