"""`prepare`: raw WikiArt (or the synthetic set) -> the TFDS `wikiart` dataset, once.

    prepare(config, workdir) -> dataset dir   builds unless it is there, then reuses it

Renders the synthetic tree first when `data.source='synthetic'`, runs the TFDS
builder (data/builder.py) into `data/dataset.dataset_dir`, refuses to reuse a
dataset built from other raw data or settings, and writes the report and
class-count charts beside it (data/reports.py).
"""

import os

from wikiart_jax.data import dataset
from wikiart_jax.data import reports

# The seeded split (used when there are no split files) must not move when an
# experiment changes its shuffle seed, so it has its own constant.
SPLIT_SEED = 0


def _make_builder(config, workdir: str):
  # Imported here: the builder pulls in tensorflow_datasets' writer, which the
  # GPU image lacks; reading a prepared dataset never needs it.
  from wikiart_jax.data import builder  # pylint: disable=g-import-not-at-top
  data = config.data
  return builder.Wikiart(
      raw_dir=dataset.raw_dir(data, workdir), split_dir=data.split_dir,
      resize_shorter=data.resize_shorter, val_fraction=data.val_fraction,
      test_fraction=data.test_fraction, seed=SPLIT_SEED, provenance=dataset.provenance(data, workdir),
      config=dataset.BUILDER_CONFIG[data.source], data_dir=dataset.tfds_dir(data, workdir),
      file_format='array_record')


def _render_synthetic(config, workdir: str) -> None:
  """Renders the synthetic ArtGAN tree unless its split files are there."""
  out = dataset.raw_dir(config.data, workdir)
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
  path = dataset.dataset_dir(config, workdir)
  if not dataset.is_prepared(path):
    if config.data.source == 'synthetic':
      _render_synthetic(config, workdir)
    _make_builder(config, workdir).download_and_prepare()
  else:
    _check_reusable(config, workdir, path)
  if not os.path.exists(os.path.join(path, dataset.REPORT)):
    reports.write_reports(path)
  return path


def _check_reusable(config, workdir: str, path: str) -> None:
  built = dataset.read_metadata(path).get('build', {}).get('provenance', {})
  wanted = dataset.provenance(config.data, workdir)
  differ = {k: (built.get(k), v) for k, v in wanted.items() if built.get(k) != v}
  if differ:
    detail = ', '.join(f'{k} {old!r} != {new!r}' for k, (old, new) in differ.items())
    raise ValueError(f'{path} was built from other settings ({detail}): set '
                     'config.data.tfds_dir to a new folder or delete it')
