"""Train-step speed and peak memory of the 24 GB configs: JAX vs the same-size timm ViT.

Runs `launch.py --config.mode=bench` once per config, each in its own process
(JAX keeps the GPU memory it reserved until its process ends), and prints, per
config, the harness's report of the per-step times (benchmarks/harness.py:
median / min / max of each side, ratio of medians, machine, load before and
after; the two sides run one after the other inside bench, see apps/bench.py),
then one summary row per config. Extra arguments go to every run, e.g.
`--config.bench.steps=50 --config.train.fsdp=8`.

    python benchmarks/train_step.py [--workdir=/tmp/bench] [--configs=...] \
        [-- --config.<key>=<value> ...]

The default configs are every file in configs/ but the shared defaults and the
CPU demo: the configs meant for one 24 GB GPU.
"""

import glob
import json
import os
import subprocess
import sys

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import harness  # pylint: disable=g-import-not-at-top,wrong-import-position

CONFIGS = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, 'configs', '*.py'))
                 if os.path.basename(p) not in ('common.py', 'demo.py'))

_WORKDIR = flags.DEFINE_string('workdir', '/tmp/bench', 'one sub-folder per config')
_CONFIGS = flags.DEFINE_list('configs', CONFIGS, 'config files to benchmark')


def _cell(value, spec: str, scale: float = 1.0) -> str:
  return 'n/a' if value is None else format(value / scale, spec)


def bench_one(config: str, overrides: list[str]) -> dict:
  """Runs one config's bench; its output streams through; returns its figures."""
  workdir = os.path.join(_WORKDIR.value, os.path.splitext(os.path.basename(config))[0])
  cmd = [sys.executable, os.path.join(ROOT, 'launch.py'), '--config', config,
         '--workdir', workdir, '--config.mode=bench', *overrides]
  load_before = os.getloadavg()[0]
  proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
  load_after = os.getloadavg()[0]
  print(proc.stdout, end='', flush=True)
  if proc.returncode:
    raise SystemExit(f'error: bench of {config} failed (exit {proc.returncode})')
  result = json.loads(proc.stdout.strip().splitlines()[-1])['bench']
  timm = result['torch']
  if 'step_times_ms' in timm:
    comparison = harness.from_times(
        harness.Side('ours (jax.jit train step)',
                     tuple(t / 1e3 for t in result['step_times_ms'])),
        harness.Side(f"timm {timm['timm_model']} (compile={timm['compiled']})",
                     tuple(t / 1e3 for t in timm['step_times_ms'])),
        load_before=load_before, load_after=load_after, work=result['batch_size'],
        unit='images',
        machine_text=(f"{harness.cpu_model()}, {harness.cpu_count()} cores, "
                      f"{result['num_devices']} x {result['device']} (JAX)"))
    harness.report(comparison, f"{config}: train step, batch {result['batch_size']}, "
                               f"{result['dtype']}")
  return result


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
