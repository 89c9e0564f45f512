"""Test-wide set-up (absl flags parsed for grain, quiet TF, offline, one JIT cache), the
launch helpers and the session fixtures, shared by the pytest-xdist workers."""

import contextlib
import fcntl
import os
import shutil
import sys
import tempfile

# Test modules of the same name in two folders (tests/models/test_clip.py and
# tests/convert/test_clip.py) load under their package path (--import-mode=importlib),
# so this file is `tests.conftest`; `from conftest import ...` must find this module,
# not load a second copy.
sys.modules.setdefault('conftest', sys.modules[__name__])

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
os.environ.setdefault('HF_HUB_OFFLINE', '1')

# One persistent compilation cache for the session, shared by the xdist workers and
# every launch.py subprocess (they inherit the environment): the tiny models compile
# the same programs over and over (a tiny training run: 43 s of CPU cold, 23 s warm).
# Every compile is kept, however quick. A cache the caller set is used as it is.
_OWN_JIT_CACHE = None
if 'JAX_COMPILATION_CACHE_DIR' not in os.environ:
  _OWN_JIT_CACHE = tempfile.mkdtemp(prefix='wikiart-jax-jit-cache-')
  os.environ['JAX_COMPILATION_CACHE_DIR'] = _OWN_JIT_CACHE
  os.environ.setdefault('JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS', '0')
  os.environ.setdefault('JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES', '-1')

# The suite compiles a thousand small programs, each run a few times: LLVM at -O0
# compiles them about a third faster, and every result stays within its tolerance
# (XLA's own graph optimisations still run). The launches get it too (subprocess_env).
TEST_XLA_FLAGS = os.environ.get('WIKIART_TEST_XLA_FLAGS', '--xla_backend_optimization_level=0')
os.environ.setdefault('XLA_FLAGS', TEST_XLA_FLAGS)

import json  # pylint: disable=g-import-not-at-top
import subprocess

import numpy as np  # pylint: disable=g-import-not-at-top
import pytest
from absl import flags  # pylint: disable=g-import-not-at-top

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'configs'))

if not flags.FLAGS.is_parsed():
  flags.FLAGS.mark_as_parsed()

# The real split files sit beside the project (../shared); tests skip without them.
SHARED_META = os.path.join(os.path.dirname(ROOT), 'shared', 'wikiart-meta')

TINY_CONFIG = 'configs/demo.py:tiny'
TINY = [f'--config={os.path.join(ROOT, "configs", "demo.py")}:tiny']


# The environment as the session started, before any test ran: what a test imports
# writes to os.environ (TensorFlow, which tensorboard's event reader loads, sets
# TF2_BEHAVIOR and TPU_ML_PLATFORM; wandb.init sets WANDB_SERVICE), and a launch must not
# depend on which tests ran before it on the same worker.
_SESSION_ENV = dict(os.environ)


def subprocess_env() -> dict:
  """The environment for launch.py subprocesses: the session's (not what earlier tests
  left in os.environ), one CPU device, the suite's XLA flags, quiet, offline."""
  env = dict(_SESSION_ENV, GRADIO_ANALYTICS_ENABLED='False', TF_CPP_MIN_LOG_LEVEL='3',
             PYTHONUNBUFFERED='1')
  env['XLA_FLAGS'] = TEST_XLA_FLAGS  # one CPU device, as on a user's laptop
  env.pop('PYTEST_CURRENT_TEST', None)  # changes with every test
  return env


