"""Experiment tracking: TensorBoard event files hold the logged values; wandb offline."""

import glob
import os

import common
import numpy as np
import pytest

from conftest import read_tensorboard
from wikiart_jax.train import tracking


def test_tensorboard_holds_exactly_the_logged_scalars(tmp_path):
  writer = tracking.make_writer(str(tmp_path), common.get_config())
  logged = {3: {'train/loss': 2.5, 'train/style_accuracy': 0.25},
            6: {'train/loss': 1.75, 'eval/style_top1': 0.5}}
  for step, scalars in logged.items():
    writer.write_scalars(step, scalars)
  writer.write_texts(6, {'eval/description_0': 'An Impressionist landscape.'})
  writer.write_images(6, {'eval/confusion_style': np.zeros((1, 4, 4, 3), np.uint8)})
  writer.flush()
  writer.close()
  read = read_tensorboard(str(tmp_path))
  assert sorted(read['train/loss']) == [(3, 2.5), (6, 1.75)]
  assert read['train/style_accuracy'] == [(3, 0.25)] and read['eval/style_top1'] == [(6, 0.5)]


def test_wandb_offline_logs_the_same_values_and_resumes_the_run(tmp_path, monkeypatch):
  pytest.importorskip('wandb')
  monkeypatch.setenv('WANDB_MODE', 'offline')
  monkeypatch.setenv('WANDB_SILENT', 'true')
  config = common.get_config()
  config.tracking.wandb = True
  writer = tracking.make_writer(str(tmp_path), config)
  wandb_writer = writer._writers[-1]  # pylint: disable=protected-access
  assert isinstance(wandb_writer, tracking.WandbWriter)
  calls = []
  log = wandb_writer.run.log
  monkeypatch.setattr(wandb_writer.run, 'log',
                      lambda data, step: calls.append((step, data)) or log(data, step=step))
  writer.write_scalars(3, {'train/loss': 2.5})
  writer.write_texts(3, {'eval/description_0': 'Une nature morte.'})
  writer.write_images(3, {'eval/confusion_style': np.zeros((1, 4, 4, 3), np.uint8)})
  writer.close()
  assert calls[0] == (3, {'train/loss': 2.5})
  assert [step for step, _ in calls] == [3, 3, 3] and 'eval/confusion_style' in calls[2][1]
  run_id = (tmp_path / tracking.RUN_ID_FILE).read_text()
  runs = glob.glob(str(tmp_path / 'wandb' / f'offline-run-*-{run_id}' / f'run-{run_id}.wandb'))
  assert runs and os.path.getsize(runs[0]) > 0
  again = tracking.make_writer(str(tmp_path), config)  # a resumed training run
  assert again._writers[-1].run.id == run_id  # pylint: disable=protected-access
  again.close()


def test_without_wandb_only_tensorboard(tmp_path):
  writer = tracking.make_writer(str(tmp_path), common.get_config())
  assert not isinstance(writer, tracking.WandbWriter)
  assert not hasattr(writer, '_writers') or not any(
      isinstance(w, tracking.WandbWriter) for w in writer._writers)  # pylint: disable=protected-access
  writer.close()
