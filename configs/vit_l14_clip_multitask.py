"""CLIP ViT-L/14 vision tower fine-tuned on WikiArt style + artist + genre, one 24 GB GPU.

  python launch.py --config configs/vit_l14_clip_multitask.py --workdir runs/l14 \
      --config.data.raw_dir=<wikiart folder>
  ... --config.mode=bench            # speed of the train step (benchmarks/train_step.py)

304M float32 parameters: weights, gradients and Adam's two moments are 4 x 1.2 GB
(the first moment in bfloat16 saves 0.6 GB). The batch of 128 runs as 8
micro-batches of 16: XLA's buffer assignment of this step on CPU needs 2.9 GiB
of inputs (state, batch) and 16.9 GiB of temporaries at 16 against 30.0 GiB at
32 (CPU figures: the GPU build fuses attention and keeps bf16, so its figure
differs). Peak GPU memory: not yet measured; `mode=bench` prints it. With room
to spare, `--config.train.grad_accum_steps=4` may be faster.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # pylint: disable=g-import-not-at-top


def get_config():
  """Returns the L/14 multi-task config."""
  config = common.get_config()
  config.init_from = 'hf:openai/clip-vit-large-patch14'  # CLIP's vision tower only

  # The CLIP vision architecture, spelt out so a random init (bench, tests) matches it.
  config.model.variant = 'L/14'  # 24 blocks, width 1024, 257 tokens at 224 px
  config.model.layer_norm_eps = 1e-5
  config.model.activation = 'quick_gelu'
  config.model.pre_layernorm = True  # CLIP's pre_layrnorm before the blocks
  config.model.patch_bias = False
  config.model.final_norm = 'cls'  # post-LayerNorm on the CLS token only
  config.model.dtype = 'bfloat16'  # compute; parameters stay float32

  config.data.image_size = 224
  config.data.batch_size = 128  # global batch per optimizer step
  config.train.grad_accum_steps = 8  # micro-batches of 16: activation memory scales with these
  config.train.adam_mu_dtype = 'bfloat16'  # halves Adam's first moment (1.2 -> 0.6 GB)
  config.train.fsdp = 1  # one GPU: nothing to shard
  common.use_the_plan_recipe(config)
  return config
