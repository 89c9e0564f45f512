"""Experiment tracking: TensorBoard always, and wandb beside it when asked for.

`make_writer(workdir, config)` returns the console log and the TensorBoard event
files in the workdir (`train.tensorboard`, without TensorFlow), and a
`WandbWriter` beside them when `config.tracking.wandb` is True. clu has no wandb writer:
this one logs the same scalars, images and texts under the same names, on
process 0 only, and resumes the same wandb run when training resumes (its id
is kept in `<workdir>/wandb_run_id`). `WANDB_MODE=offline` works as wandb
documents (everything is kept under `<workdir>/wandb/` for a later `wandb sync`).
"""

from __future__ import annotations

import os
from typing import Any, Mapping

import jax
import ml_collections
import numpy as np

from wikiart_jax.train import tensorboard

RUN_ID_FILE = 'wandb_run_id'


class WandbWriter:
  """A clu `MetricWriter` over one wandb run (methods as clu's interface names them)."""

  def __init__(self, workdir: str, config: ml_collections.ConfigDict):
    import wandb  # pylint: disable=g-import-not-at-top
    self._wandb = wandb
    id_file = os.path.join(workdir, RUN_ID_FILE)
    run_id = None
    if os.path.exists(id_file):
      with open(id_file, encoding='utf-8') as f:
        run_id = f.read().strip() or None
    tracking = config.tracking
    self._run = wandb.init(
        project=tracking.wandb_project, entity=tracking.wandb_entity or None,
        name=tracking.wandb_name or os.path.basename(os.path.abspath(workdir)),
        dir=workdir, id=run_id, resume='allow', config=config.to_dict(),
        settings=wandb.Settings(console='off'))
    with open(id_file, 'w', encoding='utf-8') as f:
      f.write(self._run.id)

  @property
  def run(self):
    return self._run

  def write_summaries(self, step: int, values: Mapping[str, Any], metadata=None) -> None:
    del metadata
    self.write_scalars(step, {k: float(np.asarray(v)) for k, v in values.items()
                              if np.asarray(v).size == 1})

  def write_scalars(self, step: int, scalars: Mapping[str, Any]) -> None:
    self._run.log({k: float(v) for k, v in scalars.items()}, step=int(step))

  def write_images(self, step: int, images: Mapping[str, Any]) -> None:
    # clu passes [N, H, W, C] uint8 batches: one wandb image per array in the batch.
    self._run.log({k: [self._wandb.Image(np.asarray(x)) for x in np.asarray(v)]
                   for k, v in images.items()}, step=int(step))

  def write_texts(self, step: int, texts: Mapping[str, str]) -> None:
    self._run.log({k: self._wandb.Html(f'<pre>{v}</pre>') for k, v in texts.items()},
                  step=int(step))

  def write_videos(self, step: int, videos: Mapping[str, Any]) -> None:
    del step, videos  # the project writes none

  def write_audios(self, step: int, audios: Mapping[str, Any], *, sample_rate: int) -> None:
    del step, audios, sample_rate  # the project writes none

  def write_histograms(self, step: int, arrays: Mapping[str, Any],
                       num_buckets: Mapping[str, int] | None = None) -> None:
    del num_buckets
    self._run.log({k: self._wandb.Histogram(np.asarray(v)) for k, v in arrays.items()},
                  step=int(step))

  def write_hparams(self, hparams: Mapping[str, Any]) -> None:
    self._run.config.update(dict(hparams), allow_val_change=True)

  def flush(self) -> None:
    pass  # wandb sends as it goes

  def close(self) -> None:
    self._run.finish()


def make_writer(workdir: str, config: ml_collections.ConfigDict):
  """The run's metric writer (see the module docstring); logs only from process 0."""
  writers = [tensorboard.LoggingWriter()]
  if jax.process_index() == 0:
    writers.append(tensorboard.TensorBoardWriter(workdir))
    if config.tracking.wandb:
      writers.append(WandbWriter(workdir, config))
  return tensorboard.MultiWriter(writers)
