"""Where pretrained weights come from: a hub id or a local Hugging Face folder.

`resolve('hf:<id>')` downloads (or finds in the local cache) a snapshot with
`huggingface_hub.snapshot_download`; any other source is a local folder holding
config.json and *.safetensors. Tensors are read with `safetensors.numpy`, so
nothing here imports torch.
"""

from __future__ import annotations

import collections.abc
import json
import os
from typing import Any

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

from wikiart_jax.core import CheckpointError

HUB_PREFIX = 'hf:'
# Enough to rebuild a model and its tokenizer; never the PyTorch .bin duplicates.
_SNAPSHOT_PATTERNS = ('*.json', '*.safetensors', '*.txt', '*.model')


def resolve(source: str) -> str:
  """Returns a local folder for `source` ('hf:<id>' or a folder path)."""
  if not source:
    raise CheckpointError('empty checkpoint source: use hf:<hub id> or a local folder')
  if source.startswith(HUB_PREFIX):
    repo_id = source[len(HUB_PREFIX):]
    from huggingface_hub import snapshot_download  # pylint: disable=g-import-not-at-top
    try:
      folder = snapshot_download(repo_id, allow_patterns=list(_SNAPSHOT_PATTERNS))
    except Exception as e:  # offline, unknown id, no cache: one line naming the source
      raise CheckpointError(f'cannot fetch {source!r}: {type(e).__name__}: '
                            f'{str(e).splitlines()[0] if str(e) else ""}') from e
  else:
    folder = os.path.expanduser(source)
  if not os.path.isdir(folder):
    raise CheckpointError(f'checkpoint folder {folder!r} does not exist')
  if not os.path.isfile(os.path.join(folder, 'config.json')):
    raise CheckpointError(f'checkpoint folder {folder!r} has no config.json')
  if not _safetensors_files(folder):
    raise CheckpointError(f'checkpoint folder {folder!r} has no *.safetensors file')
  return folder


def read_config(folder: str) -> dict[str, Any]:
  """Returns the parsed config.json of a checkpoint folder."""
  path = os.path.join(folder, 'config.json')
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, json.JSONDecodeError) as e:
    raise CheckpointError(f'cannot read {path}: {e}') from e


def read_tensors(folder: str) -> dict[str, np.ndarray]:
  """Returns every tensor of the checkpoint (all shards) as numpy arrays."""
  tensors: dict[str, np.ndarray] = {}
  for path in _safetensors_files(folder):
    try:
      tensors.update(load_file(path))
    except Exception as e:  # corrupt file or a dtype numpy lacks (bfloat16)
      raise CheckpointError(f'cannot read {path}: {type(e).__name__}: {e}') from e
  return tensors


class LazyTensors(collections.abc.Mapping):
  """Checkpoint key -> numpy array, read from its shard only when asked.

  For checkpoints of billions of parameters (BLIP-2): converting one tensor at a
  time keeps one tensor in host memory, not the whole file. A sharded folder is
  read through its `model.safetensors.index.json`; a shard it names that is not
  there is an error naming the index, the shard and a key it holds. bfloat16 and
  float16 tensors are read too (numpy holds them through ml_dtypes).
  """

  def __init__(self, folder: str):
    index = os.path.join(folder, 'model.safetensors.index.json')
    self._file: dict[str, str] = {}
    if os.path.isfile(index):
      try:
        with open(index, encoding='utf-8') as f:
          weight_map = json.load(f)['weight_map']
      except (OSError, ValueError, KeyError) as e:
        raise CheckpointError(f'cannot read {index}: {e}') from e
      for key, shard in sorted(weight_map.items()):
        path = os.path.join(folder, shard)
        if not os.path.isfile(path):
          raise CheckpointError(f'{index}: shard {shard} (holding {key!r}) is missing')
        self._file[key] = path
      return
    for path in _safetensors_files(folder):
      try:
        with safe_open(path, 'np') as f:
          self._file.update((key, path) for key in f.keys())
      except Exception as e:  # not a safetensors file
        raise CheckpointError(f'cannot read {path}: {type(e).__name__}: {e}') from e

  def __getitem__(self, key: str) -> np.ndarray:
    path = self._file[key]
    try:
      with safe_open(path, 'np') as f:
        return f.get_tensor(key)
    except TypeError:  # a dtype plain numpy lacks (bfloat16): read through jax
      with safe_open(path, 'flax') as f:
        return np.asarray(f.get_tensor(key))
    except Exception as e:  # a truncated shard, a key the index invents
      raise CheckpointError(f'cannot read {key!r} from {path}: {type(e).__name__}: {e}') from e

  def __iter__(self):
    return iter(self._file)

  def __len__(self) -> int:
    return len(self._file)


def _safetensors_files(folder: str) -> list[str]:
  """The weight files: those of a sharded index if present, else every *.safetensors."""
  index = os.path.join(folder, 'model.safetensors.index.json')
  if os.path.isfile(index):
    with open(index) as f:
      shards = sorted(set(json.load(f)['weight_map'].values()))
    return [os.path.join(folder, s) for s in shards]
  return sorted(os.path.join(folder, n) for n in os.listdir(folder)
                if n.endswith('.safetensors'))
