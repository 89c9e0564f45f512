"""Where the prepared `wikiart` dataset lives and what it holds, read without building it.

The dataset sits in `<tfds_dir>/wikiart/<artgan|hf_parquet>/<version>` (tfds_dir
'' = `<workdir>/tfds`). `info_from_dir` reads its vocabularies, split sizes and
class counts from the JSON files beside the ArrayRecord files, so readers need
neither TensorFlow nor this package's builder.
"""

import dataclasses
import json
import os

import numpy as np

from wikiart_jax.data import metadata

DATASET_NAME = 'wikiart'
DATASET_VERSION = '1.2.0'  # 1.1.0: train / val / test; 1.2.0: content-tag targets
# Which builder config reads each data.source; the synthetic set is an ArtGAN tree.
BUILDER_CONFIG = {'synthetic': 'artgan', 'artgan': 'artgan', 'hf_parquet': 'hf_parquet'}
REPORT = 'prepare_report.json'  # written last by prepare: a finished build has it
# tfds builds in `<parent>/incomplete.<random>_<version>` and renames it when done.
TFDS_INCOMPLETE_PREFIX = 'incomplete.'


@dataclasses.dataclass
class DatasetInfo:
  """What training needs to know about a prepared dataset.

  Attributes:
    vocab: the label vocabularies (index = class id).
    num_examples: split -> number of stored examples.
    class_counts: task -> int64 [num_classes] counts in the train split
      (style, artist, genre, artist23).
    artist23: names of ArtGAN's 23-artist subtask (empty for parquet).
    path: the dataset directory.
  """
  vocab: metadata.Vocabularies
  num_examples: dict
  class_counts: dict
  artist23: list = dataclasses.field(default_factory=list)
  path: str = ''


def tfds_dir(data_config, workdir: str) -> str:
  return data_config.tfds_dir or os.path.join(workdir, 'tfds')


def raw_dir(data_config, workdir: str) -> str:
  """The raw tree: data.raw_dir, or `<workdir>/synthetic_raw` for synthetic."""
  if data_config.source == 'synthetic':
    return data_config.raw_dir or os.path.join(workdir, 'synthetic_raw')
  if not data_config.raw_dir:
    raise ValueError(f'config.data.raw_dir is empty: say where the '
                     f'{data_config.source} WikiArt files are')
  return data_config.raw_dir


def dataset_dir(config, workdir: str) -> str:
  """Folder of the prepared dataset for config.data.source."""
  source = config.data.source
  if source not in BUILDER_CONFIG:
    raise ValueError(f'config.data.source={source!r}: expected one of '
                     f'{sorted(BUILDER_CONFIG)}')
  return os.path.join(tfds_dir(config.data, workdir), DATASET_NAME,
                      BUILDER_CONFIG[source], DATASET_VERSION)


def is_prepared(path: str) -> bool:
  """Whether `path` holds a finished build.

  tfds renames its folder into place once every record is written, and `prepare`
  writes the report into it last, whole: both there means nothing is missing.
  """
  return (os.path.exists(os.path.join(path, 'dataset_info.json'))
          and os.path.exists(os.path.join(path, REPORT)))


def leftovers(path: str) -> list[str]:
  """What an interrupted build of `path` left behind (empty when nothing).

  tfds's temporary folders beside it, or the folder itself without the files a
  finished build ends with.
  """
  found = []
  parent, name = os.path.split(path)
  if os.path.isdir(parent):
    found += [os.path.join(parent, n) for n in sorted(os.listdir(parent))
              if n.startswith(TFDS_INCOMPLETE_PREFIX) and n.endswith(f'_{name}')]
  if os.path.isdir(path) and not is_prepared(path):
    found.append(path)
  return found


def incomplete_error(path: str, left: list[str]) -> FileNotFoundError:
  """The one-line error for a dataset that an interrupted `prepare` left unfinished."""
  return FileNotFoundError(
      f'the dataset in {path} is incomplete (a prepare stopped before it finished, '
      f'leaving {left[0]}): run the same command with --config.mode=prepare to finish it')


def require_prepared(path: str) -> str:
  """Returns `path`, or raises FileNotFoundError saying how to build or finish it."""
  if is_prepared(path):
    return path
  left = leftovers(path)
  if left:
    raise incomplete_error(path, left)
  raise FileNotFoundError(f'no prepared dataset in {path}: run with '
                          '--config.mode=prepare first')


def read_metadata(path: str) -> dict:
  """The builder's metadata.json: vocabularies, class counts, skipped files, build."""
  with open(os.path.join(path, 'metadata.json'), encoding='utf-8') as f:
    return json.load(f)


def provenance(data_config, workdir: str) -> dict:
  """What identifies the raw data: the synthetic settings, or the folders."""
  absolute = lambda p: os.path.abspath(p) if p else ''
  if data_config.source == 'synthetic':
    found = {'source': 'synthetic', **data_config.synthetic.to_dict(),
             'resize_shorter': data_config.resize_shorter,
             'test_fraction': data_config.test_fraction}
  else:
    found = {'source': data_config.source,
             'raw_dir': absolute(raw_dir(data_config, workdir)),
             'split_dir': absolute(data_config.split_dir),
             'resize_shorter': data_config.resize_shorter,
             'test_fraction': data_config.test_fraction}
  # The tag sources, only when set: a dataset built without them is the same as before.
  if data_config.tags.clip_from:
    found['tags_clip_from'] = data_config.tags.clip_from
    found['tags_clip_lang'] = data_config.tags.clip_lang
  if data_config.caption.artemis_csv:
    found['artemis_csv'] = absolute(data_config.caption.artemis_csv)
  return found


def load_info(config, workdir: str) -> DatasetInfo:
  """Vocabularies, split sizes and train class counts of the prepared dataset."""
  return info_from_dir(require_prepared(dataset_dir(config, workdir)))


def info_from_dir(path: str) -> DatasetInfo:
  """DatasetInfo read from a dataset folder's JSON files (no TFDS import)."""
  meta = read_metadata(path)
  with open(os.path.join(path, 'dataset_info.json'), encoding='utf-8') as f:
    splits = json.load(f)['splits']
  num_examples = {s['name']: sum(int(n) for n in s.get('shardLengths', []))
                  for s in splits}
  counts = meta['class_counts'].get('train', {})
  return DatasetInfo(
      vocab=metadata.Vocabularies(**meta['vocab']), num_examples=num_examples,
      class_counts={task: np.asarray(c['counts'], np.int64)
                    for task, c in counts.items()},
      artist23=list(meta.get('artist23', [])), path=path)
