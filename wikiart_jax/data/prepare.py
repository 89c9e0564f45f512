"""`prepare`: raw WikiArt (or the synthetic set) -> the TFDS `wikiart` dataset.

    prepare(config, workdir) -> dataset dir   builds once, then reuses
    load_info(config, workdir) -> DatasetInfo  vocabularies, sizes, class counts

The dataset sits in `<tfds_dir>/wikiart/<artgan|hf_parquet>/<version>` (tfds_dir
'' = `<workdir>/tfds`). Beside the ArrayRecord files, prepare writes
`prepare_report.json` (counts, skipped files with reasons, split conflicts) and,
per task, `class_counts_<task>.json` and a bar chart `class_counts_<task>.png`.

Nothing here imports TensorFlow at import time: the builder (TFDS writing)
is imported inside `prepare`, so readers on a machine without TF can use
`dataset_dir` and `load_info`.
"""

import dataclasses
import json
import os

import numpy as np

from wikiart_jax.data import metadata

DATASET_NAME = 'wikiart'
DATASET_VERSION = '1.0.0'
# Which builder config reads each data.source; the synthetic set is an ArtGAN tree.
_BUILDER_CONFIG = {'synthetic': 'artgan', 'artgan': 'artgan',
                   'hf_parquet': 'hf_parquet'}
TASKS = ('style', 'artist', 'genre')
REPORT = 'prepare_report.json'
# The seeded split (used when there are no split files) must not move when an
# experiment changes its shuffle seed, so it has its own constant.
SPLIT_SEED = 0


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
  if source not in _BUILDER_CONFIG:
    raise ValueError(f'config.data.source={source!r}: expected one of '
                     f'{sorted(_BUILDER_CONFIG)}')
  return os.path.join(tfds_dir(config.data, workdir), DATASET_NAME,
                      _BUILDER_CONFIG[source], DATASET_VERSION)


def is_prepared(path: str) -> bool:
  # tfds renames the finished folder into place, so dataset_info.json there
  # means a complete build.
  return os.path.exists(os.path.join(path, 'dataset_info.json'))


def _read_metadata(path: str) -> dict:
  with open(os.path.join(path, 'metadata.json'), encoding='utf-8') as f:
    return json.load(f)


def _provenance(data_config, workdir: str) -> dict:
  """What identifies the raw data: the synthetic settings, or the folders."""
  if data_config.source == 'synthetic':
    return {'source': 'synthetic', **data_config.synthetic.to_dict(),
            'resize_shorter': data_config.resize_shorter}
  absolute = lambda p: os.path.abspath(p) if p else ''
  return {'source': data_config.source,
          'raw_dir': absolute(raw_dir(data_config, workdir)),
          'split_dir': absolute(data_config.split_dir),
          'resize_shorter': data_config.resize_shorter}


def _make_builder(config, workdir: str):
  from wikiart_jax.data import builder  # pylint: disable=g-import-not-at-top
  data = config.data
  return builder.Wikiart(
      raw_dir=raw_dir(data, workdir), split_dir=data.split_dir,
      resize_shorter=data.resize_shorter, val_fraction=data.val_fraction,
      seed=SPLIT_SEED, provenance=_provenance(data, workdir),
      config=_BUILDER_CONFIG[data.source], data_dir=tfds_dir(data, workdir),
      file_format='array_record')


def _render_synthetic(config, workdir: str) -> None:
  """Renders the synthetic ArtGAN tree unless its split files are there."""
  out = raw_dir(config.data, workdir)
  if os.path.exists(os.path.join(out, 'style_train.csv')):
    return
  from wikiart_jax.data import synthetic  # pylint: disable=g-import-not-at-top
  syn = config.data.synthetic
  synthetic.render_dataset(out, images_per_style=syn.images_per_style,
                           image_size=syn.image_size, seed=syn.seed)


