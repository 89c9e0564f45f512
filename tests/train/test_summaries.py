"""What a run reports: metrics.json entries (numbers only), history, confusion PNGs."""

import glob
import json
import math
import os

import common
import numpy as np
import pytest

from conftest import read_tensorboard
from tensorboard.backend.event_processing import event_accumulator
from wikiart_jax.data import metadata
from wikiart_jax.metrics.classification import ClassificationAccumulator
from wikiart_jax.train import summaries

VOCAB = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])


def _metrics(seed=0):
  rng = np.random.default_rng(seed)
  out = {}
  for task, n in VOCAB.num_classes.items():
    acc = ClassificationAccumulator(n)
    acc.update(rng.random((20, n)), rng.integers(-1, n, 20))
    out[task] = acc.compute()
  out['caption'] = {'bleu4': 0.5, 'cider': float('nan'), 'count': 10,
                    'by_lang': {'en': {'bleu4': 0.4, 'count': 5}}}
  return out


def test_entries_keep_numbers_and_nested_groups_and_drop_arrays():
  metrics = _metrics()
  style = summaries.entry_summary(metrics['style'])
  assert set(style) == {'top1', 'top5', 'f1_macro', 'count'}  # no confusion, no per_class
  assert all(isinstance(v, float) for v in style.values())
  caption = summaries.entry_summary(metrics['caption'])
  assert caption == {'bleu4': 0.5, 'cider': None, 'count': 10.0,
                     'by_lang': {'en': {'bleu4': 0.4, 'count': 5.0}}}
  flat = summaries.flat_eval(metrics)
  assert flat['style_top1'] == metrics['style']['top1'] and 'caption_by_lang' not in flat
  assert math.isnan(flat['caption_cider'])


def test_write_eval_keeps_a_history_and_draws_the_confusions(tmp_path):
  report = summaries.RunSummary(str(tmp_path), common.get_config())
  report.write_train(3, {'loss': 2.0, 'style_accuracy': 0.1})
  report.write_eval(3, _metrics(0), VOCAB)
  report.write_eval(6, _metrics(1), VOCAB)
  report.write_eval(6, _metrics(2), VOCAB, from_eval_mode=True)
  report.write_eval(6, _metrics(3), VOCAB, from_eval_mode=True)  # replaces the previous one
  report.close()
  with open(tmp_path / 'metrics.json', encoding='utf-8') as f:
    saved = json.load(f)
  assert saved['step'] == 6 and saved['train'] == {'loss': 2.0, 'style_accuracy': 0.1, 'step': 3}
  assert [(h['step'], h.get('mode')) for h in saved['history']] == [(3, None), (6, None),
                                                                    (6, 'eval')]
  assert saved['eval']['artist']['top1'] == summaries.entry_summary(_metrics(3)['artist'])['top1']
  for task in ('style', 'genre', 'artist'):
    assert os.path.getsize(tmp_path / f'confusion_{task}.png') > 1000
  resumed = summaries.RunSummary(str(tmp_path), common.get_config())
  resumed.load_history()
  assert len(resumed.metrics_json()['history']) == 3
  resumed.close()


def test_without_confusion_figures_the_scalars_and_metrics_json_are_still_written(tmp_path):
  config = common.get_config()
  config.eval.confusion_figures = False
  report = summaries.RunSummary(str(tmp_path), config)
  report.write_eval(3, _metrics(0), VOCAB)
  report.write_eval(3, _metrics(1), VOCAB, split='test')
  report.close()
  with open(tmp_path / 'metrics.json', encoding='utf-8') as f:
    saved = json.load(f)
  assert saved['step'] == 3 and saved['test_step'] == 3
  assert saved['test']['style'] == summaries.entry_summary(_metrics(1)['style'])
  assert not [n for n in os.listdir(tmp_path) if n.startswith('confusion_')]
  assert read_tensorboard(str(tmp_path))['eval/style_top1'] == [
      (3, pytest.approx(_metrics(0)['style']['top1']))]
  (events,) = glob.glob(str(tmp_path / 'events.out.tfevents.*'))
  acc = event_accumulator.EventAccumulator(events, size_guidance={'images': 0, 'tensors': 0})
  acc.Reload()
  tags = [t for kind in ('images', 'tensors') for t in acc.Tags()[kind]]
  assert not [t for t in tags if 'confusion' in t], tags
