"""Checkpoint sources: 'hf:<id>' through the local hub cache (offline), folders, shards."""

import json

from huggingface_hub import constants as hub_constants
import numpy as np
import pytest
import safetensors.numpy

from wikiart_jax.convert import hub


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
  cache = tmp_path / 'hub'
  monkeypatch.setattr(hub_constants, 'HF_HUB_CACHE', str(cache))
  monkeypatch.setattr(hub_constants, 'HF_HUB_OFFLINE', True)
  return cache


def _fake_snapshot(cache, repo_id, files):
  """The on-disk layout snapshot_download leaves behind: refs/main -> snapshots/<commit>."""
  commit = '0123456789abcdef0123456789abcdef01234567'
  repo = cache / ('models--' + repo_id.replace('/', '--'))
  (repo / 'refs').mkdir(parents=True)
  (repo / 'refs' / 'main').write_text(commit)
  snapshot = repo / 'snapshots' / commit
  snapshot.mkdir(parents=True)
  for name, write in files.items():
    write(snapshot / name)
  return snapshot


def test_hub_id_resolves_from_the_local_cache(offline_cache):
  snapshot = _fake_snapshot(offline_cache, 'someone/tiny', {
      'config.json': lambda p: p.write_text('{"model_type": "vit"}'),
      'model.safetensors': lambda p: safetensors.numpy.save_file(
          {'w': np.ones(2, np.float32)}, p)})
  folder = hub.resolve('hf:someone/tiny')
  assert str(folder) == str(snapshot)
  assert hub.read_config(folder) == {'model_type': 'vit'}
  np.testing.assert_array_equal(hub.read_tensors(folder)['w'], np.ones(2))


def test_unreachable_hub_id_is_one_line_error(offline_cache):
  with pytest.raises(hub.CheckpointError, match=r"cannot fetch 'hf:nobody/nothing'") as e:
    hub.resolve('hf:nobody/nothing')
  assert '\n' not in str(e.value)


def test_sharded_checkpoint_reads_every_shard(tmp_path):
  (tmp_path / 'config.json').write_text('{}')
  safetensors.numpy.save_file({'a': np.zeros(1, np.float32)}, tmp_path / 'model-1.safetensors')
  safetensors.numpy.save_file({'b': np.ones(1, np.float32)}, tmp_path / 'model-2.safetensors')
  (tmp_path / 'model.safetensors.index.json').write_text(json.dumps(
      {'weight_map': {'a': 'model-1.safetensors', 'b': 'model-2.safetensors'}}))
  assert sorted(hub.read_tensors(hub.resolve(str(tmp_path)))) == ['a', 'b']


def test_bad_sources_are_named(tmp_path):
  with pytest.raises(hub.CheckpointError, match='empty checkpoint source'):
    hub.resolve('')
  with pytest.raises(hub.CheckpointError, match='has no config.json'):
    hub.resolve(str(tmp_path))
  (tmp_path / 'config.json').write_text('{not json')
  (tmp_path / 'model.safetensors').write_bytes(b'garbage')
  with pytest.raises(hub.CheckpointError, match='cannot read .*config.json'):
    hub.read_config(str(tmp_path))
  with pytest.raises(hub.CheckpointError, match='cannot read .*model.safetensors'):
    hub.read_tensors(str(tmp_path))
