"""Test-wide set-up: absl flags parsed (grain's multiprocessing needs it), quiet TF."""

import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
os.environ.setdefault('HF_HUB_OFFLINE', '1')

from absl import flags  # pylint: disable=g-import-not-at-top

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'configs'))

if not flags.FLAGS.is_parsed():
  flags.FLAGS.mark_as_parsed()

# The real split files sit beside the project (../shared); tests skip without them.
SHARED_META = os.path.join(os.path.dirname(ROOT), 'shared', 'wikiart-meta')
