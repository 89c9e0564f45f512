"""Greedy decoding speed: our jitted KV-cache loop against transformers' generate().

Both sides run the same randomly initialised model (built from a config, saved
with save_pretrained, converted with wikiart_jax.convert: no hub), the same
prompts, batch and number of new tokens (EOS disabled, so every row decodes the
full length), timed by benchmarks/harness.py (interleaved, medians, load):

    python benchmarks/generate.py [--models=gpt2-small,git-base] [--batches=1,8] \
        [--prompt=16] [--new_tokens=32] [--repeats=5] [--profile]
    python benchmarks/generate.py --models=blip2-opt-small,blip2-t5-small --prompt=8

GPT-2 reads a prompt of `--prompt` random tokens; GIT reads a random 224 px image
and its BOS token (the image tower runs inside the timed call on both sides, as
when describing). BLIP-2 (Blip2ForConditionalGeneration, OPT or Flan-T5) reads a
random 224 px image and a prompt of `--prompt` random tokens (OPT: after BOS; T5:
then EOS, the encoder's input): its image tower, Q-Former and the language model
all run inside the timed call. `blip2-*-small` are reduced widths for a CPU;
`blip2-opt-2.7b` and `blip2-flan-t5-xl` are the released sizes (a GPU's work).
The tokens of both sides must be equal (exit 1 otherwise; on a
GPU, where both may use TF32, a difference is only reported).

`--profile` also splits our time into compilation, prefill and the per-token
step, and sets the per-token step against reading the decoder's weights once
(a jitted reduction over them: the memory-bandwidth floor of a step), and
transformers' bare forward per token against its generate() per token.
"""

import os
import sys
import tempfile
import time

from absl import app
from absl import flags
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import harness  # pylint: disable=g-import-not-at-top,wrong-import-position

_GIT_TINY_VISION = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                        intermediate_size=48, image_size=32, patch_size=8)
# name -> (family, transformers config fields); GitConfig()'s defaults are git-base's sizes.
MODELS = {
    'gpt2-tiny': ('gpt2', dict(n_embd=128, n_layer=2, n_head=4, vocab_size=1000,
                               n_positions=256, bos_token_id=1, eos_token_id=2)),
    'gpt2-small': ('gpt2', dict(n_embd=768, n_layer=12, n_head=12, vocab_size=50257,
                                n_positions=1024)),
    'git-tiny': ('git', dict(vision_config=_GIT_TINY_VISION, hidden_size=64,
                             num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                             vocab_size=1000, max_position_embeddings=128)),
    'git-base': ('git', {}),
}


def _blip2(text: dict, vision: dict | None = None, qformer: dict | None = None) -> tuple:
  """A BLIP-2 entry: EVA ViT-g and the released Q-Former unless reduced."""
  return ('blip2', dict(vision_config=vision or {}, qformer_config=qformer or {},
                        text_config=text, num_query_tokens=32,
                        image_token_index=text['vocab_size'] - 1))


# Reduced widths (224 px, 14 px patches: 256 image tokens, 32 queries) with the real
# vocabularies and special tokens, for a CPU.
_BLIP2_SMALL_VISION = dict(hidden_size=256, intermediate_size=1024, num_hidden_layers=4,
                           num_attention_heads=4, image_size=224, patch_size=14)
_BLIP2_SMALL_QFORMER = dict(hidden_size=256, intermediate_size=1024, num_hidden_layers=2,
                            num_attention_heads=4, cross_attention_frequency=2)
MODELS.update({
    'blip2-opt-small': _blip2(
        dict(model_type='opt', vocab_size=50304, hidden_size=512, num_hidden_layers=4,
             num_attention_heads=8, ffn_dim=2048, max_position_embeddings=2048,
             word_embed_proj_dim=512, bos_token_id=2, eos_token_id=50118, pad_token_id=1),
        _BLIP2_SMALL_VISION, _BLIP2_SMALL_QFORMER),
    'blip2-t5-small': _blip2(
        dict(model_type='t5', vocab_size=32128, d_model=512, d_kv=64, d_ff=1024, num_layers=4,
             num_heads=8, feed_forward_proj='gated-gelu', tie_word_embeddings=False,
             decoder_start_token_id=0, eos_token_id=1, pad_token_id=0),
        _BLIP2_SMALL_VISION, _BLIP2_SMALL_QFORMER),
    # The released sizes: wikiart_jax.convert.blip2.RELEASED, read when built.
    'blip2-opt-2.7b': ('blip2', 'blip2-opt-2.7b'),
    'blip2-flan-t5-xl': ('blip2', 'blip2-flan-t5-xl'),
})

_MODELS = flags.DEFINE_list('models', ['gpt2-small', 'git-base'], f'any of {sorted(MODELS)}')
_BATCHES = flags.DEFINE_list('batches', ['1', '8'], 'batch sizes')
_PROMPT = flags.DEFINE_integer('prompt', 16, 'prompt tokens (GPT-2; GIT reads BOS)')
_NEW = flags.DEFINE_integer('new_tokens', 32, 'generated tokens per row')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'timed calls of each side')
_PROFILE = flags.DEFINE_bool('profile', False, 'also print where the time goes')