class _Zygote:
  """This worker's tests/launch_zygote.py: launch.py runs forked from a process that
  has already imported the libraries (about 5 s of CPU saved a launch)."""

  def __init__(self):
    self.proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, 'tests', 'launch_zygote.py'), ROOT],
        cwd=ROOT, env=subprocess_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    self._read()  # {'ready': True}, once the imports are done

  def _read(self, timeout=None) -> dict:
    import select  # pylint: disable=g-import-not-at-top
    if timeout is not None and not select.select([self.proc.stdout], [], [], timeout)[0]:
      raise subprocess.TimeoutExpired('launch.py', timeout)
    line = self.proc.stdout.readline()
    if not line:
      raise RuntimeError(f'tests/launch_zygote.py ended ({self.proc.wait()})')
    return json.loads(line)

  def run(self, cmd, timeout) -> subprocess.CompletedProcess:
    """`subprocess.run(cmd, capture_output=True, text=True, timeout=...)` for launch.py."""
    with tempfile.TemporaryDirectory(prefix='wikiart-launch-') as tmp:
      out, err = os.path.join(tmp, 'stdout'), os.path.join(tmp, 'stderr')
      self.proc.stdin.write(json.dumps({'argv': cmd[1:], 'cwd': ROOT, 'stdout': out,
                                        'stderr': err}) + '\n')
      self.proc.stdin.flush()
      pid = self._read()['pid']
      try:
        status = self._read(timeout)['status']
      except subprocess.TimeoutExpired:
        os.kill(pid, 9)  # as subprocess.run does, then the zygote reaps it
        self._read()
        raise
      with open(out, encoding='utf-8') as f_out, open(err, encoding='utf-8') as f_err:
        return subprocess.CompletedProcess(cmd, os.waitstatus_to_exitcode(status),
                                           f_out.read(), f_err.read())

  def start(self, cmd) -> 'ForkedLaunch':
    """Forks `cmd` (launch.py ...) and returns at once, its output discarded; the zygote
    serves nothing else until the returned launch has been waited for."""
    self.proc.stdin.write(json.dumps({'argv': cmd[1:], 'cwd': ROOT, 'stdout': os.devnull,
                                      'stderr': os.devnull}) + '\n')
    self.proc.stdin.flush()
    return ForkedLaunch(self, self._read()['pid'])

  def close(self):
    self.proc.stdin.close()
    self.proc.wait()


class ForkedLaunch:
  """The part of `subprocess.Popen` the tests use, for a launch forked by the zygote."""

  def __init__(self, zygote: _Zygote, pid: int):
    self._zygote, self.pid, self.returncode = zygote, pid, None

  def poll(self) -> int | None:
    """The exit code once the launch has ended (the zygote has reaped it), else None."""
    if self.returncode is None:
      try:
        status = self._zygote._read(timeout=0)['status']  # pylint: disable=protected-access
      except subprocess.TimeoutExpired:
        return None
      self.returncode = os.waitstatus_to_exitcode(status)
    return self.returncode

  def send_signal(self, sig: int) -> None:
    if self.returncode is None:
      os.kill(self.pid, sig)

  def wait(self) -> int:
    if self.returncode is None:
      status = self._zygote._read()['status']  # pylint: disable=protected-access
      self.returncode = os.waitstatus_to_exitcode(status)
    return self.returncode


_zygote = None


def run_launch_py(cmd, timeout) -> subprocess.CompletedProcess:
  """Runs `cmd` (python launch.py ..., or a script that runs it: tests/crash_worker.py)
  in subprocess_env(), forked from this worker's zygote (a plain subprocess with
  WIKIART_TEST_PLAIN_LAUNCH set)."""
  global _zygote
  if os.environ.get('WIKIART_TEST_PLAIN_LAUNCH'):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env=subprocess_env(), check=False)
  if _zygote is None or _zygote.proc.poll() is not None:
    _zygote = _Zygote()
  return _zygote.run(cmd, timeout)


def start_launch(workdir, *overrides, config=TINY):
  """Starts launch.py as `launch` does and returns at once, its output discarded: a
  `subprocess.Popen` or, forked from the zygote, a ForkedLaunch (poll, send_signal, wait).
  Wait for it before the next launch on this worker."""
  global _zygote
  cmd = [sys.executable, os.path.join(ROOT, 'launch.py'), *config, f'--workdir={workdir}',
         *overrides]
  if os.environ.get('WIKIART_TEST_PLAIN_LAUNCH'):
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=subprocess_env())
  if _zygote is None or _zygote.proc.poll() is not None:
    _zygote = _Zygote()
  return _zygote.start(cmd)


def launch(workdir, *overrides, check=True, timeout=600, config=TINY):
  """Runs launch.py in a new process; returns the CompletedProcess."""
  cmd = [sys.executable, os.path.join(ROOT, 'launch.py'), *config,
         f'--workdir={workdir}', *overrides]
  proc = run_launch_py(cmd, timeout)
  if check and proc.returncode != 0:
    raise AssertionError(f'{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}')
  return proc


def read_metrics(workdir):
  """The run's metrics.json."""
  with open(os.path.join(workdir, 'metrics.json'), encoding='utf-8') as f:
    return json.load(f)


