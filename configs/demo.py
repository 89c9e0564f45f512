"""The CPU default: synthetic WikiArt-like paintings and a tiny ViT.

`make demo` runs this: it renders the embedded dataset into the workdir, builds
the TFDS dataset from it through the same ArtGAN reader as real data, trains the
three heads for a few minutes on a laptop CPU, evaluates and describes.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # pylint: disable=g-import-not-at-top


def get_config(runlocal: str = ''):
  """Returns the demo config; `demo.py:tiny` makes it smaller still (for tests)."""
  config = common.get_config()
  config.data.source = 'synthetic'
  config.data.resize_shorter = 40
  config.data.image_size = 32
  config.data.batch_size = 64
  config.data.eval_batch_size = 128
  config.data.synthetic.images_per_style = 60
  config.data.synthetic.image_size = 48

  config.model.variant = 'tiny'
  config.model.dtype = 'float32'  # bf16 is slow on most CPUs

  config.train.num_steps = 1500
  config.train.warmup_steps = 100
  config.train.learning_rate = 1e-3
  config.train.weight_decay = 1e-4
  config.train.log_every = 100
  config.train.eval_every = 500

  if runlocal == 'tiny':  # a seconds-long run for tests
    config.data.synthetic.images_per_style = 6
    config.data.batch_size = 16
    config.data.eval_batch_size = 32
    config.train.num_steps = 6
    config.train.warmup_steps = 2
    config.train.log_every = 2
    config.train.eval_every = 3
  return config