class Pair:
  """Our model and transformers' on the same weights, with their inputs."""

  def __init__(self, name: str, batch: int, device: str):
    import torch  # pylint: disable=g-import-not-at-top
    import transformers  # pylint: disable=g-import-not-at-top
    from wikiart_jax.convert import blip2 as convert_blip2  # pylint: disable=g-import-not-at-top
    from wikiart_jax.convert import git as convert_git  # pylint: disable=g-import-not-at-top
    from wikiart_jax.convert import gpt2 as convert_gpt2  # pylint: disable=g-import-not-at-top
    self.family, fields = MODELS[name]
    self.name, self.batch, self.device = name, batch, device
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if self.family == 'gpt2':
      ref = transformers.GPT2LMHeadModel(transformers.GPT2Config(**fields))
      self.ids = rng.integers(0, ref.config.vocab_size, (batch, _PROMPT.value))
      self.images = None
    elif self.family == 'blip2':
      if isinstance(fields, str):
        fields = _blip2(convert_blip2.RELEASED[fields]['text_config'])[1]
      ref = transformers.Blip2ForConditionalGeneration(transformers.Blip2Config(**fields))
      text = ref.config.text_config
      words = rng.integers(3, text.vocab_size - 100, (batch, _PROMPT.value))
      # BLIP-2's prompts: OPT's [BOS, text]; T5's encoder [text, EOS].
      self.ids = (np.concatenate([np.full((batch, 1), text.bos_token_id), words], 1)
                  if text.model_type == 'opt'
                  else np.concatenate([words, np.full((batch, 1), text.eos_token_id)], 1))
      size = ref.config.vision_config.image_size
      self.images = rng.normal(size=(batch, size, size, 3)).astype(np.float32)
    else:
      ref = transformers.GitForCausalLM(transformers.GitConfig(**fields))
      size = ref.config.vision_config.image_size
      self.ids = np.full((batch, 1), ref.config.bos_token_id)
      self.images = rng.normal(size=(batch, size, size, 3)).astype(np.float32)
    with tempfile.TemporaryDirectory() as folder:
      ref.save_pretrained(folder)
      load = {'gpt2': convert_gpt2.load_gpt2, 'git': convert_git.load_git,
              'blip2': convert_blip2.load_blip2}[self.family]
      self.ours = load(folder)
    from flax import nnx  # pylint: disable=g-import-not-at-top
    self.ours_split = nnx.split(self.ours)
    self.ref = ref.eval().to(device)
    self.torch_ids = torch.tensor(self.ids, device=device)
    self.torch_images = (None if self.images is None else
                         torch.tensor(self.images.transpose(0, 3, 1, 2), device=device))
    self.out = {}

  def run_ours(self, new_tokens: int):
    import jax  # pylint: disable=g-import-not-at-top
    from wikiart_jax.inference import generate as gen  # pylint: disable=g-import-not-at-top
    images = None if self.images is None else jax.numpy.asarray(self.images)
    # Split once, as inference.describer.CaptionWriter does (`profile` prints its cost).
    self.out['ours'] = np.asarray(gen.generate(
        self.ours_split, self.ids, images=images, max_new_tokens=new_tokens, eos_id=-1, pad_id=0))

  def run_theirs(self, new_tokens: int):
    import torch  # pylint: disable=g-import-not-at-top
    # GPT-2: an explicit mask, else transformers masks prompt tokens equal to the pad id.
    extra = ({'attention_mask': torch.ones_like(self.torch_ids)} if self.torch_images is None
             else {'pixel_values': self.torch_images})
    ids = self.torch_ids
    if self.family == 'blip2':  # the query tokens' placeholders before the prompt
      cfg = self.ref.config
      ids = torch.cat([torch.full((ids.shape[0], cfg.num_query_tokens), cfg.image_token_index,
                                  dtype=ids.dtype, device=ids.device), ids], 1)
      extra['attention_mask'] = torch.ones_like(ids)
    with torch.inference_mode():
      # Blip2ForConditionalGeneration.generate() takes pixel_values first.
      out = self.ref.generate(
          **{'input_ids': ids}, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
          eos_token_id=None, pad_token_id=0, **extra)
      # Decoder-only models return the prompt too; T5's decoder starts from its start token.
      t5 = self.family == 'blip2' and self.ref.config.text_config.model_type == 't5'
      self.out['theirs'] = out[:, 1 if t5 else ids.shape[1]:].cpu().numpy()
    if self.device == 'cuda':
      torch.cuda.synchronize()

  def decoder_weights(self) -> list:
    """The arrays one decoding step reads in full: the blocks and the LM head."""
    import jax  # pylint: disable=g-import-not-at-top
    from flax import nnx  # pylint: disable=g-import-not-at-top
    m = self.ours
    if self.family == 'gpt2':
      parts = [m.h, m.ln_f] + ([m.wte] if m.lm_head is None else [m.lm_head])
    else:
      parts = [m.layers, m.output]
    return [x for p in parts for x in jax.tree.leaves(nnx.state(p, nnx.Param))]


