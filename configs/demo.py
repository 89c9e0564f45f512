"""The CPU default: synthetic WikiArt-like paintings, a tiny ViT and a tiny captioner.

`make demo` runs this: it renders the embedded dataset into the workdir, builds
the TFDS dataset from it through the same ArtGAN reader as real data, trains the
three heads and a 2-layer GIT-style caption decoder together for a few minutes on
a laptop CPU, evaluates (classification and generated descriptions) and describes.

The decoder reads the backbone's CLS token and the heads' predictions (label
tokens, as Tag2Text): on 2 CPU cores this learns to name the right style within
the demo's budget, where attending to all 65 backbone tokens does not.

`demo.py:tiny` is a seconds-long run without the captioner (most tests);
`demo.py:tiny_caption` is the same with it.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # pylint: disable=g-import-not-at-top


def get_config(runlocal: str = ''):
  """Returns the demo config; `demo.py:tiny` / `:tiny_caption` are for tests."""
  if runlocal not in ('', 'tiny', 'tiny_caption'):
    raise ValueError(f"configs/demo.py takes '', 'tiny' or 'tiny_caption', got {runlocal!r}")
  config = common.get_config()
  config.data.source = 'synthetic'
  config.data.resize_shorter = 40
  config.data.image_size = 32
  config.data.batch_size = 64
  config.data.eval_batch_size = 128
  # 5,400 images, 30 a style held out (15 val, 15 test): a train step costs the same
  # whatever the set's size, and 170 pictures a style keep the five heads from
  # memorising 70 (train style 0.98 against 0.91 held out with 100 a style).
  config.data.synthetic.images_per_style = 200
  config.data.synthetic.val_fraction = 0.15
  config.data.synthetic.image_size = 48

  config.model.variant = 'tiny'
  config.model.dtype = 'float32'  # bf16 is slow on most CPUs

  config.train.num_steps = 1350  # with the prepare, evaluations and predict: within 10 minutes on 2 cores
  config.train.warmup_steps = 100
  config.train.learning_rate = 2e-3
  config.train.weight_decay = 1e-4
  config.train.log_every = 100
  # Once, at the end (then test): each evaluation generates and scores 810 descriptions
  # (~25 s); evaluating does not touch training's randomness, so the result is the
  # same as with a midway one.
  config.train.eval_every = 1350
  # The period's mean term starts near 8 bins (the untrained expected year is the
  # bins' middle, 1712) and its gradient swamps the backbone's early steps at 0.2.
  config.train.lambda_period = 0.05

  # The learned describer: a small GIT-style decoder, trained with the heads.
  config.model.captioner = 'git'
  config.model.caption_decoder.hidden_size = 64
  config.model.caption_decoder.num_layers = 2
  config.model.caption_decoder.num_heads = 4
  config.model.caption_decoder.mlp_dim = 128
  config.model.caption_decoder.max_positions = 64  # text positions (GIT)
  config.model.caption_decoder.dropout = 0.0
  config.model.caption_decoder.image_tokens = 'cls'
  config.model.caption_decoder.label_tokens = True
  # The heads' top-1 rows, not soft mixes: a mix of two close styles made the decoder
  # name the second in 5% of its descriptions (faithful 0.953 val, 0.941 in French).
  # In training their tokens hold the labels' rows (train/step.py content_from_labels).
  config.model.caption_decoder.label_tokens_top1 = True
  # A token per named tag (the composer names at most describe.max_subjects): with one
  # summed tag token the decoder named a tag its token did not hold in 3% of the
  # descriptions (val, en and fr alike), most of the unfaithful ones.
  config.model.caption_decoder.tag_slots = 2
  # How sure the style head is, as a token: "probably" below 0.8 of its own softmax,
  # the two closest styles below 0.7. Limits chosen on val (eval mode on the trained
  # demo; they act only at inference): the true style named en / fr 0.968 / 0.965 at
  # (0.8, 0.6), 0.968 / 0.963 at (0.8, 0.65), 0.975 / 0.970 at (0.8, 0.7), 0.973 / 0.970
  # at (0.85, 0.7). A share of the targets are hedged so that the decoder learns both
  # wordings.
  config.model.caption_decoder.hedge_style_sure = 0.8
  config.model.caption_decoder.hedge_style_probable = 0.7
  config.data.caption.hedge_ratio = 0.5
  # Half the two-style targets pair styles whose names share a word: the head's runner-up
  # is one in a third of its two-style cases (val), a random runner-up one in 17, and the
  # decoder wrote the first name twice ("entre le cubisme synthétique et le cubisme
  # synthétique": 7 of 68 French two-style val texts).
  config.data.caption.close_runner_up = 0.5
  # Each present tag left out of a target and its tag tokens at this rate: the decoder
  # otherwise learns to name what the picture shows, where its tokens (the tag head's
  # choice at inference) say otherwise: 9 of 15 unfaithful English val descriptions
  # and 20 of 28 French named a tag their tokens did not hold ("paysage maritime" for
  # night landscapes).
  config.data.caption.tag_drop = 0.25
  # A tenth of the targets name a random other artist, which the artist token holds:
  # the artist was the most common unfaithful fact left after tag_drop (7 of 15 English
  # val descriptions, 8 of 16 French), a decoder naming the artist the picture suggests.
  config.data.caption.artist_swap = 0.1
  # The same for the style: with the two-style hedge, a decoder read the runner-up for
  # both ("between the Early Renaissance and the Early Renaissance") or named a third.
  config.data.caption.style_swap = 0.1
  config.data.caption.vocab_size = 2048  # every merge of the demo's descriptions (~1,970)
  # The longest target is 55 tokens with that BPE (French; median 33, English 29) plus
  # BOS, language tag and EOS; at 40, 15% of the French targets lost their end.
  config.data.caption.max_len = 60

  if runlocal == 'tiny':
    config.model.captioner = 'none'  # keeps the many test launches short
  if runlocal in ('tiny', 'tiny_caption'):  # a seconds-long run for tests
    config.data.synthetic.images_per_style = 6
    config.data.synthetic.val_fraction = 0.3
    config.data.batch_size = 16
    config.data.eval_batch_size = 32
    config.train.num_steps = 6
    config.train.warmup_steps = 2
    config.train.log_every = 2
    config.train.eval_every = 3
    # Figures cost more than the tiny model's evaluation; the session's trained workdir
    # (tests/conftest.py) and the plots' own tests draw them.
    config.eval.confusion_figures = False
    config.data.class_count_charts = False
  return config
