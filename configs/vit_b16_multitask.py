"""ViT-B/16 (ImageNet-21k) fine-tuned on WikiArt style + artist + genre, on one 24 GB GPU.

  python launch.py --config configs/vit_b16_multitask.py --workdir runs/b16 \
      --config.data.raw_dir=<wikiart folder>
  ... --config.mode=bench            # speed of the train step (benchmarks/train_step.py)
  ... --config.train.fsdp=8          # 8 GPUs sharing parameters and Adam state

86M float32 parameters: weights, gradients and Adam's two moments are 4 x 0.35 GB.
The batch of 128 runs as 2 micro-batches of 64: XLA's buffer assignment of this
step on CPU needs 1.0 GiB of inputs (state, batch) and 15.8 GiB of temporaries
at 64 against 29.9 GiB at 128 (CPU figures: the GPU build fuses attention and
keeps bf16, so its figure differs). Peak GPU memory: not yet measured;
`mode=bench` prints it. With room to spare, `--config.train.grad_accum_steps=1`
may be faster (one larger micro-batch).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # pylint: disable=g-import-not-at-top


def get_config():
  """Returns the B/16 multi-task config."""
  config = common.get_config()
  config.init_from = 'hf:google/vit-base-patch16-224-in21k'  # HF ViT, ImageNet-21k

  config.model.variant = 'B/16'  # 86M parameters, 197 tokens at 224 px
  config.model.layer_norm_eps = 1e-12  # Hugging Face ViT's
  config.model.activation = 'gelu'  # exact GELU, as HF ViT
  config.model.final_norm = 'all'  # LayerNorm on every token; pooled = CLS
  config.model.dtype = 'bfloat16'  # compute; parameters and Adam stay float32

  config.data.image_size = 224
  config.data.batch_size = 128  # global batch per optimizer step
  config.train.grad_accum_steps = 2  # micro-batches of 64: activation memory scales with these
  config.train.fsdp = 1  # one GPU: nothing to shard
  common.use_the_plan_recipe(config)
  return config
