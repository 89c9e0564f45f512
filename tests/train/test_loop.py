"""The training loop end to end (launch.py): resume, NaN stop, stages, init_from, captioner,
an unreadable newest checkpoint skipped, a full disk stopping the run."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from wikiart_jax.data import dataset
from wikiart_jax.text import mentions

import demo

from conftest import ROOT
from conftest import TINY
from conftest import launch
from conftest import params_at
from conftest import params_at_steps
from conftest import read_metrics
from conftest import start_launch
from conftest import subprocess_env


def test_nan_loss_stops_and_keeps_last_good_checkpoint(trained_workdir, tmp_path):
  workdir = str(tmp_path / 'run')  # 6 good steps, then an absurd learning rate
  shutil.copytree(trained_workdir, workdir, ignore=shutil.ignore_patterns('writer.lock'))
  proc = launch(workdir, '--config.train.num_steps=9', '--config.train.learning_rate=1e30',
                check=False)
  assert proc.returncode == 1, proc.stderr
  assert 'NaN or infinite' in proc.stderr.strip().splitlines()[-1]
  assert 'the last good checkpoint is kept (step 6)' in proc.stderr
  checkpoints = sorted(os.listdir(os.path.join(workdir, 'checkpoints')), key=int)
  assert checkpoints == ['3', '6']
  assert read_metrics(workdir)['step'] == 6


def test_stages_switch_inside_a_run_and_survive_a_resume(tmp_path):
  workdir = str(tmp_path)
  stage_args = ['--config.train.stages=0:heads, 4:last1', '--config.train.eval_every=2']
  launch(workdir, '--config.train.num_steps=4', *stage_args)
  proc = launch(workdir, '--config.train.num_steps=6', *stage_args)
  assert 'Resuming from the checkpoint at step 4' in proc.stdout
  assert 'stage 2/2 from step 4' in proc.stderr + proc.stdout
  step2, step4, step6 = params_at_steps(workdir, (2, 4, 6))
  for name in step2:
    heads = name.startswith('heads/')
    last_block = name.startswith(('backbone/layers/3/', 'backbone/layernorm/'))
    # Stage 1 (steps 2 -> 4): only the heads move.
    assert np.array_equal(step2[name], step4[name]) != heads, name
    # Stage 2 (steps 4 -> 6, after the resume): the heads and the last block move.
    assert np.array_equal(step4[name], step6[name]) != (heads or last_block), name


def test_sigkill_then_restart_resumes(tmp_path):
  workdir = str(tmp_path)
  proc = start_launch(workdir, '--config.train.num_steps=400', '--config.train.eval_every=2')
  try:
    ckpt_dir = os.path.join(workdir, 'checkpoints')
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
      steps = [d for d in os.listdir(ckpt_dir) if d.isdigit()] if os.path.isdir(ckpt_dir) else []
      if len(steps) >= 2:
        break
      time.sleep(0.2)
    assert proc.poll() is None, 'training ended before it could be killed'
    proc.send_signal(signal.SIGKILL)
  finally:
    if proc.poll() is None:
      proc.send_signal(signal.SIGKILL)  # (a failed wait above): no run left behind
    proc.wait()
  assert proc.returncode == -signal.SIGKILL
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
  launch(workdir, '--config.train.eval_every=6', config=config)  # one evaluation, then test
  caption = read_metrics(workdir)['eval']['caption']
  for key in ('bleu1', 'bleu4', 'rouge_l', 'cider', 'style_named', 'faithful', 'invented'):
    assert caption[key] is not None and caption[key] >= 0.0, key
  assert set(caption['by_lang']) == {'en', 'fr'}
  assert caption['invented'] == 0.0  # it cannot write a digit or a title quote
  assert all(caption['by_lang'][l]['invented'] == 0.0 for l in ('en', 'fr'))
  # eval: the report's sample cards show the captioner's descriptions beside the templates.
  evaluated = launch(workdir, '--config.mode=eval', config=config)
  assert 'BLEU-4' in evaluated.stdout and 'style named' in evaluated.stdout
  report_md = (tmp_path / 'run' / 'report' / 'report.md').read_text(encoding='utf-8')
  # Every card shows both languages' learned texts, those predict withholds marked so.
  assert report_md.count('en (captioner') == report_md.count('fr (captioner') > 0
  images = sorted((tmp_path / 'run' / 'synthetic_raw').rglob('*.jpg'))[::20][:6]
  output = tmp_path / 'pred.jsonl'
  launch(workdir, '--config.mode=predict',
         f'--config.predict.inputs={",".join(str(i) for i in images)}',
         f'--config.predict.output={output}', config=config)
  records = [json.loads(line) for line in output.read_text().splitlines()]
  assert len(records) == len(images)
  # Every record: the composed and the learned descriptions (shown or, naming a fact the
  # model does not have, withheld), and no shown text names an artist but the head's.
  vocab = dataset.load_info(demo.get_config('tiny_caption'), workdir).vocab
  reader = mentions.MentionReader.of(vocab)
  for record in records:
    assert record['description']['en'] and record['description']['fr']
    assert set(record.get('generated', {})) | set(record.get('generated_withheld', {})) == {
        'en', 'fr'}
    top = vocab.artist_names.index(record['artist'][0]['label'])
    for lang in ('en', 'fr'):
      for text in (record['description'][lang], record.get('generated', {}).get(lang, '')):
        assert set(reader.read(text, lang).artists) <= {top}, text


def test_training_starts_from_a_saved_hugging_face_vit_and_restores_without_it(tmp_path):
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
  saved = params_at(workdir, 2)
  record = json.loads((tmp_path / 'run' / 'run.json').read_text())
  assert record['model']['hidden_size'] == 64 and record['model']['num_layers'] == 4
  assert record['normalization']['mean'] == [0.5, 0.5, 0.5]  # ViT's processor default
  kernel = hf.embeddings.patch_embeddings.projection.weight.detach().numpy()  # [O,I,kh,kw]
  np.testing.assert_array_equal(saved['backbone/embeddings/patch_embeddings/kernel'],
                                kernel.transpose(2, 3, 1, 0))
  # The last block's MLP output: 'layers.3.mlp.fc2' in transformers v5 names.
  fc2 = next(v for k, v in hf.state_dict().items()
             if k.endswith(('layers.3.mlp.fc2.weight', 'layer.3.output.dense.weight')))
  np.testing.assert_array_equal(saved['backbone/layers/3/mlp/fc2/kernel'], fc2.numpy().T)
  # eval, predict and embed read the workdir alone: the init_from folder is gone.
  shutil.rmtree(folder)  # as unreachable as a hub offline
  logged = read_metrics(workdir)['eval']
  launch(workdir, f'--config.init_from={folder}', '--config.mode=eval')
  assert read_metrics(workdir)['eval']['style']['top1'] == pytest.approx(
      logged['style']['top1'], abs=1e-6)
  image = next((tmp_path / 'run' / 'synthetic_raw').rglob('*.jpg'))
  launch(workdir, f'--config.init_from={folder}', '--config.mode=predict',
         f'--config.predict.inputs={image}', f'--config.predict.output={tmp_path / "p.jsonl"}')
  launch(workdir, f'--config.init_from={folder}', '--config.mode=embed',
         f'--config.embed.inputs={image}', f'--config.embed.output={tmp_path / "e.npz"}')
  assert np.load(tmp_path / 'e.npz')['pooled'].shape == (1, 64)
  # serve's page object, built as `mode=serve` builds it, from the same config.
  pytest.importorskip('gradio')
  from demo import get_config  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top
  from wikiart_jax.apps.serve import app  # pylint: disable=g-import-not-at-top
  config = get_config('tiny')
  config.init_from = str(folder)
  page = app.Demo(config, workdir)
  rgb = np.asarray(Image.open(image).convert('RGB'))
  result = page.analyse(rgb)
  assert result['heatmap'].shape == (8, 8)  # the recorded 32 px / 4 px grid


def test_the_recipe_freezes_the_backbone_then_trains_it_at_its_own_rate(tmp_path):
  # The B/16 recipe's shape on the tiny model: heads first, then the last blocks at
  # their own rate (here 100x below the heads', so the two are told apart).
  workdir = str(tmp_path)
  launch(workdir, '--config.train.stages=0:heads, 2:last2', '--config.train.num_steps=3',
         '--config.train.eval_every=1', '--config.train.learning_rate=1e-2',
         '--config.train.backbone_learning_rate=1e-4', '--config.train.stage_warmup_steps=0',
         '--config.train.weight_decay=0')
  step1, step2, step3 = params_at_steps(workdir, (1, 2, 3))
  for name in step1:
    if name.startswith('backbone/'):
      assert np.array_equal(step1[name], step2[name]), name  # stage 1: frozen, bit for bit
  trained = [n for n in step2 if n.startswith(('backbone/layers/2/', 'backbone/layers/3/',
                                               'backbone/layernorm/'))]
  frozen = [n for n in step2 if n.startswith('backbone/') and n not in trained]
  assert trained and frozen
  for name in frozen:
    assert np.array_equal(step2[name], step3[name]), name
  # The first step of a stage: Adam moves each weight by its group's rate (sign of g).
  backbone = max(np.abs(step3[n] - step2[n]).max() for n in trained)
  heads = max(np.abs(step3[n] - step2[n]).max() for n in step2 if n.startswith('heads/'))
  np.testing.assert_allclose(backbone, 1e-4, rtol=0.05)
  np.testing.assert_allclose(heads, 1e-2, rtol=0.05)


def test_an_unreadable_newest_checkpoint_is_skipped_when_training_resumes(trained_workdir, tmp_path):
  workdir = str(tmp_path / 'run')
  shutil.copytree(trained_workdir, workdir, ignore=shutil.ignore_patterns('writer.lock'))
  state = os.path.join(workdir, 'checkpoints', '6', 'state')
  data = [os.path.join(d, f) for d, _, fs in os.walk(state) for f in fs
          if os.path.basename(d) == 'd']
  for path in data:  # a copy cut short
    os.truncate(path, os.path.getsize(path) // 2)
  # eval, predict and serve read through checkpointing.restore_params_into, which
  # tests/test_checkpointing.py shows skipping it the same way (without moving it).
  resumed = launch(workdir, '--config.train.num_steps=9')
  assert 'Resuming from the checkpoint at step 3.' in resumed.stdout
  (skipped,) = [l for l in resumed.stderr.splitlines() if 'skipped the checkpoint' in l]
  assert skipped.startswith('warning: skipped the checkpoint at step 6 (')
  assert 'is not valid for value of size' in skipped, skipped
  assert skipped.endswith(f'moved to {os.path.join(workdir, "checkpoints_skipped", "6")}')
  assert sorted(os.listdir(os.path.join(workdir, 'checkpoints')), key=int) == ['3', '6', '9']
  assert read_metrics(workdir)['step'] == 9


@pytest.mark.slow
def test_a_full_disk_stops_training_with_one_line_and_keeps_the_checkpoints(tmp_path):
  workdir = str(tmp_path)
  # The disk fills up while step 4 is saved: its arrays are written, its iterator state is not.
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, 'tests', 'crash_worker.py'), 'full',
       'process_0-of-1.json', '2', *TINY, f'--workdir={workdir}', '--config.train.eval_every=2'],
      cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=900, check=False)
  assert proc.returncode == 1, proc.stderr[-3000:]
  assert proc.stderr.strip().splitlines()[-1] == (
      f'error: cannot save the checkpoint at step 4 in {os.path.join(workdir, "checkpoints")}: '
      'no space left on device; the earlier checkpoints are intact (steps [2]): free some '
      'space and run again to resume')
  assert os.listdir(os.path.join(workdir, 'checkpoints')) == ['2']  # no partial step 4
  assert params_at(workdir, 2)  # reads back whole
