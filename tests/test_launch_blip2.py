"""launch.py with a BLIP-2 captioner, from a tiny BLIP-2 folder made here: it trains (the
frozen image tower and language model bit-identical, the Q-Former moving, the caption
loss falling), scores its descriptions and, restored, describes; zero-shot, predict
writes transformers' own greedy caption."""

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

import demo
import tiny_blip2
from conftest import ROOT
from conftest import launch
from conftest import read_metrics
from conftest import read_tensorboard
from wikiart_jax import checkpointing
from wikiart_jax import factory
from wikiart_jax.convert import blip2 as convert_blip2
from wikiart_jax.data import metadata
from wikiart_jax.parallel import sharding
from wikiart_jax.train import stages
from wikiart_jax.text import tokenizer as tokenizer_lib

CONFIG = [f'--config={os.path.join(ROOT, "configs", "demo.py")}:tiny_caption']
MAX_LEN = 64  # the label prompt and the description


@pytest.fixture(scope='module')
def blip2_folder(tmp_path_factory):
  """(folder, transformers model, tokenizer): a tiny BLIP-2 with OPT whose tokenizer
  knows the demo's words (its descriptions fit in MAX_LEN tokens)."""
  folder = tmp_path_factory.mktemp('blip2_opt')
  vocab = metadata.Vocabularies.build([('claude-monet', None), ('vincent-van-gogh', None)])
  model, tokenizer = tiny_blip2.save_blip2(
      folder, 'opt', texts=tokenizer_lib.training_texts(vocab), tokens=1024,
      max_position_embeddings=160)
  return folder, model, tokenizer


def _overrides(folder):
  return ['--config.model.captioner=blip2', f'--config.model.caption_decoder.init_from={folder}',
          f'--config.data.image_size={tiny_blip2.IMAGE_SIZE}',
          f'--config.data.caption.max_len={MAX_LEN}']


def _flat(params) -> dict:
  import jax  # pylint: disable=g-import-not-at-top
  return {stages.path_name(p): np.asarray(v)
          for p, v in jax.tree_util.tree_flatten_with_path(params)[0]}


def test_a_tiny_blip2_captioner_trains_evaluates_and_describes(tmp_path, blip2_folder):
  folder, _, _ = blip2_folder
  workdir = str(tmp_path / 'run')
  # The BLIP-2 configs' first stage: the image tower frozen with the language model.
  stage = [*_overrides(folder), '--config.train.stages=0:heads', '--config.train.num_steps=4',
           '--config.train.eval_every=4', '--config.train.log_every=1',
           '--config.train.warmup_steps=0']
  launch(workdir, *stage, '--config.train.learning_rate=1e-2', config=CONFIG)
  # The same run at a zero learning rate sees the same four batches (the data order and
  # dropout are seeded) through the released weights. Batch to batch the loss moves more
  # than four steps of a Q-Former before a random language model can move it; on the
  # same batch, the trained run's caption loss starts equal and ends lower.
  still = str(tmp_path / 'still')
  launch(still, *stage, '--config.train.learning_rate=0',
         "--config.eval.evaluators=('classification',)", config=CONFIG)  # no generation
  trained, released = ([v for _, v in sorted(read_tensorboard(w)['train/caption_loss'])]
                       for w in (workdir, still))
  assert len(trained) == len(released) == 4, (trained, released)
  assert trained[0] == pytest.approx(released[0], rel=1e-6), (trained, released)
  assert trained[-1] < released[-1], (trained, released)

  vocab = metadata.Vocabularies.from_json(os.path.join(workdir, checkpointing.VOCAB_FILE))
  model, _ = factory.restore_model(demo.get_config('tiny_caption'), vocab, workdir)
  saved = _flat(checkpointing.restore_params_into(workdir, model, sharding.make_mesh(),
                                                  4)[0].params)
  released = _flat(convert_blip2.load_blip2(str(folder)))
  ours = lambda name: ('backbone/' + name[len('vision_model/'):]
                       if name.startswith('vision_model/') else 'captioner/decoder/' + name)
  frozen = [n for n in released if n.startswith(('vision_model/', 'language_model/'))]
  moved = [n for n in released if n.startswith('qformer/')]
  assert frozen and moved
  for name in frozen:  # no gradient, no optimizer state: bit for bit the checkpoint's
    np.testing.assert_array_equal(saved[ours(name)], released[name], err_msg=name)
  assert all(not np.array_equal(saved[ours(n)], released[n]) for n in moved
             if n.endswith('kernel'))

  # The training run's evaluation scored its descriptions (mode=eval's own caption
  # report is tests/train/test_loop.py's, on the demo's GIT captioner).
  caption = read_metrics(workdir)['eval']['caption']
  assert set(caption['by_lang']) == {'en', 'fr'} and caption['bleu4'] >= 0.0
  # predict restores the trained checkpoint (its frozen parts included) and describes.
  image = next(p for p in sorted((tmp_path / 'run' / 'synthetic_raw').rglob('*.jpg')))
  output = tmp_path / 'pred.jsonl'
  launch(workdir, *_overrides(folder), '--config.mode=predict',
         f'--config.predict.inputs={image}', f'--config.predict.output={output}',
         config=CONFIG)
  record = json.loads(output.read_text().splitlines()[0])
  # A text naming a fact the heads do not give is withheld, not dropped (tiny model).
  written = {**record['generated'], **record.get('generated_withheld', {})}
  assert set(written) == {'en', 'fr'} and all(written.values())
  assert record['description']['en']


