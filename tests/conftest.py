"""Test-wide set-up (absl flags parsed for grain, quiet TF, offline) and the launch helpers."""

import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
os.environ.setdefault('HF_HUB_OFFLINE', '1')

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


def subprocess_env() -> dict:
  """The environment for launch.py subprocesses: one CPU device, quiet, offline."""
  env = dict(os.environ, GRADIO_ANALYTICS_ENABLED='False', TF_CPP_MIN_LOG_LEVEL='3',
             PYTHONUNBUFFERED='1')
  env.pop('XLA_FLAGS', None)  # one CPU device, as on a user's laptop
  return env


def launch(workdir, *overrides, check=True, timeout=600, config=TINY):
  """Runs launch.py in a subprocess; returns the CompletedProcess."""
  cmd = [sys.executable, os.path.join(ROOT, 'launch.py'), *config,
         f'--workdir={workdir}', *overrides]
  proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                        env=subprocess_env())
  if check and proc.returncode != 0:
    raise AssertionError(f'{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}')
  return proc


def read_metrics(workdir):
  """The run's metrics.json."""
  with open(os.path.join(workdir, 'metrics.json'), encoding='utf-8') as f:
    return json.load(f)


def params_at(workdir, step):
  """The parameters saved at `step`, as {path: numpy array}."""
  import jax  # pylint: disable=g-import-not-at-top
  from wikiart_jax import checkpointing  # pylint: disable=g-import-not-at-top
  from wikiart_jax import factory  # pylint: disable=g-import-not-at-top
  from wikiart_jax.data import metadata  # pylint: disable=g-import-not-at-top
  from wikiart_jax.parallel import sharding  # pylint: disable=g-import-not-at-top
  from wikiart_jax.train import stages  # pylint: disable=g-import-not-at-top
  import demo  # pylint: disable=g-import-not-at-top
  vocab = metadata.Vocabularies.from_json(os.path.join(workdir, 'vocab.json'))
  model = factory.build_model(demo.get_config('tiny'), vocab)
  params = checkpointing.restore_params_into(workdir, model, sharding.make_mesh(), step)[0].params
  return {stages.path_name(p): np.asarray(v)
          for p, v in jax.tree_util.tree_flatten_with_path(params)[0]}


@pytest.fixture(scope='session')
def trained_workdir(tmp_path_factory) -> str:
  """A workdir trained once per session with `configs/demo.py:tiny` (6 steps).

  Its training output is in `<workdir>/train.log`. Tests may read it, evaluate
  it, predict and serve from it; they must not train it further.
  """
  workdir = tmp_path_factory.getbasetemp() / 'trained_workdir'
  proc = subprocess.run(
      [sys.executable, 'launch.py', '--config', TINY_CONFIG, '--workdir', str(workdir)],
      cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=900,
      check=False)
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
  import struct  # pylint: disable=g-import-not-at-top
  import zlib  # pylint: disable=g-import-not-at-top
  from PIL import Image, ImageDraw  # pylint: disable=g-import-not-at-top
  folder = tmp_path_factory.mktemp('big_scans')
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
  return {'png': str(png), 'jpeg': str(jpeg)}
