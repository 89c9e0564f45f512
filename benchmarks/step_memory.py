"""The train step's memory per config and stage, from XLA's buffer assignment (no run).

    python benchmarks/step_memory.py [--configs=configs/a.py,configs/b.py] \
        [--set=train.grad_accum_steps=8,data.batch_size=32] [--scheduler=memory|default]

Compiles each config's real train step on this machine's backend with shapes only
(wikiart_jax/apps/step_memory.py) and prints GiB of arguments (state, batch),
temporaries and their total, per stage of `train.stages`. On a CPU this is an
estimate of the GPU figure, not a measurement of it; `--scheduler=memory` (the
default) orders the step with the CPU's memory-optimised scheduler, `default`
with the CPU's concurrency-first one (apps/step_memory.py says why).
"""

import ast
import importlib.util
import os
import sys

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CONFIGS = ('configs/blip2_opt27b_caption.py', 'configs/blip2_flant5xl_caption.py')
_CONFIGS = flags.DEFINE_list('configs', list(CONFIGS), 'config files to size')
_SET = flags.DEFINE_list('set', [], 'key=value overrides applied to every config')
_SCHEDULER = flags.DEFINE_enum('scheduler', 'memory', ['memory', 'default'],
                               "XLA CPU's instruction scheduler (apps/step_memory.SCHEDULERS)")


def _load(path: str):
  """`get_config()` of a config file (configs/ is importable for its `import common`)."""
  sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
  spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def main(argv):
  del argv
  import jax  # pylint: disable=g-import-not-at-top
  from wikiart_jax.apps import step_memory  # pylint: disable=g-import-not-at-top
  overrides = {}
  for item in _SET.value:
    key, _, value = item.partition('=')
    try:
      overrides[key] = ast.literal_eval(value)
    except (ValueError, SyntaxError):
      overrides[key] = value  # a bare string
  gib = 2.0 ** 30
  print(f'XLA buffer assignment on {jax.devices()[0].platform} (jax {jax.__version__}), '
        f'{_SCHEDULER.value} scheduler, overrides {overrides or "none"}')
  for path in _CONFIGS.value:
    config = _load(path)
    config.update_from_flattened_dict(overrides)
    for row in step_memory.xla_memory(config, _SCHEDULER.value):
      print(f"{os.path.basename(path):32} {row['stage'][:44]:44} arguments "
            f"{row['arguments'] / gib:6.2f} GiB, temporaries {row['temporaries'] / gib:6.2f} "
            f"GiB, total {row['total'] / gib:6.2f} GiB", flush=True)


if __name__ == '__main__':
  app.run(main)