def read_tensorboard(workdir):
  """{tag: [(step, value)]} of every scalar in the workdir's event files."""
  import glob  # pylint: disable=g-import-not-at-top
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  from tensorboard.util import tensor_util  # pylint: disable=g-import-not-at-top
  out = {}
  for path in glob.glob(os.path.join(workdir, 'events.out.tfevents.*')):
    acc = event_accumulator.EventAccumulator(path, size_guidance={'tensors': 0, 'scalars': 0})
    acc.Reload()
    for tag in acc.Tags()['scalars']:  # simple values (tensorboardX)
      out.setdefault(tag, []).extend((e.step, float(e.value)) for e in acc.Scalars(tag))
    for tag in acc.Tags()['tensors']:  # TF2 summaries (runs written before tensorboardX)
      for event in acc.Tensors(tag):
        value = tensor_util.make_ndarray(event.tensor_proto)
        if value.dtype.kind == 'f':  # scalars; texts and images are tensors too
          out.setdefault(tag, []).append((event.step, float(value)))
  return out


def params_at(workdir, step):
  """The parameters saved at `step`, as {path: numpy array}."""
  return params_at_steps(workdir, [step])[0]


def params_at_steps(workdir, steps):
  """params_at for each of `steps` (the model built once)."""
  import jax  # pylint: disable=g-import-not-at-top
  from wikiart_jax import checkpointing  # pylint: disable=g-import-not-at-top
  from wikiart_jax import factory  # pylint: disable=g-import-not-at-top
  from wikiart_jax.data import metadata  # pylint: disable=g-import-not-at-top
  from wikiart_jax.parallel import sharding  # pylint: disable=g-import-not-at-top
  from wikiart_jax.train import stages  # pylint: disable=g-import-not-at-top
  import demo  # pylint: disable=g-import-not-at-top
  vocab = metadata.Vocabularies.from_json(os.path.join(workdir, 'vocab.json'))
  model = factory.build_model(demo.get_config('tiny'), vocab)
  mesh = sharding.make_mesh()
  out = []
  for step in steps:
    params = checkpointing.restore_params_into(workdir, model, mesh, step)[0].params
    out.append({stages.path_name(p): np.asarray(v)
                for p, v in jax.tree_util.tree_flatten_with_path(params)[0]})
  return out


def randomize(module, seed=0, scale=0.5):
  """Replaces every parameter of an NNX module with noise (heads start at zero, which hides mistakes)."""
  import jax  # pylint: disable=g-import-not-at-top
  from flax import nnx  # pylint: disable=g-import-not-at-top
  state = nnx.state(module, nnx.Param)
  leaves, treedef = jax.tree.flatten(state)
  keys = jax.random.split(jax.random.key(seed), len(leaves))
  noisy = [scale * jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)]
  nnx.update(module, jax.tree.unflatten(treedef, noisy))


# pytest-xdist's --dist loadfile hands each worker whole files, by default those with
# the most tests first, so the files that launch training runs (few tests, most of the
# seconds) came last and one worker finished them alone. These go first, the longest
# first (the Makefile passes --no-loadscope-reorder to keep this order); the rest
# follow in collection order. The seconds are each file's in a 2-core run of the suite
# (2026-12-06); a stale list only costs balance, never a test.
LONGEST_FILES = (
    'tests/train/test_loop.py',  # 154 s
    'tests/test_launch_blip2.py',  # 62 s
    'tests/models/test_captioner.py',  # 35 s
    'tests/data/test_sources_end_to_end.py',  # 31 s
    'tests/apps/test_bench.py',  # 26 s
    'tests/inference/test_generate.py',  # 24 s
    'tests/inference/test_generate_blip2.py',  # 21 s
    'tests/train/test_trainer.py',  # 20 s
    'tests/models/test_vit.py',  # 20 s
    'tests/apps/test_evaluate.py',  # 20 s
)


def pytest_collection_modifyitems(config, items):  # pylint: disable=unused-argument
  """Puts LONGEST_FILES' tests first, in that order; keeps every file's own order."""
  rank = {os.path.join(ROOT, name): i for i, name in enumerate(LONGEST_FILES)}
  items.sort(key=lambda item: rank.get(str(item.path), len(rank)))  # stable


def pytest_unconfigure(config):  # pylint: disable=unused-argument
  """Ends this worker's zygote; removes the session's JIT cache (in the process that
  made it: the controller)."""
  if _zygote is not None:
    _zygote.close()
  if _OWN_JIT_CACHE:
    shutil.rmtree(_OWN_JIT_CACHE, ignore_errors=True)


@contextlib.contextmanager
def _built_once(tmp_path_factory, name: str):
  """Yields (folder, done) for a session fixture's output, built by one xdist worker.

  Without xdist the folder is the session's; with it, all workers share one folder
  beside their own, and a lock makes the others wait for the first to finish. The
  builder writes `folder`, then the marker is written.
  """
  root = tmp_path_factory.getbasetemp()
  if os.environ.get('PYTEST_XDIST_WORKER'):
    root = root.parent  # every worker's basetemp sits in the session's
  folder = root / name
  with open(root / f'{name}.lock', 'w', encoding='utf-8') as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
      yield folder, (root / f'{name}.done').exists()
      (root / f'{name}.done').touch()
    finally:
      fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope='session')
