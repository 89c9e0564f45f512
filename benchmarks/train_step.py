"""Train-step speed of the 24 GB configs: JAX vs the same-size timm ViT.

Runs `launch.py --config.mode=bench` once per config, each in its own process
(JAX keeps the GPU memory it reserved until its process ends), and prints one
row per config from the JSON line each run ends with. Extra arguments go to
every run, e.g. `--config.bench.steps=50 --config.train.fsdp=8`.

    python benchmarks/train_step.py [--workdir=/tmp/bench] [-- --config.<key>=<value> ...]
"""

import json
import os
import subprocess
import sys

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = ('configs/vit_b16_multitask.py', 'configs/vit_l14_clip_multitask.py',
           'configs/clip_l14_git_caption.py')

_WORKDIR = flags.DEFINE_string('workdir', '/tmp/bench', 'one sub-folder per config')
_CONFIGS = flags.DEFINE_list('configs', list(CONFIGS), 'config files to benchmark')


def _cell(value, spec: str, scale: float = 1.0) -> str:
  return 'n/a' if value is None else format(value / scale, spec)


def bench_one(config: str, overrides: list[str]) -> dict:
  """Runs one config's bench; its output streams through; returns its figures."""
  workdir = os.path.join(_WORKDIR.value, os.path.splitext(os.path.basename(config))[0])
  cmd = [sys.executable, os.path.join(ROOT, 'launch.py'), '--config', config,
         '--workdir', workdir, '--config.mode=bench', *overrides]
  proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
  print(proc.stdout, end='', flush=True)
  if proc.returncode:
    raise SystemExit(f'error: bench of {config} failed (exit {proc.returncode})')
  return json.loads(proc.stdout.strip().splitlines()[-1])['bench']


def main(argv):
  results = {config: bench_one(config, argv[1:]) for config in _CONFIGS.value}
  print(f"\n{'config':34} {'images/s':>9} {'MFU':>6} {'peak GiB':>9} "
        f"{'timm img/s':>10} {'JAX/timm':>8}")
  for config, r in results.items():
    torch = r['torch']
    print(f"{os.path.basename(config):34} {r['images_per_s']:9.1f} "
          f"{_cell(r['mfu'], '.1%'):>6} {_cell(r['peak_memory_bytes'], '.2f', 2**30):>9} "
          f"{_cell(torch.get('images_per_s'), '.1f'):>10} "
          f"{_cell(r['jax_over_torch'], '.2f'):>8}")


if __name__ == '__main__':
  app.run(main)
