"""`mode=eval`: a restored checkpoint gives the training run's metrics, and the report."""

import os
import shutil

import numpy as np
import pytest
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
    if task == 'calibration':
      continue  # per head, below
    for key in values:  # every number of every task, the tags and the period too
      assert abs(again['eval'][task][key] - values[key]) <= 1e-6, (task, key)
  assert {'tags', 'period', 'calibration'} <= set(logged)
  for task in ('style', 'artist', 'genre'):
    for key in ('temperature', 'ece_before', 'ece_after'):
      assert again['eval']['calibration'][task][key] == pytest.approx(
          logged['calibration'][task][key], abs=1e-5)
  # The report: tables, confusion matrices, class-count charts, sample grid.
  report_dir = os.path.join(workdir, 'report')
  with open(os.path.join(report_dir, 'index.html'), encoding='utf-8') as f:
    html = f.read()
  assert '<table' in html and 'macro' in html.lower()
  images = os.listdir(os.path.join(report_dir, 'img'))
  for prefix in ('confusion_style', 'confusion_genre', 'confusion_artist', 'confusion_period',
                 'counts_', 'palette_'):
    found = [n for n in images if n.startswith(prefix)]
    assert found, (prefix, images)
    for name in found:
      with Image.open(os.path.join(report_dir, 'img', name)) as image:
        pixels = np.asarray(image.convert('L'))
      assert pixels.std() > 0, name  # not a blank picture
      assert f'img/{name}' in html
  assert os.path.exists(os.path.join(report_dir, 'report.md'))
  assert 'test (step' in html  # the test split's summary beside val's
  assert 'Calibration (temperature scaling)' in html and 'ECE after' in html
  assert 'trained on the synthetic demo set' in html
  # Per-tag AP, the period's chart (above) and its error in years, a palette strip per sample.
  assert '<h2>Content tags</h2>' in html and '<th>AP</th>' in html
  assert 'Period: the expected year is off by' in html
  assert html.count('class="strip"') == html.count('class="card"') > 1


def test_eval_of_the_test_split_writes_test(trained_workdir, tmp_path):
  workdir = str(tmp_path / 'run')
  shutil.copytree(trained_workdir, workdir)
  trained = read_metrics(workdir)
  launch(workdir, '--config.mode=eval', '--config.eval.split=test',
         f"--config.eval.step={trained['test_step']}")
  again = read_metrics(workdir)
  assert again['eval'] == trained['eval']  # val's entry untouched
  for task, values in trained['test'].items():
    if task == 'calibration':
      continue  # per head, below
    for key in values:
      assert again['test'][task][key] == pytest.approx(values[key], abs=1e-6), (task, key)
  # Test's tag F1s use the threshold val chose at that step.
  val = next(h for h in trained['history'] if h['step'] == trained['test_step'])['eval']
  assert again['test']['tags']['threshold'] == val['tags']['threshold']
  for task in ('style', 'artist', 'genre'):
    # On test, the temperatures val fitted for that checkpoint, never refitted.
    assert again['test']['calibration'][task]['temperature'] == pytest.approx(
        val['calibration'][task]['temperature'], abs=1e-6)


def test_zero_shot_baseline_from_the_command_line_equals_transformers_clip(
    trained_workdir, tmp_path):
  from tiny_clip import save_random_clip, torch_image_embeddings, torch_text_embeddings  # pylint: disable=g-import-not-at-top
  from wikiart_jax.data import dataset, pipeline  # pylint: disable=g-import-not-at-top
  from wikiart_jax.inference import zero_shot  # pylint: disable=g-import-not-at-top
  import demo  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top
  workdir = str(tmp_path / 'run')
  shutil.copytree(trained_workdir, workdir)
  clip_folder = tmp_path / 'clip'
  model, tokenizer = save_random_clip(clip_folder)
  launch(workdir, '--config.mode=eval', f'--config.eval.zero_shot_from={clip_folder}')
  got = read_metrics(workdir)['eval']['zero_shot']
  assert set(got) == {'en', 'fr', 'both'}
  # transformers' CLIP on the same val images (ImageNet-normalised: trained from
  # scratch) and the same prompts.
  config = demo.get_config('tiny')
  info = dataset.load_info(config, workdir)
  batches = list(pipeline.make_eval_batches(config, workdir, 'val'))
  images = np.concatenate([b['image'] for b in batches])
  styles = np.concatenate([b['style'] for b in batches])
  keep = styles >= 0
  # CLIP's own input size, by the same bicubic resize (it commutes with the renormalisation).
  small = np.asarray(jax.image.resize(images[keep], (int(keep.sum()), 16, 16, 3), 'bicubic'))
  image_emb = torch_image_embeddings(model, small)
  names = zero_shot.class_names_from_vocab(info.vocab)['style']
  for lang in ('en', 'fr'):
    prompts = zero_shot.templates('style', lang)
    text = torch_text_embeddings(model, tokenizer, [p.format(n) for n in names for p in prompts])
    classes = text.reshape(len(names), len(prompts), -1).mean(axis=1)
    classes /= np.linalg.norm(classes, axis=-1, keepdims=True)
    top1 = float(np.mean((image_emb @ classes.T).argmax(1) == styles[keep]))
    assert got[lang]['style']['top1'] == pytest.approx(top1, abs=1e-6), lang
    assert got[lang]['style']['count'] == keep.sum()
  with open(os.path.join(workdir, 'report', 'index.html'), encoding='utf-8') as f:
    assert 'zero-shot CLIP, fr prompts' in f.read()
