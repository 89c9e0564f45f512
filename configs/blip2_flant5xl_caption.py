"""BLIP-2 with Flan-T5-XL (`Salesforce/blip2-flan-t5-xl`) as WikiArt's describer, one 24 GB GPU.

  python launch.py --config configs/blip2_flant5xl_caption.py --workdir runs/flant5xl \
      --config.data.raw_dir=<wikiart folder>
  ... --config.mode=predict --config.predict.inputs=<images>   # zero-shot: an empty workdir

The settings are configs/common.py's `use_blip2`: EVA ViT-g as the backbone (the
heads read its pooled output), the Q-Former, projection and heads trained, Flan-T5-XL
frozen in bfloat16 (encoder and decoder: its encoder reads the query outputs and the prompt); the plan's stages. README's "BLIP-2" section gives the
switches (LoRA, int8) and the memory figures
(`python benchmarks/step_memory.py --configs=configs/blip2_flant5xl_caption.py`):
its train step in micro-batches of 4, 12.1 / 13.5 GiB in stages 1 / 2 by XLA's buffer
assignment on a CPU (an estimate; the GPU peak is not yet measured).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # pylint: disable=g-import-not-at-top

BLIP2 = 'hf:Salesforce/blip2-flan-t5-xl'


def get_config():
  """Returns the BLIP-2 Flan-T5-XL captioning config."""
  config = common.get_config()
  common.use_blip2(config, BLIP2, 'blip2-flan-t5-xl', tokenizer_size=32101)  # with BLIP-2's <image>
  return config
