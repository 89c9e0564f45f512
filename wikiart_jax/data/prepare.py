"""`prepare`: raw WikiArt (or the synthetic set) -> the TFDS `wikiart` dataset, once.

    prepare(config, workdir) -> dataset dir   builds unless it is there, then reuses it

Renders the synthetic tree first when `data.source='synthetic'`, gathers the
content-tag targets (data/tag_targets.py: the synthetic set's exact labels, CLIP
scores when `data.tags.clip_from` is set, ArtEmis mentions when
`data.caption.artemis_csv` is), runs the TFDS builder (data/builder.py) into
`data/dataset.dataset_dir`, refuses to reuse a dataset built from other raw data
or settings, and writes the report and class-count charts beside it
(data/reports.py), the report last.

Crash-safe: one process builds at a time (a lock on `data.tfds_dir` naming it);
the synthetic tree, the tfds folder and the report each appear whole or not at
all. A build killed at any point leaves leftovers that `prepare` (called with
`finish=True`, as `--config.mode=prepare` does) removes before building again, to
the same records in the same order and the same report; training refuses them,
saying how to finish.

CLIP scoring is resumable (data/tag_scores.py keeps finished chunks under
`<tfds_dir>/tag_scores/`, which no clean-up touches). The CLIP model comes from
the caller (`make_tag_scorer`, inference/clip_tags.py): the data layer does not
build models.
"""

import contextlib
import hashlib
import json
import os
import shutil
import tempfile

from wikiart_jax import locking
from wikiart_jax.data import dataset
from wikiart_jax.data import reports
from wikiart_jax.data import tag_targets

# The seeded split (used when there are no split files) must not move when an
# experiment changes its shuffle seed, so it has its own constant.
SPLIT_SEED = 0


@contextlib.contextmanager
def _scratch_tempdir():
  """`tempfile`'s folder is a private one, removed on exit, for the block.

  A tfds builder made before its dataset exists (`DatasetInfo.initialize_from_bucket`)
  makes an empty /tmp/tmp*tfds folder for bucket metadata, and never removes it.
  """
  previous = tempfile.tempdir
  with tempfile.TemporaryDirectory(prefix='wikiart-tfds-') as scratch:
    tempfile.tempdir = scratch
    try:
      yield
    finally:
      tempfile.tempdir = previous


def _make_builder(config, workdir: str, tags=None):
  # Imported here: the builder pulls in tensorflow_datasets' writer, which the
  # GPU image lacks; reading a prepared dataset never needs it.
  from wikiart_jax.data import builder  # pylint: disable=g-import-not-at-top
  data = config.data
  with _scratch_tempdir():
    return builder.Wikiart(
        raw_dir=dataset.raw_dir(data, workdir), split_dir=data.split_dir,
        resize_shorter=data.resize_shorter, val_fraction=data.val_fraction,
        test_fraction=data.test_fraction, seed=SPLIT_SEED,
        provenance=dataset.provenance(data, workdir), max_pixels=data.max_image_pixels,
        config=dataset.BUILDER_CONFIG[data.source], data_dir=dataset.tfds_dir(data, workdir),
        file_format='array_record', tag_targets=tags)


def _records(config, workdir: str, *, with_images: bool = False):
  """The raw dataset's records, in the builder's order (with image bytes for parquet)."""
  from wikiart_jax.data import builder  # pylint: disable=g-import-not-at-top
  from wikiart_jax.data import hf_parquet  # pylint: disable=g-import-not-at-top
  data = config.data
  raw = dataset.raw_dir(data, workdir)
  if with_images and data.source == 'hf_parquet':
    return hf_parquet.read_hf_parquet(raw, val_fraction=data.val_fraction, seed=SPLIT_SEED,
                                      test_fraction=data.test_fraction)
  return builder.read_records(dataset.BUILDER_CONFIG[data.source], raw, data.split_dir,
                              val_fraction=data.val_fraction, seed=SPLIT_SEED,
                              test_fraction=data.test_fraction)[0]


def scores_dir(config, workdir: str, fingerprint: dict) -> str:
  """Where the CLIP tag scores of this raw data by this scorer are kept."""
  key = json.dumps({'data': dataset.provenance(config.data, workdir), 'scorer': fingerprint},
                   sort_keys=True, ensure_ascii=False)
  digest = hashlib.sha1(key.encode('utf-8')).hexdigest()[:16]
  return os.path.join(dataset.tfds_dir(config.data, workdir), 'tag_scores', digest)


