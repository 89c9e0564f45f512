"""CLIP tag scores at `prepare`: equal to transformers' CLIP, resumable, and a bad folder
fails before any image is read."""

import os

import numpy as np
import pytest
import torch
import transformers
from PIL import Image

from artgan_tree import artgan_config, write_tree
from conftest import launch
from tiny_clip import save_random_clip
from wikiart_jax.convert import preprocessing
from wikiart_jax.core import CheckpointError
from wikiart_jax.data import dataset, images, pipeline, prepare, tag_scores
from wikiart_jax.inference import clip_tags
from wikiart_jax.text import subjects


@pytest.fixture(scope='module')
def clip_folder(tmp_path_factory):
  """A tiny random CLIP, its tokenizer and image processor (16 px): (folder, model, tokenizer)."""
  folder = tmp_path_factory.mktemp('clip')
  model, tokenizer = save_random_clip(folder)
  transformers.CLIPImageProcessor(size={'shortest_edge': 16},
                                  crop_size={'height': 16, 'width': 16}).save_pretrained(folder)
  return str(folder), model, tokenizer


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
  raw = str(tmp_path_factory.mktemp('tree') / 'raw')
  write_tree(raw, per_style=5)
  return raw


def _with_clip(config, clip_from, chunk_size=1024):
  config.data.tags.clip_from = clip_from
  config.data.tags.clip_batch_size = 2  # several batches per chunk
  config.data.tags.clip_chunk_size = chunk_size
  return config


def _reference_probs(folder, model, tokenizer, image_paths):
  """transformers' CLIPModel: each tag's softmax against 'a painting', both ensembles
  the mean of their L2-normalised prompt embeddings, images prepared by CLIPImageProcessor."""
  processor = transformers.CLIPImageProcessor.from_pretrained(folder)

  def text(prompts):
    tokens = tokenizer(list(prompts), padding='max_length', max_length=77, truncation=True,
                       return_tensors='pt')
    with torch.no_grad():
      emb = model.get_text_features(**tokens).pooler_output
    emb = emb / emb.norm(dim=-1, keepdim=True)
    mean = emb.mean(0)
    return mean / mean.norm()

  tags = torch.stack([text(subjects.clip_prompts(subjects.SUBJECTS[k]))
                      for k in subjects.TAG_KEYS])
  neutral = text(subjects.neutral_prompts())
  pixels = processor(images=[Image.open(p).convert('RGB') for p in image_paths],
                     return_tensors='pt')['pixel_values']
  with torch.no_grad():
    img = model.get_image_features(pixel_values=pixels).pooler_output
    img = img / img.norm(dim=-1, keepdim=True)
    scale = model.logit_scale.exp()
    pair = torch.stack([scale * img @ tags.T, (scale * img @ neutral)[:, None].expand(
        -1, len(tags))], dim=-1)
    return torch.softmax(pair, dim=-1)[..., 0].numpy()


def test_scores_stored_by_prepare_equal_transformers_clip(clip_folder, tree, tmp_path):
  from wikiart_jax.train import loop  # pylint: disable=g-import-not-at-top
  folder, model, tokenizer = clip_folder
  info = loop.prepare_once(_with_clip(artgan_config(tree), folder), str(tmp_path))
  assert info.vocab.tags == list(subjects.TAG_KEYS)
  stored = {}
  for split in info.num_examples:
    source = pipeline.open_split(info.path, split)
    for i in range(len(source)):
      record = source[i]
      assert np.all(record['tags_mask'] == 1)  # CLIP knows every tag of every image
      stored[record['path'].decode()] = record['tags']
  keys = sorted(stored)
  assert len(keys) == 10
  want = _reference_probs(folder, model, tokenizer, [os.path.join(tree, k) for k in keys])
  got = np.stack([stored[k] for k in keys])
  np.testing.assert_allclose(got, want, atol=1e-4)
  assert got.std() > 0  # not a constant that matches by accident


class _Killed(Exception):
  pass


class _Counting:
  """Wraps a scorer: counts the images it scores, and dies after `die_after` calls."""

  def __init__(self, scorer, die_after=None):
    self.scorer, self.die_after, self.images, self.calls = scorer, die_after, 0, 0
    self.fingerprint, self.num_tags = scorer.fingerprint, scorer.num_tags

  def __call__(self, batch):
    if self.die_after is not None and self.calls >= self.die_after:
      raise _Killed()
    self.calls += 1
    self.images += len(batch)
    return self.scorer(batch)


