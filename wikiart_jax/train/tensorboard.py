"""TensorBoard event files without TensorFlow, and the console log of the same values.

clu's default writer writes TensorBoard through TensorFlow: importing it costs
about 9 s of CPU at every `launch.py` start (a tiny training run is ~25 s), and
the GPU image has no TensorFlow. `TensorBoardWriter` writes the same event files
with TensorBoard's own record writer and protos (the way PyTorch's writer does),
which need no TensorFlow. tensorboardX would too, but it imports PyTorch when
installed (5 s). The writers have the methods of clu's `MetricWriter` interface
that the project calls (scalars, images, texts, flush, close), so
`tracking.make_writer` combines them with the wandb writer as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import io
import itertools
import os
import socket
import time
from typing import Any

from absl import logging
import numpy as np
from PIL import Image

_WRITERS_STARTED = itertools.count()


class TensorBoardWriter:
  """One event file in `logdir` per writer (per process start, as TensorBoard expects)."""

  def __init__(self, logdir: str):
    # pylint: disable=g-import-not-at-top
    from tensorboard.compat.proto import event_pb2
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.text import metadata as text_metadata
    from tensorboard.summary.writer.record_writer import RecordWriter
    # pylint: enable=g-import-not-at-top
    self._event_pb2, self._summary_pb2 = event_pb2, summary_pb2
    self._text_metadata = text_metadata.create_summary_metadata(
        display_name=None, description=None)
    os.makedirs(logdir, exist_ok=True)
    # TensorBoard reads every file named events.out.tfevents.*; the pid and the
    # process's writer count keep two writers started in the same second apart.
    name = (f'events.out.tfevents.{int(time.time())}.{socket.gethostname()}.'
            f'{os.getpid()}.{next(_WRITERS_STARTED)}')
    self.path = os.path.join(logdir, name)
    self._records = RecordWriter(open(self.path, 'xb'))  # pylint: disable=consider-using-with
    self._write(event_pb2.Event(wall_time=time.time(), file_version='brain.Event:2'))

  def _write(self, event) -> None:
    self._records.write(event.SerializeToString())

  def _write_values(self, step: int, values: list) -> None:
    summary = self._summary_pb2.Summary(value=values)
    self._write(self._event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

  def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
    value = self._summary_pb2.Summary.Value
    self._write_values(step, [value(tag=k, simple_value=float(np.asarray(v)))
                              for k, v in scalars.items()])

  def write_images(self, step: int, images: Mapping[str, Any]) -> None:
    """Writes [N, H, W, C] uint8 batches (C = 1, 3 or 4); an image per tag, `tag/i` past one."""
    values = []
    for name, batch in images.items():
      batch = np.asarray(batch)
      if batch.ndim != 4 or batch.dtype != np.uint8 or batch.shape[-1] not in (1, 3, 4):
        raise ValueError(f'{name}: images must be [N, H, W, 1|3|4] uint8, got '
                         f'{batch.shape} {batch.dtype}')
      for i, pixels in enumerate(batch):
        png = io.BytesIO()
        Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(
            png, format='PNG', compress_level=1)
        image = self._summary_pb2.Summary.Image(
            height=pixels.shape[0], width=pixels.shape[1], colorspace=pixels.shape[-1],
            encoded_image_string=png.getvalue())
        values.append(self._summary_pb2.Summary.Value(
            tag=name if len(batch) == 1 else f'{name}/{i}', image=image))
    self._write_values(step, values)

  def write_texts(self, step: int, texts: Mapping[str, str]) -> None:
    # pylint: disable-next=g-import-not-at-top
    from tensorboard.compat.proto import tensor_pb2, tensor_shape_pb2, types_pb2
    values = []
    for name, text in texts.items():
      tensor = tensor_pb2.TensorProto(
          dtype=types_pb2.DT_STRING, string_val=[text.encode('utf-8')],
          tensor_shape=tensor_shape_pb2.TensorShapeProto())
      values.append(self._summary_pb2.Summary.Value(
          tag=name, metadata=self._text_metadata, tensor=tensor))
    self._write_values(step, values)

  def flush(self) -> None:
    self._records.flush()

  def close(self) -> None:
    if not self._records.closed:
      self._records.close()


class LoggingWriter:
  """The values on the console log (absl INFO), one line per call, as clu's."""

  def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
    values = [f'{k}={float(np.asarray(v)):.6g}' for k, v in sorted(scalars.items())]
    logging.info('[%d] %s', step, ', '.join(values))

  def write_images(self, step: int, images: Mapping[str, Any]) -> None:
    logging.info('[%d] Got images: %s.', step,
                 {k: np.shape(v) for k, v in images.items()})

  def write_texts(self, step: int, texts: Mapping[str, str]) -> None:
    logging.info('[%d] Got texts: %s.', step, dict(texts))

  def flush(self) -> None:
    logging.flush()

  def close(self) -> None:
    self.flush()


class MultiWriter:
  """Sends every call to each of its writers, in order."""

  def __init__(self, writers: Sequence[Any]):
    self._writers = list(writers)

  def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
    for writer in self._writers:
      writer.write_scalars(step, scalars)

  def write_images(self, step: int, images: Mapping[str, Any]) -> None:
    for writer in self._writers:
      writer.write_images(step, images)

  def write_texts(self, step: int, texts: Mapping[str, str]) -> None:
    for writer in self._writers:
      writer.write_texts(step, texts)

  def flush(self) -> None:
    for writer in self._writers:
      writer.flush()

  def close(self) -> None:
    for writer in self._writers:
      writer.close()
