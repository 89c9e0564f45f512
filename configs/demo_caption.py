"""The demo with a learned captioner: a small GIT-style decoder on the ViT's tokens.

Same synthetic data and tiny ViT as `demo.py`, plus a 2-layer decoder trained with
the heads (teacher forcing on the label-built descriptions, both languages) and
evaluated by generation (BLEU, ROUGE-L, CIDEr-D, and whether the description names
the true style). About 2.5x the cost of `demo.py` per step on a CPU.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import demo  # pylint: disable=g-import-not-at-top


def get_config(runlocal: str = ''):
  """The demo config with `model.captioner='git'`; `demo_caption.py:tiny` for tests."""
  config = demo.get_config(runlocal)
  config.model.captioner = 'git'
  config.model.caption_decoder.hidden_size = 64
  config.model.caption_decoder.num_layers = 2
  config.model.caption_decoder.num_heads = 4
  config.model.caption_decoder.mlp_dim = 128
  config.model.caption_decoder.max_positions = 64  # text positions (GIT)
  config.model.caption_decoder.dropout = 0.0
  config.data.caption.max_len = 40
  return config