def prepare(config, workdir: str) -> str:
  """Builds the dataset for config.data unless it is there; returns its folder.

  Raises:
    ValueError: a dataset is already in that folder but was built from other
      raw data, synthetic settings or resize_shorter (one line naming them).
  """
  path = dataset_dir(config, workdir)
  if not is_prepared(path):
    if config.data.source == 'synthetic':
      _render_synthetic(config, workdir)
    builder = _make_builder(config, workdir)
    builder.download_and_prepare()
  else:
    _check_reusable(config, workdir, path)
  if not os.path.exists(os.path.join(path, REPORT)):
    write_reports(path)
  return path


def _check_reusable(config, workdir: str, path: str) -> None:
  built = _read_metadata(path).get('build', {}).get('provenance', {})
  wanted = _provenance(config.data, workdir)
  differ = {k: (built.get(k), v) for k, v in wanted.items() if built.get(k) != v}
  if differ:
    detail = ', '.join(f'{k} {old!r} != {new!r}' for k, (old, new) in differ.items())
    raise ValueError(f'{path} was built from other settings ({detail}): set '
                     'config.data.tfds_dir to a new folder or delete it')


def load_info(config, workdir: str) -> DatasetInfo:
  """Vocabularies, split sizes and train class counts of the prepared dataset."""
  path = dataset_dir(config, workdir)
  if not is_prepared(path):
    raise FileNotFoundError(f'no prepared dataset in {path}: run with '
                            '--config.mode=prepare first')
  return info_from_dir(path)


def info_from_dir(path: str) -> DatasetInfo:
  """DatasetInfo read from a dataset folder's JSON files (no TFDS import)."""
  meta = _read_metadata(path)
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


def write_reports(path: str) -> dict:
  """Writes prepare_report.json and the per-task class-count JSON + PNG."""
  info = info_from_dir(path)
  meta = _read_metadata(path)
  skipped = meta.get('skipped', [])
  report = {
      'dataset_dir': path,
      'build': meta.get('build', {}),
      'num_examples': info.num_examples,
      'num_classes': {**info.vocab.num_classes, 'artist23': len(info.artist23)},
      'num_skipped': len(skipped),
      'skipped': skipped,
      'split_report': meta.get('split_report', {}),
  }
  with open(os.path.join(path, REPORT), 'w', encoding='utf-8') as f:
    json.dump(report, f, ensure_ascii=False, indent=1)
  names = {'style': info.vocab.style, 'artist': info.vocab.artist,
           'genre': info.vocab.genre, 'artist23': info.artist23}
  for task, names_ in names.items():
    per_split = {s: c[task] for s, c in meta['class_counts'].items() if task in c}
    table = {split: {'missing': c['missing'],
                     'counts': dict(zip(names_, c['counts']))}
             for split, c in per_split.items()}
    with open(os.path.join(path, f'class_counts_{task}.json'), 'w',
              encoding='utf-8') as f:
      json.dump(table, f, ensure_ascii=False, indent=1)
    if names_:
      _bar_chart(os.path.join(path, f'class_counts_{task}.png'), task, names_,
                 per_split)
  return report


def _bar_chart(file: str, task: str, names: list[str], per_split: dict) -> None:
  """Stacked train/val bars per class, largest first."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  counts = {s: np.asarray(c['counts']) for s, c in per_split.items()}
  order = np.argsort(-sum(counts.values()), kind='stable')
  many = len(names) > 60  # 1,119 artists: bars only, no tick labels
  fig, ax = plt.subplots(figsize=(12 if many else max(6, 0.35 * len(names)), 4.5))
  bottom = np.zeros(len(names))
  for split, c in counts.items():
    ax.bar(np.arange(len(names)), c[order], bottom=bottom, label=split,
           width=1.0 if many else 0.8)
    bottom += c[order]
  if not many:
    ax.set_xticks(np.arange(len(names)),
                  [names[i] for i in order], rotation=75, ha='right', fontsize=7)
  ax.set_ylabel('images')
  ax.set_title(f'WikiArt {task}: images per class ({len(names)} classes)')
  ax.legend()
  fig.tight_layout()
  fig.savefig(file, dpi=100)
  plt.close(fig)
