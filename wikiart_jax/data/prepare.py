"""`prepare`: raw WikiArt (or the synthetic set) -> the TFDS `wikiart` dataset, once.

    prepare(config, workdir) -> dataset dir   builds unless it is there, then reuses it

Renders the synthetic tree first when `data.source='synthetic'`, runs the TFDS
builder (data/builder.py) into `data/dataset.dataset_dir`, refuses to reuse a
dataset built from other raw data or settings, and writes the report and
class-count charts beside it (data/reports.py), the report last.

Crash-safe: one process builds at a time (a lock on `data.tfds_dir` naming it);
the synthetic tree, the tfds folder and the report each appear whole or not at
all. A build killed at any point leaves leftovers that `prepare` (called with
`finish=True`, as `--config.mode=prepare` does) removes before building again, to
the same records in the same order and the same report; training refuses them,
saying how to finish.
"""

import os
import shutil

from wikiart_jax import locking
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
      max_pixels=data.max_image_pixels,
      config=dataset.BUILDER_CONFIG[data.source], data_dir=dataset.tfds_dir(data, workdir),
      file_format='array_record')


def _render_synthetic(config, workdir: str) -> None:
  """Renders the synthetic ArtGAN tree unless it is complete (same bytes every time)."""
  out = dataset.raw_dir(config.data, workdir)
  from wikiart_jax.data import synthetic  # pylint: disable=g-import-not-at-top
  if os.path.exists(os.path.join(out, synthetic.COMPLETE_FILE)):
    return
  syn = config.data.synthetic
  synthetic.render_dataset(out, images_per_style=syn.images_per_style,
                           image_size=syn.image_size, seed=syn.seed)


def _unfinished_render(config, workdir: str) -> list[str]:
  """The synthetic tree, when a render stopped before writing its split files."""
  if config.data.source != 'synthetic':
    return []
  out = dataset.raw_dir(config.data, workdir)
  from wikiart_jax.data import synthetic  # pylint: disable=g-import-not-at-top
  started = os.path.isdir(out) and os.listdir(out)
  return [out] if started and not os.path.exists(os.path.join(out, synthetic.COMPLETE_FILE)) else []


def prepare(config, workdir: str, *, finish: bool = False) -> str:
  """Builds the dataset for config.data unless it is there; returns its folder.

  Args:
    config: the run's config (config.data says what to build, and where).
    workdir: the run's folder (default home of the dataset and synthetic tree).
    finish: finish what an interrupted build left (as `--config.mode=prepare`
      does); otherwise such leftovers are an error saying how to finish them.

  Raises:
    ValueError: a dataset is already in that folder but was built from other
      raw data, synthetic settings or resize_shorter (one line naming them).
    FileNotFoundError: an interrupted build's leftovers, without `finish`.
    LockedError: another process is building in data.tfds_dir (names it).
  """
  path = dataset.dataset_dir(config, workdir)
  if not dataset.is_prepared(path):
    with locking.hold(dataset.tfds_dir(config.data, workdir), 'prepare',
                      advice='it is building the dataset there; wait for it to finish'):
      if not dataset.is_prepared(path):  # unless that process finished it meanwhile
        _build(config, workdir, path, finish)
        return path
  _check_reusable(config, workdir, path)
  return path


def _build(config, workdir: str, path: str, finish: bool) -> None:
  """Builds (or finishes) the dataset in `path`; the caller holds the lock."""
  left = dataset.leftovers(path) + _unfinished_render(config, workdir)
  if left and not finish:
    raise dataset.incomplete_error(path, left)
  if left:
    print(f'finishing an interrupted prepare: {", ".join(left)}', flush=True)
  written = os.path.exists(os.path.join(path, 'dataset_info.json'))
  if written:  # only the report is missing: check it is ours, then write it
    _check_reusable(config, workdir, path)
  for folder in dataset.leftovers(path):
    if not written or folder != path:  # tfds's temporary folders, or a folder it never finished
      shutil.rmtree(folder)
  if config.data.source == 'synthetic':
    _render_synthetic(config, workdir)
  if not written:
    _make_builder(config, workdir).download_and_prepare()
  reports.write_reports(path)


def _check_reusable(config, workdir: str, path: str) -> None:
  built = dataset.read_metadata(path).get('build', {}).get('provenance', {})
  wanted = dataset.provenance(config.data, workdir)
  differ = {k: (built.get(k), v) for k, v in wanted.items() if built.get(k) != v}
  if differ:
    detail = ', '.join(f'{k} {old!r} != {new!r}' for k, (old, new) in differ.items())
    raise ValueError(f'{path} was built from other settings ({detail}): set '
                     'config.data.tfds_dir to a new folder or delete it')
