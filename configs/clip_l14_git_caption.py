"""GIT-large on WikiArt: its CLIP ViT-L/14 image tower with the three heads, and its
text decoder writing the description, trained together on one 24 GB GPU.

  python launch.py --config configs/clip_l14_git_caption.py --workdir runs/git_l14 \
      --config.data.raw_dir=<wikiart folder>
  ... --config.mode=bench            # speed and peak memory of the train step

Both the backbone and the decoder start from `microsoft/git-large` (GIT's image
tower is a CLIP ViT-L/14 that normalises every token, and its decoder reads all
257 of them); the heads start fresh. GIT's BERT tokenizer lower-cases and strips
accents, so it cannot write "Nymphéas" or "œuvre": the captions use a cased
byte-level BPE built from the descriptions in the workdir (about 5,800 tokens on
the full WikiArt vocabulary), and the decoder's word embeddings and LM head are
resized to it, each new row the mean of GIT's rows for the pieces GIT's tokenizer
cuts the same text into (convert/vocab_resize.py).
About 395M float32 parameters (304M tower, 91M decoder): weights, gradients and
Adam's moments (the first in bfloat16) take about 5.5 GB. The batch of 64 runs as
8 micro-batches of 8: XLA's buffer assignment of this step on CPU needs 3.7 GiB
of inputs (state, batch) and 12.8 GiB of temporaries at 8 against 21.9 GiB at 16
(CPU figures: the GPU build fuses attention and keeps bf16, so its figure
differs; the CPU figure does not shrink with `model.remat`, so remat is left for
the GPU to show). Peak GPU memory: not yet measured; `mode=bench` prints it.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # pylint: disable=g-import-not-at-top

GIT = 'hf:microsoft/git-large'


def get_config():
  """Returns the CLIP-L/14 + GIT captioning config."""
  config = common.get_config()
  config.init_from = GIT  # the image tower only (git.image_encoder.*)

  # GIT-large's image tower, spelt out so a random init (bench, tests) matches it.
  config.model.variant = 'L/14'  # 24 blocks, width 1024, 257 tokens at 224 px
  config.model.layer_norm_eps = 1e-5
  config.model.activation = 'quick_gelu'
  config.model.pre_layernorm = True
  config.model.patch_bias = False
  config.model.final_norm = 'all'  # GIT's decoder reads every normalised token
  config.model.dtype = 'bfloat16'  # compute; parameters stay float32

  config.model.captioner = 'git'
  dec = config.model.caption_decoder
  dec.init_from = GIT  # config.json decides the sizes below when it is read
  dec.hidden_size = 768
  dec.num_layers = 6
  dec.num_heads = 12
  dec.mlp_dim = 3072
  dec.max_positions = 1024
  dec.dropout = 0.1
  dec.image_tokens = 'all'
  config.data.caption.tokenizer = ''  # a cased BPE of the descriptions, not GIT's uncased BERT
  config.data.caption.vocab_size = 8192  # an upper bound: the descriptions hold ~5,800 merges
  config.data.caption.max_len = 48
  config.bench.caption_vocab_size = 5789  # that BPE on all WikiArt artists, for bench offline
  config.bench.torch = False  # timm has no captioner to compare with: memory is the figure

  config.data.image_size = 224
  config.data.batch_size = 64  # global batch per optimizer step
  config.train.grad_accum_steps = 8  # micro-batches of 8: activation memory scales with these
  config.train.adam_mu_dtype = 'bfloat16'
  config.train.learning_rate = 1e-4
  config.train.backbone_learning_rate = 1e-5
  config.train.stages = '0:heads, 2000:last8'  # heads and decoder first, then 8 blocks
  config.train.fsdp = 1
  return config
