"""The benchmark scripts run (tiny sizes), report through the harness, never import TF,
and benchmarks/gpu_bench.sh only passes flags they define."""

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

# Runs a script as __main__, then says whether TensorFlow was imported (absent on GPUs).
_RUNNER = """
import runpy, sys
sys.argv = {argv!r}
try:
  runpy.run_path(sys.argv[0], run_name='__main__')
finally:
  print('TF imported:', 'tensorflow' in sys.modules, flush=True)
"""


def run_script(script: str, *args: str, timeout: int = 600) -> str:
  argv = [os.path.join(ROOT, script), *args]
  env = dict(os.environ, JAX_PLATFORMS='cpu', PYTHONUNBUFFERED='1')
  env.pop('XLA_FLAGS', None)
  proc = subprocess.run([sys.executable, '-c', _RUNNER.format(argv=argv)], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=timeout, check=False)
  assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
  assert 'TF imported: False' in proc.stdout
  return proc.stdout


def _reports(out: str) -> list[dict]:
  return [json.loads(line) for line in out.splitlines() if line.startswith('{"title"')]


@pytest.mark.slow
def test_generate_benchmark_reports_both_sides_and_equal_tokens():
  out = run_script('benchmarks/generate.py', '--models=gpt2-tiny', '--batches=2',
                   '--new_tokens=4', '--prompt=4', '--repeats=1')
  (report,) = _reports(out)
  assert report['unit'] == 'tokens' and report['work'] == 8
  assert report['first']['label'].startswith('ours') and report['ratio'] > 0
  assert 'ratio of medians' in out and 'load average' in out
  assert 'same tokens: True' in out


@pytest.mark.slow
def test_predict_benchmark_reports_both_sides_and_agreeing_probabilities():
  out = run_script('benchmarks/predict.py', '--models=demo', '--batches=2', '--repeats=1')
  (report,) = _reports(out)
  assert report['unit'] == 'images' and report['work'] == 2
  diff = float(re.search(r'max \|probability difference\| on these inputs: (\S+)', out)[1])
  assert diff < 1e-4  # the same weights: the comparison times the same work


def _gpu_bench_commands() -> list[list[str]]:
  """The Python benchmark commands of gpu_bench.sh, continuation lines joined."""
  with open(os.path.join(ROOT, 'benchmarks', 'gpu_bench.sh'), encoding='utf-8') as f:
    text = f.read().replace('\\\n', ' ')
  commands = []
  for line in text.splitlines():
    match = re.search(r'python3 (benchmarks/\S+\.py.*)$', line)
    if match:
      words = [w.strip("'\"") for w in match[1].split() if w != '"$@"']
      commands.append(words)
  return commands


def test_gpu_bench_is_valid_bash_and_passes_only_defined_flags():
  subprocess.run(['bash', '-n', os.path.join(ROOT, 'benchmarks', 'gpu_bench.sh')], check=True)
  commands = _gpu_bench_commands()
  scripts = {c[0] for c in commands}
  assert scripts == {'benchmarks/train_step.py', 'benchmarks/generate.py',
                     'benchmarks/predict.py'}
  checks = []
  for script, *args in commands:
    split = args.index('--') if '--' in args else len(args)
    ours, overrides = args[:split], args[split + 1:]
    checks.append([os.path.join(ROOT, script), *ours])
    # train_step.py hands what follows '--' to launch.py: a misspelt key fails there.
    for arg in ours:
      if arg.startswith('--configs='):
        for config in arg.split('=', 1)[1].split(','):
          checks.append([os.path.join(ROOT, 'launch.py'), f'--config={config}',
                         '--workdir=/tmp/unused', '--config.mode=bench', *overrides])
  assert len(checks) > len(commands)
  for argv in checks:
    proc = subprocess.run([sys.executable, *argv, '--only_check_args'], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, (argv, proc.stderr[-2000:])


@pytest.mark.slow
def test_train_step_benchmark_reports_the_per_step_spread(tmp_path):
  out = run_script('benchmarks/train_step.py', f'--workdir={tmp_path}',
                   '--configs=configs/demo.py:tiny', '--', '--config.bench.steps=3',
                   '--config.bench.warmup_steps=1', '--config.bench.torch_compile=False',
                   '--config.model.num_layers=1')
  bench = json.loads([line for line in out.splitlines() if line.startswith('{"bench"')][-1])
  assert len(bench['bench']['step_times_ms']) == 3
  if 'skipped' in bench['bench']['torch']:  # no timm here: no baseline to compare with
    assert not _reports(out) and 'timm baseline: skipped' in out
  else:
    (report,) = _reports(out)
    assert len(report['first']['times_s']) == 3 and len(report['second']['times_s']) == 3
    assert not report['interleaved'] and 'ran one after the other' in out