def trained_workdir(tmp_path_factory) -> str:
  """A workdir trained once per session with `configs/demo.py:tiny` (6 steps), drawing
  its confusion matrices and class-count charts (the report shows both).

  Its training output is in `<workdir>/train.log`. Tests may read it, evaluate
  it, predict and serve from it; they must not train it further.
  """
  with _built_once(tmp_path_factory, 'trained_workdir') as (workdir, done):
    if not done:
      proc = run_launch_py(
          [sys.executable, 'launch.py', '--config', TINY_CONFIG, '--workdir', str(workdir),
           '--config.eval.confusion_figures=True', '--config.data.class_count_charts=True'],
          timeout=900)
      if proc.returncode:
        pytest.fail(f'tiny training failed ({proc.returncode}):\n{proc.stderr[-3000:]}')
      (workdir / 'train.log').write_text(proc.stdout)
  return str(workdir)


def png_header(width: int, height: int) -> bytes:
  """A valid PNG whose header claims width x height pixels (no pixel data needed)."""
  import struct  # pylint: disable=g-import-not-at-top
  import zlib  # pylint: disable=g-import-not-at-top

  def chunk(kind, data):
    return (struct.pack('>I', len(data)) + kind + data
            + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
  return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
          + chunk(b'IDAT', zlib.compress(b'')) + chunk(b'IEND', b''))


BIG_SIDE = 12_000  # a museum scan: 144M pixels, over the 2**27 refused before big scans were decoded reduced


@pytest.fixture(scope='session')
def big_scans(tmp_path_factory) -> dict[str, str]:
  """A 12,000 x 12,000 RGB PNG and JPEG (two colour fields), written once per session.

  The PNG is streamed row by row (a few MB, nothing held in memory); the JPEG goes
  through PIL once (half a GB for a second or two).
  """
  with _built_once(tmp_path_factory, 'big_scans') as (folder, done):
    if not done:
      folder.mkdir(exist_ok=True)  # (left by a run that failed half way)
      _write_big_scans(folder)
  return {'png': str(folder / 'scan.png'), 'jpeg': str(folder / 'scan.jpg')}


def _write_big_scans(folder) -> None:
  """Writes big_scans' two files into `folder`."""
  import struct  # pylint: disable=g-import-not-at-top
  import zlib  # pylint: disable=g-import-not-at-top
  from PIL import Image, ImageDraw  # pylint: disable=g-import-not-at-top
  blue, ochre = (30, 60, 160), (200, 180, 40)

  def chunk(kind, data):
    return (struct.pack('>I', len(data)) + kind + data
            + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))

  row = np.empty((BIG_SIDE, 3), np.uint8)
  row[:BIG_SIDE // 2], row[BIG_SIDE // 2:] = blue, ochre
  row = b'\x00' + row.tobytes()  # filter 'none', then the pixels
  compress = zlib.compressobj(1)
  idat = b''.join([compress.compress(row) for _ in range(BIG_SIDE)] + [compress.flush()])
  png = folder / 'scan.png'
  png.write_bytes(b'\x89PNG\r\n\x1a\n'
                  + chunk(b'IHDR', struct.pack('>IIBBBBB', BIG_SIDE, BIG_SIDE, 8, 2, 0, 0, 0))
                  + chunk(b'IDAT', idat) + chunk(b'IEND', b''))
  image = Image.new('RGB', (BIG_SIDE, BIG_SIDE), ochre)
  ImageDraw.Draw(image).rectangle((0, 0, BIG_SIDE // 2 - 1, BIG_SIDE), fill=blue)
  jpeg = folder / 'scan.jpg'
  image.save(jpeg, quality=80)
  del image


def assert_causal(model, vocab_size):
  """A decoder's logits at a position depend on no later token (changed from 4 on)."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  ids = jax.random.randint(jax.random.key(0), (2, 6), 0, vocab_size)
  changed = ids.at[:, 4:].set((ids[:, 4:] + 1) % vocab_size)
  full, _ = model(ids)
  other, _ = model(changed)
  assert full.shape == (2, 6, vocab_size) and full.dtype == jnp.float32
  np.testing.assert_array_equal(full[:, :4], other[:, :4])
  assert not np.allclose(full[:, 4:], other[:, 4:])