def gather_tag_targets(config, workdir: str, make_tag_scorer=None) -> dict:
  """key -> (target, mask) of every image some tag source covers (data/tag_targets.py).

  Args:
    config: the run's config (data.source, data.tags, data.caption.artemis_csv).
    workdir: the run's folder.
    make_tag_scorer: `config.data.tags` -> a tag scorer (inference/clip_tags.py's
      `from_config`); needed when data.tags.clip_from is set.
  """
  data = config.data
  labels = scores = mentions = None
  if data.source == 'synthetic':
    labels = tag_targets.read_labels(
        os.path.join(dataset.raw_dir(data, workdir), tag_targets.LABELS_FILE))
  if data.tags.clip_from:
    if make_tag_scorer is None:
      raise ValueError('data.tags.clip_from is set but no CLIP tag scorer was given: run '
                       'prepare through launch.py')
    scorer = make_tag_scorer(data.tags)  # loads CLIP: fails here, before any image is read
    from wikiart_jax.data import tag_scores  # pylint: disable=g-import-not-at-top
    total = len(_records(config, workdir))
    scores = tag_scores.score_records(
        _records(config, workdir, with_images=True), total, scorer,
        scores_dir(config, workdir, scorer.fingerprint), batch_size=data.tags.clip_batch_size,
        chunk_size=data.tags.clip_chunk_size)
  if data.caption.artemis_csv:
    from wikiart_jax.text import references  # pylint: disable=g-import-not-at-top
    mentions = tag_targets.artemis_mentions(references.load_artemis(data.caption.artemis_csv))
  if labels is None and scores is None and mentions is None:
    return {}
  keys = (labels or {}).keys() | (scores or {}).keys() | (mentions or {}).keys()
  return tag_targets.assemble(sorted(keys), labels=labels, scores=scores, mentions=mentions)


def _render_synthetic(config, workdir: str) -> None:
  """Renders the synthetic ArtGAN tree unless it is complete (same bytes every time)."""
  out = dataset.raw_dir(config.data, workdir)
  from wikiart_jax.data import synthetic  # pylint: disable=g-import-not-at-top
  if os.path.exists(os.path.join(out, synthetic.COMPLETE_FILE)):
    return
  syn = config.data.synthetic
  synthetic.render_dataset(out, images_per_style=syn.images_per_style,
                           image_size=syn.image_size, seed=syn.seed,
                           val_fraction=syn.val_fraction)


def _unfinished_render(config, workdir: str) -> list[str]:
  """The synthetic tree, when a render stopped before writing its split files."""
  if config.data.source != 'synthetic':
    return []
  out = dataset.raw_dir(config.data, workdir)
  from wikiart_jax.data import synthetic  # pylint: disable=g-import-not-at-top
  started = os.path.isdir(out) and os.listdir(out)
  return [out] if started and not os.path.exists(os.path.join(out, synthetic.COMPLETE_FILE)) else []


def prepare(config, workdir: str, *, finish: bool = False, make_tag_scorer=None) -> str:
  """Builds the dataset for config.data unless it is there; returns its folder.

  Args:
    config: the run's config (config.data says what to build, and where).
    workdir: the run's folder (default home of the dataset and synthetic tree).
    finish: finish what an interrupted build left (as `--config.mode=prepare`
      does); otherwise such leftovers are an error saying how to finish them.
    make_tag_scorer: `config.data.tags` -> a CLIP tag scorer (inference/clip_tags.py's
      `from_config`), called only when a build needs CLIP tag scores.

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
        _build(config, workdir, path, finish, make_tag_scorer)
        return path
  _check_reusable(config, workdir, path)
  return path


def _build(config, workdir: str, path: str, finish: bool, make_tag_scorer) -> None:
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
    tags = gather_tag_targets(config, workdir, make_tag_scorer)
    _make_builder(config, workdir, tags).download_and_prepare()
  reports.write_reports(path, charts=config.data.get('class_count_charts', True))


def _check_reusable(config, workdir: str, path: str) -> None:
  built = dataset.read_metadata(path).get('build', {}).get('provenance', {})
  wanted = dataset.provenance(config.data, workdir)
  differ = {k: (built.get(k), v) for k, v in wanted.items() if built.get(k) != v}
  if differ:
    detail = ', '.join(f'{k} {old!r} != {new!r}' for k, (old, new) in differ.items())
    raise ValueError(f'{path} was built from other settings ({detail}): set '
                     'config.data.tfds_dir to a new folder or delete it')
