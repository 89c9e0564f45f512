"""TensorBoard event files without TensorFlow: TensorBoard's own reader gets back what was written."""

import io
import os
import subprocess
import sys

import numpy as np
from PIL import Image
import pytest

from conftest import ROOT
from conftest import read_tensorboard
from wikiart_jax.train import tensorboard


def _accumulator(workdir):
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  (name,) = [f for f in os.listdir(workdir) if f.startswith('events.out.tfevents.')]
  acc = event_accumulator.EventAccumulator(
      os.path.join(workdir, name), size_guidance={'images': 0, 'tensors': 0, 'scalars': 0})
  acc.Reload()
  return acc


def test_scalars_images_and_texts_read_back_by_tensorboard(tmp_path):
  writer = tensorboard.TensorBoardWriter(str(tmp_path))
  rng = np.random.default_rng(0)
  rgb = rng.integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
  grey = rng.integers(0, 256, (1, 4, 4, 1), dtype=np.uint8)
  writer.write_scalars(3, {'train/loss': 2.5, 'train/lr': np.float32(1e-4)})
  writer.write_scalars(6, {'train/loss': np.asarray(1.75)})
  writer.write_images(6, {'eval/rgb': rgb, 'eval/grey': grey})
  writer.write_texts(6, {'eval/description_0': 'Une nature morte, œuvre de Cézanne.'})
  writer.close()
  assert read_tensorboard(str(tmp_path)) == {
      'train/loss': [(3, 2.5), (6, 1.75)], 'train/lr': [(3, pytest.approx(1e-4))]}
  acc = _accumulator(str(tmp_path))
  assert sorted(acc.Tags()['images']) == ['eval/grey', 'eval/rgb/0', 'eval/rgb/1']
  for tag, pixels in (('eval/rgb/0', rgb[0]), ('eval/rgb/1', rgb[1]), ('eval/grey', grey[0])):
    (event,) = acc.Images(tag)
    decoded = np.asarray(Image.open(io.BytesIO(event.encoded_image_string)))
    assert event.step == 6 and (event.height, event.width) == pixels.shape[:2]
    np.testing.assert_array_equal(decoded.reshape(pixels.shape), pixels)
  (text,) = acc.Tensors('eval/description_0')
  assert text.tensor_proto.string_val == ['Une nature morte, œuvre de Cézanne.'.encode()]
  assert acc.summary_metadata['eval/description_0'].plugin_data.plugin_name == 'text'


def test_images_must_be_uint8_batches(tmp_path):
  writer = tensorboard.TensorBoardWriter(str(tmp_path))
  with pytest.raises(ValueError, match=r'eval/x: images must be \[N, H, W, 1\|3\|4\] uint8'):
    writer.write_images(1, {'eval/x': np.zeros((4, 4, 3), np.float32)})
  writer.close()


def test_two_writers_in_one_second_keep_two_files(tmp_path):
  first, second = (tensorboard.TensorBoardWriter(str(tmp_path)) for _ in range(2))
  first.write_scalars(1, {'a': 1.0})
  second.write_scalars(2, {'a': 2.0})
  first.close()
  second.close()
  assert first.path != second.path
  assert sorted(read_tensorboard(str(tmp_path))['a']) == [(1, 1.0), (2, 2.0)]


def test_the_multi_writer_sends_every_call_to_each_writer():
  calls = []

  class Recorder:
    def __getattr__(self, method):
      return lambda *args: calls.append((method, args))

  writer = tensorboard.MultiWriter([Recorder(), Recorder()])
  writer.write_scalars(1, {'a': 1.0})
  writer.write_texts(2, {'t': 'x'})
  writer.flush()
  writer.close()
  assert [c[0] for c in calls] == ['write_scalars'] * 2 + ['write_texts'] * 2 + ['flush'] * 2 + [
      'close'] * 2


def test_training_and_its_writer_do_not_import_tensorflow(tmp_path):
  code = ('import sys\n'
          'from wikiart_jax.train import loop, tracking\n'
          'import common\n'
          f'w = tracking.make_writer({str(tmp_path)!r}, common.get_config())\n'
          "w.write_scalars(1, {'train/loss': 1.0}); w.close()\n"
          "print(sorted(m for m in ('tensorflow', 'torch') if m in sys.modules))\n")
  proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True,
                        env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'configs')),
                        check=True, timeout=300)
  assert proc.stdout.strip().splitlines()[-1] == '[]', proc.stderr[-2000:]
