"""`mode=eval`: a restored checkpoint gives the training run's metrics, and the report."""

import os

import numpy as np
from PIL import Image

from conftest import launch
from conftest import read_metrics


def test_eval_mode_reproduces_training_metrics(trained_workdir):
  workdir = trained_workdir
  logged = next(h for h in read_metrics(workdir)['history']
                if h['step'] == 6 and h.get('mode') != 'eval')['eval']
  launch(workdir, '--config.mode=eval')
  again = read_metrics(workdir)
  assert again['step'] == 6 and again['history'][-1]['mode'] == 'eval'
  for task, values in logged.items():
    for key in ('top1', 'top5', 'f1_macro'):
      assert abs(again['eval'][task][key] - values[key]) <= 1e-6, (task, key)
  # The report: tables, confusion matrices, class-count charts, sample grid.
  report_dir = os.path.join(workdir, 'report')
  with open(os.path.join(report_dir, 'index.html'), encoding='utf-8') as f:
    html = f.read()
  assert '<table' in html and 'macro' in html.lower()
  images = os.listdir(os.path.join(report_dir, 'img'))
  for prefix in ('confusion_style', 'confusion_genre', 'confusion_artist', 'counts_'):
    found = [n for n in images if n.startswith(prefix)]
    assert found, (prefix, images)
    for name in found:
      with Image.open(os.path.join(report_dir, 'img', name)) as image:
        pixels = np.asarray(image.convert('L'))
      assert pixels.std() > 0, name  # not a blank picture
      assert f'img/{name}' in html
  assert os.path.exists(os.path.join(report_dir, 'report.md'))