def profile(pair: Pair, new_tokens: int, repeats: int) -> list[str]:
  """Where our time goes, and transformers' generate() overhead per token."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top
  from flax import nnx  # pylint: disable=g-import-not-at-top
  start = time.perf_counter()
  pair.run_ours(1)
  compile_one = time.perf_counter() - start
  one = harness.median_seconds(lambda: pair.run_ours(1), repeats)
  full = harness.median_seconds(lambda: pair.run_ours(new_tokens), repeats)
  per_token = (full - one) / (new_tokens - 1)
  split = harness.median_seconds(lambda: nnx.split(pair.ours), repeats)
  weights = pair.decoder_weights()
  nbytes = sum(x.nbytes for x in weights)
  read = jax.jit(lambda ws: sum(jnp.sum(w) for w in ws))
  jax.block_until_ready(read(weights))
  read_s = harness.median_seconds(lambda: jax.block_until_ready(read(weights)), repeats)
  copies = [torch.from_numpy(np.array(w)) for w in weights]
  with torch.inference_mode():
    torch_read_s = harness.median_seconds(lambda: [t.sum() for t in copies], repeats, 1)
  lines = [
      f'  ours: first call (compiles) {compile_one * 1e3:,.0f} ms; prefill + 1 token '
      f'{one * 1e3:.1f} ms; per further token {per_token * 1e3:.2f} ms; '
      f'nnx.split per call {split * 1e3:.2f} ms (done once, outside the timed calls)',
      f'  decoder weights read per token {nbytes / 1e6:,.1f} MB; one read of them: jitted '
      f'{read_s * 1e3:.2f} ms ({nbytes / read_s / 1e9:.1f} GB/s), torch sums '
      f'{torch_read_s * 1e3:.2f} ms ({nbytes / torch_read_s / 1e9:.1f} GB/s); our step is '
      f'{per_token / min(read_s, torch_read_s):.2f}x the faster read',
  ]
  with torch.inference_mode():  # transformers: bare forward steps vs generate()
    extra = {} if pair.torch_images is None else {'pixel_values': pair.torch_images}
    out = pair.ref(pair.torch_ids, use_cache=True, **extra)
    token = out.logits[:, -1:].argmax(-1)

    def steps():
      past = out.past_key_values
      for _ in range(4):
        past = pair.ref(token, past_key_values=past, use_cache=True).past_key_values
    bare = harness.median_seconds(steps, repeats) / 4
  theirs_one = harness.median_seconds(lambda: pair.run_theirs(1), repeats)
  theirs_full = harness.median_seconds(lambda: pair.run_theirs(new_tokens), repeats)
  theirs_token = (theirs_full - theirs_one) / (new_tokens - 1)
  lines.append(f'  transformers: per token in generate() {theirs_token * 1e3:.2f} ms '
               f'({theirs_token / min(read_s, torch_read_s):.2f}x the faster read), bare '
               f'forward with cache {bare * 1e3:.2f} ms, prefill + 1 token '
               f'{theirs_one * 1e3:.1f} ms')
  return lines


def main(argv):
  del argv
  import jax  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top
  on_gpu = jax.default_backend() == 'gpu' and torch.cuda.is_available()
  device = 'cuda' if on_gpu else 'cpu'
  threads = harness.match_threads()
  new = _NEW.value
  failed = []
  for name in _MODELS.value:
    if name not in MODELS:
      raise SystemExit(f'error: --models: {name!r} is not one of {sorted(MODELS)}')
    for batch in map(int, _BATCHES.value):
      pair = Pair(name, batch, device)
      result = harness.compare(
          lambda: pair.run_ours(new), lambda: pair.run_theirs(new),
          ('ours (jax.jit while_loop)', 'transformers generate()'),
          repeats=_REPEATS.value, work=batch * new, unit='tokens', threads=threads)
      title = (f'{name}, batch {batch}, {new} new tokens'
               + (f', prompt {_PROMPT.value}' if pair.family in ('gpt2', 'blip2') else '')
               + ('' if pair.images is None else f', {pair.images.shape[1]} px image')
               + f'; jax {jax.__version__} on {device}, torch {torch.__version__}')
      harness.report(result, title)
      same = np.array_equal(pair.out['ours'], pair.out['theirs'])
      share = np.mean(pair.out['ours'] == pair.out['theirs'])
      print(f'  same tokens: {same} ({share:.1%} of tokens equal)')
      if not same and not on_gpu:
        failed.append(f'{name} batch {batch}')
      if _PROFILE.value and pair.family == 'blip2':
        print('  --profile covers GPT-2 and GIT only')
      elif _PROFILE.value:
        print('\n'.join(profile(pair, new, _REPEATS.value)), flush=True)
      del pair
  if failed:
    raise SystemExit(f'error: the tokens differ from transformers for {", ".join(failed)}')


if __name__ == '__main__':
  app.run(main)
