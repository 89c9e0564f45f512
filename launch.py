"""The one entry point: `python launch.py --config configs/<x>.py --workdir <dir>`.

`config.mode` picks train (default) | eval | predict | serve | bench | prepare | embed.
A bad input or config ends with a one-line error and a non-zero exit code.
"""

import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging
from ml_collections import config_flags

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file('config', None, 'Experiment config file.',
                                lock_config=True)
flags.DEFINE_string('workdir', None, 'Directory for checkpoints, summaries and metrics.')
flags.mark_flags_as_required(['config', 'workdir'])

MODES = ('train', 'eval', 'predict', 'serve', 'bench', 'prepare', 'embed')


def run(config, workdir: str) -> int:
  """Dispatches on config.mode; returns the process exit code."""
  if config.mode not in MODES:
    raise ValueError(f'config.mode={config.mode!r}: expected one of {", ".join(MODES)}')
  from wikiart_jax.parallel import distributed  # pylint: disable=g-import-not-at-top
  distributed.initialize(config)  # before any device is touched; no-op for one process
  if config.mode == 'train':
    from wikiart_jax.train import loop  # pylint: disable=g-import-not-at-top
    loop.train_and_evaluate(config, workdir)
  elif config.mode == 'eval':
    from wikiart_jax.apps import evaluate  # pylint: disable=g-import-not-at-top
    evaluate.evaluate(config, workdir)
  elif config.mode == 'prepare':
    from wikiart_jax.train import loop  # pylint: disable=g-import-not-at-top
    # Finishes what an interrupted prepare left (train would refuse it); scores the
    # tags with CLIP when data.tags.clip_from is set.
    print(f'dataset ready in {loop.prepare_once(config, workdir, finish=True).path}')
  elif config.mode in ('predict', 'embed'):
    from wikiart_jax.apps import embed  # pylint: disable=g-import-not-at-top
    from wikiart_jax.apps import predict  # pylint: disable=g-import-not-at-top
    run = predict.predict if config.mode == 'predict' else embed.embed
    failures = run(config, workdir)  # both go on past unreadable files, then count them
    if failures:
      print(f'error: {failures} input file(s) could not be read (listed above)',
            file=sys.stderr)
      return 1
  elif config.mode == 'bench':
    from wikiart_jax.apps import bench  # pylint: disable=g-import-not-at-top
    bench.run(config, workdir)
  elif config.mode == 'serve':
    from wikiart_jax.apps.serve import server  # pylint: disable=g-import-not-at-top
    server.serve(config, workdir)
  else:
    raise NotImplementedError(f'config.mode={config.mode} is not built yet')
  return 0


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {" ".join(argv[1:])}')
  # Orbax and grain are chatty at INFO; our own progress goes to the console.
  if not FLAGS['verbosity'].present:
    logging.set_verbosity(logging.WARNING)
  from wikiart_jax import core  # pylint: disable=g-import-not-at-top
  # CheckpointError and ImageError are ValueErrors; named for the reader.
  expected = (ValueError, FileNotFoundError, KeyError, core.ImageError, core.CheckpointError,
              core.TrainingDivergedError, core.LockedError, NotImplementedError)
  try:
    code = run(FLAGS.config, FLAGS.workdir)
  except expected as e:  # one line, naming the culprit; no traceback to wade through
    message = str(e).splitlines()[0] if str(e) else type(e).__name__
    print(f'error: {message}', file=sys.stderr)
    code = 1
  sys.exit(code)


if __name__ == '__main__':
  app.run(main)
