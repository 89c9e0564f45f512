"""End to end through the command line: train, eval, predict, resume, bad input."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from conftest import subprocess_env

TINY = [f'--config={os.path.join(ROOT, "configs", "demo.py")}:tiny']


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
  with open(os.path.join(workdir, 'metrics.json'), encoding='utf-8') as f:
    return json.load(f)


def test_train_writes_contract_metrics(trained_workdir):
  workdir = trained_workdir
  metrics = read_metrics(workdir)
  assert metrics['step'] == 6
  for task in ('style', 'artist', 'genre'):
    for key in ('top1', 'top5', 'f1_macro'):
      value = metrics['eval'][task][key]
      assert 0.0 <= value <= 1.0, (task, key, value)
    assert metrics['eval'][task]['top5'] >= metrics['eval'][task]['top1']
  assert [h['step'] for h in metrics['history'] if h.get('mode') != 'eval'] == [3, 6]
  assert os.path.getsize(os.path.join(workdir, 'confusion_style.png')) > 1000
  assert any(f.startswith('events.out.tfevents') for f in os.listdir(workdir))
  with open(os.path.join(workdir, 'train.log'), encoding='utf-8') as f:
    assert 'step 6 eval:' in f.read()


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


def test_eval_of_a_missing_step_is_a_one_line_error(trained_workdir):
  workdir = trained_workdir
  proc = launch(workdir, '--config.mode=eval', '--config.eval.step=5', check=False)
  assert proc.returncode != 0
  assert proc.stderr.strip().splitlines()[-1].startswith('error: no checkpoint at step 5')


def test_predict_labels_images_and_reports_bad_files(trained_workdir, tmp_path):
  workdir = trained_workdir
  images = tmp_path / 'in'
  images.mkdir()
  rng = np.random.default_rng(0)
  pixels = rng.integers(0, 255, (50, 70, 3), np.uint8)
  Image.fromarray(pixels).save(images / 'a.png')
  Image.fromarray(pixels).convert('CMYK').save(images / 'b.jpg')
  Image.fromarray(pixels[..., 0]).save(images / 'c.webp')
  (images / 'not_an_image.jpg').write_text('hello')
  output = tmp_path / 'out' / 'pred.jsonl'
  proc = launch(workdir, '--config.mode=predict', f'--config.predict.inputs={images}',
                f'--config.predict.output={output}', check=False)
  assert proc.returncode == 1
  assert 'not_an_image.jpg' in proc.stderr
  records = [json.loads(line) for line in output.read_text().splitlines()]
  assert sorted(os.path.basename(r['path']) for r in records) == ['a.png', 'b.jpg', 'c.webp']
  for record in records:
    for task in ('style', 'artist', 'genre'):
      probs = [r['prob'] for r in record[task]]
      assert len(probs) == 5 and probs == sorted(probs, reverse=True)
    assert record['description']['en'] and record['description']['fr']
  with open(tmp_path / 'out' / 'pred.csv', encoding='utf-8', newline='') as f:
    rows = list(csv.DictReader(f))
  assert [r['path'] for r in rows] == [r['path'] for r in records]
  assert [r['style'] for r in rows] == [r['style'][0]['label'] for r in records]


def test_misspelt_config_key_is_an_error(tmp_path):
  proc = launch(str(tmp_path), '--config.train.num_stepz=3', check=False)
  assert proc.returncode != 0
  assert 'num_stepz' in proc.stderr


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
  workdir = str(tmp_path)
  launch(workdir, '--config.train.num_steps=3')
  proc = launch(workdir, '--config.train.num_steps=6', '--config.train.learning_rate=1e30',
                check=False)
  assert proc.returncode == 1, proc.stderr
  assert 'NaN or infinite' in proc.stderr.strip().splitlines()[-1]
  checkpoints = sorted(os.listdir(os.path.join(workdir, 'checkpoints')))
  assert checkpoints == ['3']
  assert read_metrics(workdir)['step'] == 3


def _params_at(workdir, step):
  """The parameters saved at `step`, as {path: numpy array}."""
  import jax  # pylint: disable=g-import-not-at-top
  from wikiart_jax.data import metadata  # pylint: disable=g-import-not-at-top
  from wikiart_jax.models import build  # pylint: disable=g-import-not-at-top
  from wikiart_jax.train import checkpointing  # pylint: disable=g-import-not-at-top
  from wikiart_jax.train import stages  # pylint: disable=g-import-not-at-top
  import demo  # pylint: disable=g-import-not-at-top
  vocab = metadata.Vocabularies.from_json(os.path.join(workdir, 'vocab.json'))
  model = build.build_model(demo.get_config('tiny'), vocab)
  params = checkpointing.restore_for_model(workdir, model, step)[2]
  return {stages.path_name(p): np.asarray(v)
          for p, v in jax.tree_util.tree_flatten_with_path(params)[0]}


def test_stages_switch_inside_a_run_and_survive_a_resume(tmp_path):
  workdir = str(tmp_path)
  stage_args = ['--config.train.stages=0:heads, 4:last1', '--config.train.eval_every=2']
  launch(workdir, '--config.train.num_steps=4', *stage_args)
  proc = launch(workdir, '--config.train.num_steps=6', *stage_args)
  assert 'Resuming from the checkpoint at step 4' in proc.stdout
  assert 'stage 2/2 from step 4' in proc.stderr + proc.stdout
  step2, step4, step6 = (_params_at(workdir, s) for s in (2, 4, 6))
  for name in step2:
    heads = name.startswith('heads/')
    last_block = name.startswith(('backbone/layers/3/', 'backbone/layernorm/'))
    # Stage 1 (steps 2 -> 4): only the heads move.
    assert np.array_equal(step2[name], step4[name]) != heads, name
    # Stage 2 (steps 4 -> 6, after the resume): the heads and the last block move.
    assert np.array_equal(step4[name], step6[name]) != (heads or last_block), name


def test_sigkill_then_restart_resumes(tmp_path):
  workdir = str(tmp_path)
  cmd = [sys.executable, os.path.join(ROOT, 'launch.py'), *TINY, f'--workdir={workdir}',
         '--config.train.num_steps=400', '--config.train.eval_every=2']
  proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, env=subprocess_env())
  ckpt_dir = os.path.join(workdir, 'checkpoints')
  deadline = time.time() + 300
  while time.time() < deadline and proc.poll() is None:
    steps = [d for d in os.listdir(ckpt_dir) if d.isdigit()] if os.path.isdir(ckpt_dir) else []
    if len(steps) >= 2:
      break
    time.sleep(0.2)
  assert proc.poll() is None, 'training ended before it could be killed'
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  killed_at = max(int(d) for d in os.listdir(ckpt_dir) if d.isdigit())
  assert killed_at < 400
  total = killed_at + 4
  resumed = launch(workdir, f'--config.train.num_steps={total}', '--config.train.eval_every=2')
  assert f'Resuming from the checkpoint at step {killed_at}' in resumed.stdout
  metrics = read_metrics(workdir)
  assert metrics['step'] == total
  # The history keeps the evaluations made before the kill.
  assert [h['step'] for h in metrics['history']][:2] == [2, 4]


def test_captioner_trains_evaluates_and_describes(tmp_path):
  workdir = str(tmp_path / 'run')
  config = [f'--config={os.path.join(ROOT, "configs", "demo.py")}:tiny_caption']
  launch(workdir, config=config)
  caption = read_metrics(workdir)['eval']['caption']
  for key in ('bleu1', 'bleu4', 'rouge_l', 'cider', 'style_named'):
    assert caption[key] is not None and caption[key] >= 0.0, key
  assert set(caption['by_lang']) == {'en', 'fr'}
  # eval: the report's sample cards show the captioner's descriptions beside the templates.
  evaluated = launch(workdir, '--config.mode=eval', config=config)
  assert 'BLEU-4' in evaluated.stdout and 'style named' in evaluated.stdout
  report_md = (tmp_path / 'run' / 'report' / 'report.md').read_text(encoding='utf-8')
  assert report_md.count('en (captioner)') == report_md.count('fr (captioner)') > 0
  image = next(p for p in sorted((tmp_path / 'run' / 'synthetic_raw').rglob('*.jpg')))
  output = tmp_path / 'pred.jsonl'
  launch(workdir, '--config.mode=predict', f'--config.predict.inputs={image}',
         f'--config.predict.output={output}', config=config)
  record = json.loads(output.read_text().splitlines()[0])
  assert set(record['generated']) == {'en', 'fr'}
  assert record['description']['en'] and record['description']['fr']


def test_training_starts_from_a_saved_hugging_face_vit(tmp_path):
  torch = pytest.importorskip('torch')
  transformers = pytest.importorskip('transformers')
  torch.manual_seed(0)
  folder = tmp_path / 'hf_vit'
  hf = transformers.ViTModel(transformers.ViTConfig(
      image_size=32, patch_size=4, hidden_size=64, num_hidden_layers=4,
      num_attention_heads=4, intermediate_size=128), add_pooling_layer=False)
  hf.save_pretrained(folder, safe_serialization=True)
  workdir = str(tmp_path / 'run')
  # A zero learning rate: the checkpoint must hold exactly the converted weights.
  launch(workdir, f'--config.init_from={folder}', '--config.train.num_steps=2',
         '--config.train.eval_every=2', '--config.train.learning_rate=0')
  saved = _params_at(workdir, 2)
  kernel = hf.embeddings.patch_embeddings.projection.weight.detach().numpy()  # [O,I,kh,kw]
  np.testing.assert_array_equal(saved['backbone/embeddings/patch_embeddings/kernel'],
                                kernel.transpose(2, 3, 1, 0))
  # The last block's MLP output: 'layers.3.mlp.fc2' in transformers v5 names.
  fc2 = next(v for k, v in hf.state_dict().items()
             if k.endswith(('layers.3.mlp.fc2.weight', 'layer.3.output.dense.weight')))
  np.testing.assert_array_equal(saved['backbone/layers/3/mlp/fc2/kernel'], fc2.numpy().T)
