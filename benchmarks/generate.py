"""Greedy decoding speed: our jitted KV-cache loop against transformers' generate().

Both sides run the same randomly initialised model (built from a config, saved
with save_pretrained, converted with wikiart_jax.convert: no hub), the same
prompts, batch and number of new tokens (EOS disabled, so every row decodes the
full length), timed by benchmarks/harness.py (interleaved, medians, load):

    python benchmarks/generate.py [--models=gpt2-small,git-base] [--batches=1,8] \
        [--prompt=16] [--new_tokens=32] [--repeats=5] [--profile]

GPT-2 reads a prompt of `--prompt` random tokens; GIT reads a random 224 px image
and its BOS token (the image tower runs inside the timed call on both sides, as
when describing). The tokens of both sides must be equal (exit 1 otherwise; on a
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
    else:
      ref = transformers.GitForCausalLM(transformers.GitConfig(**fields))
      size = ref.config.vision_config.image_size
      self.ids = np.full((batch, 1), ref.config.bos_token_id)
      self.images = rng.normal(size=(batch, size, size, 3)).astype(np.float32)
    with tempfile.TemporaryDirectory() as folder:
      ref.save_pretrained(folder)
      load = convert_gpt2.load_gpt2 if self.family == 'gpt2' else convert_git.load_git
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
    with torch.inference_mode():
      out = self.ref.generate(
          self.torch_ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
          eos_token_id=None, pad_token_id=0, **extra)
      self.out['theirs'] = out[:, self.ids.shape[1]:].cpu().numpy()
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
               + (f', prompt {_PROMPT.value}' if pair.family == 'gpt2'
                  else f', {pair.images.shape[1]} px image')
               + f'; jax {jax.__version__} on {device}, torch {torch.__version__}')
      harness.report(result, title)
      same = np.array_equal(pair.out['ours'], pair.out['theirs'])
      share = np.mean(pair.out['ours'] == pair.out['theirs'])
      print(f'  same tokens: {same} ({share:.1%} of tokens equal)')
      if not same and not on_gpu:
        failed.append(f'{name} batch {batch}')
      if _PROFILE.value:
        print('\n'.join(profile(pair, new, _REPEATS.value)), flush=True)
      del pair
  if failed:
    raise SystemExit(f'error: the tokens differ from transformers for {", ".join(failed)}')


if __name__ == '__main__':
  app.run(main)
