"""Greedy decoding speed: our jitted KV-cache loop vs transformers' PyTorch generate().

Both run the same randomly initialised GPT-2 (built from a config, saved with
save_pretrained, converted with wikiart_jax.convert), the same prompts, batch
and number of new tokens (EOS disabled, so every row decodes the full length):

    .venv/bin/python benchmarks/generate.py [--size=tiny|small] [--batch=8] \
        [--prompt=16] [--new_tokens=64] [--repeats=3]

Prints generated tokens/s of each (best of `repeats`, after one warm-up call
that also compiles ours), checks the tokens are equal, and prints the ratio.
"""

import os
import sys
import tempfile
import time

from absl import app
from absl import flags
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_SIZE = flags.DEFINE_enum('size', 'tiny', ['tiny', 'small'],
                          'tiny: 2 layers x 128; small: GPT-2 small (12 x 768, 124M)')
_BATCH = flags.DEFINE_integer('batch', 8, 'prompts per batch')
_PROMPT = flags.DEFINE_integer('prompt', 16, 'prompt tokens')
_NEW = flags.DEFINE_integer('new_tokens', 64, 'generated tokens per prompt')
_REPEATS = flags.DEFINE_integer('repeats', 3, 'timed runs (best kept)')

SIZES = {
    'tiny': dict(n_embd=128, n_layer=2, n_head=4, vocab_size=1000, n_positions=256,
                 bos_token_id=1, eos_token_id=2),
    'small': dict(n_embd=768, n_layer=12, n_head=12, vocab_size=50257, n_positions=1024),
}


def _best_time(fn, repeats: int) -> float:
  fn()  # warm-up (compiles the jitted loop)
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return min(times)


def main(argv):
  del argv
  import jax  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top
  import transformers  # pylint: disable=g-import-not-at-top
  from wikiart_jax.inference import generate as gen  # pylint: disable=g-import-not-at-top
  from wikiart_jax.convert import gpt2 as convert_gpt2  # pylint: disable=g-import-not-at-top

  cfg = SIZES[_SIZE.value]
  torch.manual_seed(0)
  ref = transformers.GPT2LMHeadModel(transformers.GPT2Config(**cfg)).eval()
  with tempfile.TemporaryDirectory() as folder:
    ref.save_pretrained(folder)
    ours = convert_gpt2.load_gpt2(folder)
  batch, new = _BATCH.value, _NEW.value
  ids = np.random.default_rng(0).integers(0, cfg['vocab_size'], (batch, _PROMPT.value))
  torch_ids = torch.tensor(ids)
  mask = torch.ones_like(torch_ids)

  out = {}

  def run_ours():
    out['ours'] = np.asarray(jax.block_until_ready(
        gen.generate(ours, ids, max_new_tokens=new, eos_id=-1, pad_id=0)))

  def run_torch():
    with torch.inference_mode():
      out['torch'] = ref.generate(torch_ids, attention_mask=mask, max_new_tokens=new,
                                  min_new_tokens=new, do_sample=False, eos_token_id=None,
                                  pad_token_id=0).numpy()[:, ids.shape[1]:]

  t_ours = _best_time(run_ours, _REPEATS.value)
  t_torch = _best_time(run_torch, _REPEATS.value)
  same = np.array_equal(out['ours'], out['torch'])
  tokens = batch * new
  print(f'GPT-2 {_SIZE.value}, batch {batch}, prompt {_PROMPT.value}, {new} new tokens, '
        f'jax {jax.__version__} on {jax.devices()[0].platform}, torch {torch.__version__} '
        f'({torch.get_num_threads()} threads)')
  print(f'ours (jax.jit, while_loop, KV cache): {tokens / t_ours:10.1f} tokens/s '
        f'({t_ours * 1e3:.1f} ms)')
  print(f'transformers generate() (PyTorch):    {tokens / t_torch:10.1f} tokens/s '
        f'({t_torch * 1e3:.1f} ms)')
  print(f'ratio ours / transformers: {t_torch / t_ours:.2f}x; same tokens: {same}')
  if not same:
    sys.exit(1)


if __name__ == '__main__':
  app.run(main)
