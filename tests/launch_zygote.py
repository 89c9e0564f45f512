"""A warm `python launch.py` for the tests: imports once, then forks one child per launch.

A tiny launch.py run spends about 5 s of its ~18 s of CPU importing jax, flax, orbax,
grain, matplotlib and scikit-learn, and the suite makes dozens of them. This process
(one per pytest worker) imports those libraries and our package once, before any JAX
backend exists, and then serves requests on stdin: for each one it forks, and the child
runs `launch.py` as `python launch.py` would (`runpy` as `__main__`, its own argv, cwd and
stdout / stderr files, a normal interpreter exit with atexit handlers and thread joins).
The child is a fresh process as far as JAX, absl flags and the workdir are concerned;
only the imports are inherited.

Protocol, one JSON object a line: request {"argv", "cwd", "stdout", "stderr"}; replies
{"pid"} right after the fork, then {"status"} (os.waitpid's) when the child ends.
"""

import json
import os
import sys
import threading

# What a launch imports, loaded before forking. Nothing here may start a thread or a
# JAX backend: a fork keeps only the forking thread (checked below).
_PRELOAD = (
    'jax', 'jax.numpy', 'flax.nnx', 'optax', 'orbax.checkpoint', 'grain', 'tensorboard',
    'matplotlib.figure', 'matplotlib.backends.backend_agg', 'sklearn.metrics', 'PIL.Image',
    'tqdm', 'ml_collections.config_flags', 'absl.app',
    'wikiart_jax.train.loop', 'wikiart_jax.apps.evaluate', 'wikiart_jax.apps.predict',
    'wikiart_jax.apps.embed',
    # transformers' lazy module loads on first attribute (torch with it): about 3 s of
    # every launch with a captioner or a Hugging Face checkpoint.
    'transformers:AutoTokenizer', 'transformers:PreTrainedTokenizerFast', 'tokenizers',
)


def _preload(root: str) -> None:
  """Imports _PRELOAD ('module' or 'module:attribute'); refuses to serve if that
  started a thread or a JAX backend."""
  import importlib  # pylint: disable=g-import-not-at-top
  sys.path.insert(0, root)
  for name in _PRELOAD:
    module, _, attribute = name.partition(':')
    loaded = importlib.import_module(module)
    if attribute:
      getattr(loaded, attribute)
  sys.path.remove(root)  # launch.py puts its own folder on the path, as `python launch.py`
  from jax._src import xla_bridge  # pylint: disable=g-import-not-at-top
  if threading.active_count() != 1 or xla_bridge.backends_are_initialized():
    raise RuntimeError('the preloaded imports started a thread or a JAX backend: '
                       'forking would not give a clean process')


def _child(request: dict) -> None:
  """In the forked child: becomes `python launch.py <argv>` (never returns normally)."""
  import runpy  # pylint: disable=g-import-not-at-top
  devnull = os.open(os.devnull, os.O_RDONLY)
  os.dup2(devnull, 0)
  for fd, path in ((1, request['stdout']), (2, request['stderr'])):
    out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, fd)
    os.close(out)
  os.chdir(request['cwd'])
  sys.argv = list(request['argv'])
  sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
  # The interpreter exits through SystemExit (absl's app.run ends with one) or an
  # uncaught exception, exactly as `python launch.py` would.
  runpy.run_path(sys.argv[0], run_name='__main__')


def main() -> int:
  _preload(sys.argv[1])
  reply = os.fdopen(os.dup(1), 'w', buffering=1)
  sys.stdout.flush()
  print(json.dumps({'ready': True}), file=reply)
  for line in sys.stdin:
    request = json.loads(line)
    reply.flush()
    pid = os.fork()
    if pid == 0:
      sys.stdin = open(os.devnull, encoding='utf-8')  # the request pipe is the zygote's
      reply.close()
      _child(request)
      return 0  # a launch.py that returned without SystemExit
    print(json.dumps({'pid': pid}), file=reply)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({'status': status}), file=reply)
  return 0


if __name__ == '__main__':
  sys.exit(main())