def test_zero_shot_predict_and_serve_write_transformers_greedy_caption(tmp_path, blip2_folder):
  """No training, only caption_decoder.init_from: released BLIP-2's own caption, in
  predict's output and on serve's page."""
  folder, ref, tokenizer = blip2_folder
  rgb = np.random.default_rng(0).integers(0, 256, (tiny_blip2.IMAGE_SIZE,) * 2 + (3,), np.uint8)
  path = tmp_path / 'painting.png'  # lossless, and at the model's size: no resampling
  Image.fromarray(rgb).save(path)
  output = tmp_path / 'zero_shot.jsonl'
  launch(str(tmp_path / 'empty'), *_overrides(folder), '--config.mode=predict',
         f'--config.predict.inputs={path}', f'--config.predict.output={output}', config=CONFIG)
  record = json.loads(output.read_text().splitlines()[0])
  assert 'style' not in record and 'description' not in record  # untrained heads say nothing
  import transformers  # pylint: disable=g-import-not-at-top
  pixels = transformers.AutoImageProcessor.from_pretrained(folder)(
      images=Image.open(path), return_tensors='pt')['pixel_values']
  with torch.no_grad():
    # The writer's budget: MAX_LEN new tokens after the (bucketed) prompt.
    ids = ref.generate(pixel_values=pixels, max_new_tokens=MAX_LEN, do_sample=False)
  want = tokenizer.decode(ids[0, tiny_blip2.NUM_QUERY + 1:].tolist(),
                          skip_special_tokens=True).strip()
  assert record['generated']['en'] == want
  assert len(ids[0]) > tiny_blip2.NUM_QUERY + 3  # a caption, not an immediate stop
  # The web demo's page, as `mode=serve` builds it, shows the same caption and no labels.
  pytest.importorskip('gradio')
  from wikiart_jax.apps.serve import app  # pylint: disable=g-import-not-at-top
  config = demo.get_config('tiny_caption')
  config.model.captioner = 'blip2'
  config.model.caption_decoder.init_from = str(folder)
  config.data.image_size = tiny_blip2.IMAGE_SIZE
  config.data.caption.max_len = MAX_LEN
  page = app.Demo(config, str(tmp_path / 'empty'))
  # (result, text, style, artist, genre, image, overlay, tags, period, content, status)
  _, shown, *labels, _, overlay, _, _, _, status = page.describe(str(path), 'English')
  assert shown == want and labels == [{}, {}, {}] and overlay is not None, status
  assert 'zero-shot' in page.source