def test_an_interrupted_scoring_resumes_where_it_stopped(clip_folder, tree, tmp_path):
  config = _with_clip(artgan_config(tree), clip_folder[0])
  scorer = clip_tags.from_config(config.data.tags)
  records = prepare._records(config, str(tmp_path))  # pylint: disable=protected-access
  folder = str(tmp_path / 'scores')
  # Chunks of 4 images scored 2 at a time: it dies in the 2nd batch of chunk 1.
  dying = _Counting(scorer, die_after=3)
  with pytest.raises(_Killed):
    tag_scores.score_records(records, len(records), dying, folder, chunk_size=4, batch_size=2)
  assert dying.images == 6
  saved = sorted(f for f in os.listdir(folder) if f.startswith('chunk_'))
  assert saved == ['chunk_000000.npz']  # chunk 1 was in progress: lost, nothing half-written
  assert not [f for f in os.listdir(folder) if '.tmp' in f]
  resumed = _Counting(scorer)
  got = tag_scores.score_records(records, len(records), resumed, folder, chunk_size=4,
                                 batch_size=2)
  assert resumed.images == len(records) - 4  # only what was not finished
  fresh = tag_scores.score_records(records, len(records), _Counting(scorer),
                                   str(tmp_path / 'fresh'), chunk_size=4, batch_size=2)
  assert sorted(got) == sorted(fresh) == sorted(r.key for r in records)
  for key in got:
    np.testing.assert_array_equal(got[key], fresh[key])


def test_an_interrupted_prepare_resumes(clip_folder, tree, tmp_path):
  config = _with_clip(artgan_config(tree), clip_folder[0], chunk_size=4)
  workdir = str(tmp_path)
  made = []

  def dying_scorer(tags_config):
    made.append(_Counting(clip_tags.from_config(tags_config), die_after=4))
    return made[-1]

  with pytest.raises(_Killed):  # killed in the 3rd chunk: 2 chunks of 4 images saved
    prepare.prepare(config, workdir, make_tag_scorer=dying_scorer)
  assert not dataset.is_prepared(dataset.dataset_dir(config, workdir))
  finishing = []

  def scorer(tags_config):
    finishing.append(_Counting(clip_tags.from_config(tags_config)))
    return finishing[-1]

  path = prepare.prepare(config, workdir, make_tag_scorer=scorer)
  assert dataset.is_prepared(path) and finishing[0].images == 10 - 8
  # Done once, never again: a third prepare reuses the dataset (and would reuse the chunks).
  assert prepare.prepare(config, workdir, make_tag_scorer=None) == path


def test_a_scores_folder_of_another_scorer_is_refused(clip_folder, tree, tmp_path):
  config = _with_clip(artgan_config(tree), clip_folder[0])
  scorer = clip_tags.from_config(config.data.tags)
  records = prepare._records(config, str(tmp_path))  # pylint: disable=protected-access
  tag_scores.score_records(records[:2], 2, scorer, str(tmp_path / 's'))
  other = _Counting(scorer)
  other.fingerprint = {**scorer.fingerprint, 'clip_from': 'another'}
  with pytest.raises(ValueError, match='another CLIP'):
    tag_scores.score_records(records[:2], 2, other, str(tmp_path / 's'))


def test_a_clip_folder_that_does_not_load_fails_before_any_image_is_read(
    tree, tmp_path, monkeypatch):
  def no_reading(*args, **kwargs):
    raise AssertionError('an image was read')

  monkeypatch.setattr(images, 'load_rgb', no_reading)
  config = _with_clip(artgan_config(tree), str(tmp_path / 'absent'))
  with pytest.raises(CheckpointError, match='does not exist'):
    prepare.prepare(config, str(tmp_path), make_tag_scorer=clip_tags.from_config)
  not_clip = tmp_path / 'not_clip'
  not_clip.mkdir()
  (not_clip / 'config.json').write_text('{"model_type": "vit"}')
  (not_clip / 'model.safetensors').write_bytes(b'')
  config = _with_clip(artgan_config(tree), str(not_clip))
  with pytest.raises(CheckpointError, match="expected a CLIP checkpoint"):
    prepare.prepare(config, str(tmp_path), make_tag_scorer=clip_tags.from_config)


def test_launch_prepare_with_a_bad_clip_is_one_line(tree, tmp_path):
  proc = launch(tmp_path / 'w', '--config.mode=prepare', '--config.data.source=artgan',
                f'--config.data.raw_dir={tree}', f'--config.data.tags.clip_from={tmp_path}/x',
                check=False)
  assert proc.returncode == 1
  lines = proc.stderr.strip().splitlines()
  assert lines[-1].startswith('error: ') and 'does not exist' in lines[-1]
  assert not (tmp_path / 'w' / 'tfds' / 'wikiart').exists()


def test_clip_pixels_follow_the_image_processor(clip_folder):
  processor = transformers.CLIPImageProcessor.from_pretrained(clip_folder[0])
  rng = np.random.default_rng(0)
  for shape in ((30, 40, 3), (41, 17, 3), (16, 16, 3)):
    rgb = rng.integers(0, 256, shape, dtype=np.uint8)
    want = processor(images=Image.fromarray(rgb), return_tensors='np')['pixel_values'][0]
    got = clip_tags.clip_pixels(rgb, 16, (16, 16), preprocessing.OPENAI_CLIP)
    np.testing.assert_allclose(got, want.transpose(1, 2, 0), atol=1e-5)
