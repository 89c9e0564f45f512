"""BLIP-2 with Flan-T5-XL (`Salesforce/blip2-flan-t5-xl`) as WikiArt's describer, one 24 GB GPU.

  python launch.py --config configs/blip2_flant5xl_caption.py --workdir runs/blip2_t5 \
      --config.data.raw_dir=<wikiart folder>
  ... --config.mode=predict --config.predict.inputs=<images>   # zero-shot: an empty workdir

BLIP-2's EVA ViT-g (1.0B parameters, float32) is the backbone: the style / artist /
genre heads read its pooled output and the Q-Former its tokens. The Q-Former, the
projection and the heads train (AdamW, first moment in bfloat16); Flan-T5-XL
(encoder and decoder, 2.9B) is frozen in bfloat16 (no gradient, no optimizer
state); its encoder reads the query outputs and the prompt, its decoder writes.
The stages are the plan's: the image tower frozen for 5 epochs, then its last 4 blocks at 1e-5. The prompt
names the heads' top-1 labels ("Style: ... Artist: ... Genre: ... Description en
français :", text/prompts.py). Options: `--config.model.caption_decoder.lora_rank=8`
(LoRA on T5's attention, qwix), `--config.model.caption_decoder.int8=True` (T5's
weights in int8, qwix).

Memory, as XLA's buffer assignment of this train step compiled on a CPU
(`python benchmarks/step_memory.py --configs=configs/blip2_flant5xl_caption.py`): see
the README's table; an estimate, the GPU peak is not yet measured (`mode=bench`).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # pylint: disable=g-import-not-at-top

BLIP2 = 'hf:Salesforce/blip2-flan-t5-xl'


def get_config():
  """Returns the BLIP-2 Flan-T5-XL captioning config."""
  config = common.get_config()
  common.use_blip2(config, BLIP2, 'blip2-flan-t5-xl')
  config.model.dtype = 'bfloat16'  # compute; the trained parameters stay float32
  config.model.remat = 'full'  # the tower's unfrozen blocks in stage 2
  config.data.caption.max_len = 96  # prompt (~30 tokens) and description
  config.bench.caption_vocab_size = 32101  # T5's tokenizer and BLIP-2's <image>, offline
  config.bench.torch = False  # timm has no captioner to compare with

  config.data.batch_size = 32  # global batch per optimizer step
  config.train.grad_accum_steps = 4  # micro-batches of 8
  config.train.adam_mu_dtype = 'bfloat16'
  common.use_the_plan_recipe(config)
  return config
