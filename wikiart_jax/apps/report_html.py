"""Evaluation report: one self-contained `index.html` and a `report.md`.

The report is built once as a small list of blocks (headings, tables, images,
sample cards: apps/report_render.py) and rendered twice, so the HTML and the
Markdown never disagree. The HTML has inline CSS and relative image links only
(no CDN, no script), so the folder can be zipped, mailed or served as is. Every
piece of text from the data (titles with quotes, accents, `<` or `>`) is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import math
import os
import re
import shutil
from typing import Any

from absl import logging
import numpy as np
from PIL import Image

from wikiart_jax import plots
from wikiart_jax.apps.report_render import Card as _Card
from wikiart_jax.apps.report_render import Cards as _Cards
from wikiart_jax.apps.report_render import Figure as _Figure
from wikiart_jax.apps.report_render import Heading as _Heading
from wikiart_jax.apps.report_render import Para as _Para
from wikiart_jax.apps.report_render import Table as _Table
from wikiart_jax.apps.report_render import render_html as _render_html
from wikiart_jax.apps.report_render import render_markdown as _render_markdown
from wikiart_jax.metrics import classification
from wikiart_jax.metrics import ratings as ratings_lib

# Confusion matrices above this many classes show only the most frequent ones.
CONFUSION_TOP_N = 50
MOST_CONFUSED_K = 10
THUMBNAIL_SIZE = 256
# Longer per-class tables are folded in the HTML (1,119 artists).
_FOLD_ROWS = 30


def write_report(out_dir: str | os.PathLike, *,
                 metrics: Mapping[str, Mapping[str, Any]],
                 names: Mapping[str, Sequence[str]],
                 samples: Sequence[Mapping[str, Any]] = (),
                 caption_metrics: Mapping[str, Any] | None = None,
                 class_count_pngs: Sequence[str | os.PathLike] | None = None,
                 human_ratings: Sequence[Mapping[str, Any]] | None = None,
                 split: str = 'val', other_split: tuple | None = None,
                 baselines: Mapping[str, Mapping[str, Mapping]] | None = None,
                 calibration: Mapping[str, Mapping[str, Any]] | None = None,
                 notes: Sequence[str] = (),
                 tag_metrics: Mapping[str, Any] | None = None,
                 tag_names: Sequence[str] = ()) -> str:
  """Writes `out_dir/index.html`, `out_dir/report.md` and their images.

  Args:
    out_dir: output folder (created); images go to `out_dir/img/`.
    metrics: task -> `ClassificationAccumulator.compute()` dict (arrays or the
      lists of a JSON round trip).
    names: task -> class display names, in label order.
    samples: dicts with `image` (path, or uint8 [H, W] / [H, W, 3|4] array),
      `true` ({task: name or None}), `pred` ({task: [(name, prob), ...]} best
      first), `descriptions` ({label: text}, e.g. {'en': ..., 'fr': ...}), an
      optional `title`, optional `content` lines ({label: text}: tags, period,
      palette, light) and an optional `palette` (predict's record: a strip of
      its colours is drawn under the thumbnail).
    caption_metrics: {metric: value} or {group: {metric: value}}, e.g. per
      language; omitted when None.
    class_count_pngs: class-distribution charts to copy in.
    human_ratings: ratings as `metrics.ratings` stores them (integer
      `correctness` and `fluency`, an optional `lang`); `ratings.aggregate`
      gives the counts and means.
    split: the split `metrics` were computed on.
    other_split: (name, step, {task: {'top1', 'top5', 'f1_macro', 'count'}}) of
      the other split, summarised beside this one.
    baselines: {name: {task: {'top1', 'top5', 'f1_macro', 'count'}}} of other
      models on the same split (the zero-shot CLIP baseline), rows beside ours.
    calibration: {task: {'temperature', 'ece_before', 'ece_after', ...}}.
    notes: paragraphs shown under the title (e.g. that the data was synthetic).
    tag_metrics: `TagAccumulator.compute()` (metrics/tags.py), or None.
    tag_names: the tags' names, in the order of its per-tag arrays.

  Returns:
    The path of `index.html`.
  """
  out_dir = os.fspath(out_dir)
  os.makedirs(os.path.join(out_dir, 'img'), exist_ok=True)
  blocks: list[Any] = [_Heading(1, 'wikiart-jax evaluation report')]
  blocks += [_Para(note) for note in notes]
  blocks += _summary_blocks(metrics, split, other_split, baselines)
  if calibration:
    blocks += [_Heading(2, 'Calibration (temperature scaling)'),
               _Table(['task', 'temperature', 'ECE before', 'ECE after', 'NLL before',
                       'NLL after'],
                      [[t, *(_fmt(m.get(k)) for k in ('temperature', 'ece_before', 'ece_after',
                                                      'nll_before', 'nll_after'))]
                       for t, m in calibration.items()])]
  if tag_metrics:
    blocks += _tag_blocks(tag_metrics, list(tag_names))
  if 'period' in metrics:
    m = metrics['period']
    blocks.append(_Para(f'Period: the expected year is off by {_fmt(m.get("mae_years"))} '
                        f'years on average; {_fmt(m.get("within_25"))} of the '
                        f'{_fmt(m.get("count"))} dated images within 25 years.'))
  for task, m in metrics.items():
    if task not in names:
      raise ValueError(f'names has no entry for task {task!r}')
    blocks += _task_blocks(out_dir, task, m, list(names[task]))
  if caption_metrics:
    blocks += _caption_blocks(caption_metrics)
  if human_ratings:
    blocks += _rating_blocks(human_ratings)
  if class_count_pngs:
    blocks += _count_chart_blocks(out_dir, class_count_pngs)
  if samples:
    blocks += [_Heading(2, 'Samples'),
               _Cards([_sample_card(out_dir, i, s)
                       for i, s in enumerate(samples)])]
  index = os.path.join(out_dir, 'index.html')
  with open(index, 'w', encoding='utf-8') as f:
    f.write(_render_html(blocks))
  with open(os.path.join(out_dir, 'report.md'), 'w', encoding='utf-8') as f:
    f.write(_render_markdown(blocks))
  return index


# ---------------------------------------------------------------------------
# Sections.


def _fmt(value: Any) -> str:
  """Numbers for tables: ints as is, floats to 4 places, NaN/None as n/a."""
  if value is None:
    return 'n/a'
  if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
    return str(int(value))
  if isinstance(value, (float, np.floating)):
    return 'n/a' if math.isnan(value) else f'{float(value):.4f}'
  return str(value)


def _summary_blocks(metrics, split='val', other_split=None, baselines=None):
  rows = [[task, split, _fmt(m.get('top1')), _fmt(m.get('top5')),
           _fmt(m.get('f1_macro')), _fmt(m.get('count'))]
          for task, m in metrics.items()]
  if other_split:
    name, step, other = other_split
    rows += [[task, f'{name} (step {step})', _fmt(m.get('top1')), _fmt(m.get('top5')),
              _fmt(m.get('f1_macro')), _fmt(m.get('count'))]
             for task, m in other.items() if task in metrics and isinstance(m, Mapping)]
  for name, by_task in (baselines or {}).items():
    rows += [[task, f'{split}: {name}', _fmt(m.get('top1')), _fmt(m.get('top5')),
              _fmt(m.get('f1_macro')), _fmt(m.get('count'))] for task, m in by_task.items()]
  return [_Heading(2, 'Summary'),
          _Table(['task', 'split', 'top-1', 'top-5', 'macro-F1', 'examples'], rows),
          _Para('Macro-F1 averages over the classes present in the labels or '
                'the predictions; rows with a missing label are ignored.')]


def _task_blocks(out_dir, task, m, task_names):
  confusion = np.asarray(m['confusion'])
  top_n = CONFUSION_TOP_N if len(task_names) > CONFUSION_TOP_N else None
  title = (f'{task}: {top_n} most frequent classes' if top_n
           else f'{task}: all {len(task_names)} classes')
  src = f'img/confusion_{_slug(task)}.png'
  plots.save_png(plots.confusion_figure(confusion, task_names, top_n=top_n,
                                        title=f'{title} (row-normalised)'),
                 os.path.join(out_dir, src))
  pairs = classification.most_confused_pairs(confusion, task_names,
                                             MOST_CONFUSED_K)
  per = {k: np.asarray(v) for k, v in m['per_class'].items()}
  predicted = confusion.sum(axis=0)
  # Same class set as macro-F1: the rest would be rows of zeros.
  present = np.flatnonzero((per['support'] + predicted) > 0)
  present = present[np.argsort(-per['support'][present], kind='stable')]
  class_rows = [[task_names[i], _fmt(per['precision'][i]),
                 _fmt(per['recall'][i]), _fmt(per['f1'][i]),
                 _fmt(int(per['support'][i]))] for i in present]
  return [
      _Heading(2, f'Task: {task}'),
      _Para(f'top-1 {_fmt(m.get("top1"))}, top-5 {_fmt(m.get("top5"))}, '
            f'macro-F1 {_fmt(m.get("f1_macro"))} on {_fmt(m.get("count"))} '
            'labelled images.'),
      _Figure(src, f'confusion matrix, {title}'),
      _Heading(3, 'Most confused pairs'),
      _Table(['true', 'predicted as', 'count', 'share of true class'],
             [[p.true, p.predicted, _fmt(p.count), _fmt(p.rate)]
              for p in pairs]) if pairs else _Para('No confusions.'),
      _Heading(3, 'Per-class precision, recall, F1'),
      _Table(['class', 'precision', 'recall', 'F1', 'support'], class_rows,
             summary=(f'{len(class_rows)} classes, most frequent first'
                      if len(class_rows) > _FOLD_ROWS else '')),
  ]


def _tag_blocks(m, tag_names):
  """mAP and F1s, and a per-tag table (tags with a positive, most frequent first)."""
  ap, f1 = np.asarray(m['per_tag_ap'], np.float64), np.asarray(m['per_tag_f1'], np.float64)
  support = np.asarray(m['per_tag_support'])
  if len(tag_names) != len(ap):
    raise ValueError(f'{len(ap)} per-tag values but {len(tag_names)} tag names')
  order = [i for i in np.argsort(-support, kind='stable') if support[i] > 0]
  rows = [[tag_names[i], _fmt(float(ap[i])), _fmt(float(f1[i])), _fmt(int(support[i]))]
          for i in order]
  return [_Heading(2, 'Content tags'),
          _Para(f'mAP {_fmt(m.get("map"))} over {_fmt(m.get("tags"))} tags with a positive; '
                f'F1 micro {_fmt(m.get("f1_micro"))}, macro {_fmt(m.get("f1_macro"))} at '
                f'threshold {_fmt(m.get("threshold"))}; {_fmt(m.get("count"))} images with '
                'known tags.'),
          _Table(['tag', 'AP', 'F1', 'positives'], rows,
                 summary=(f'{len(rows)} tags, most frequent first'
                          if len(rows) > _FOLD_ROWS else ''))]


def _caption_blocks(caption_metrics):
  blocks: list[Any] = [_Heading(2, 'Caption metrics')]
  values = list(caption_metrics.values())
  if all(isinstance(v, Mapping) for v in values):
    cols = list(dict.fromkeys(k for v in values for k in v))
    rows = [[group] + [_fmt(v.get(c)) for c in cols]
            for group, v in caption_metrics.items()]
    blocks.append(_Table([''] + cols, rows))
  else:
    blocks.append(_Table(['metric', 'value'],
                         [[k, _fmt(v)] for k, v in caption_metrics.items()]))
  return blocks


def _rating_blocks(ratings):
  summary = ratings_lib.aggregate(ratings)
  groups = {'all': summary, **{lang: g for lang, g in summary['by_lang'].items() if lang}}
  rows = [[name, _fmt(g['count']), _fmt(g['correctness']['mean']),
           _fmt(g['fluency']['mean'])] for name, g in groups.items() if g['count']]
  return [_Heading(2, 'Human ratings of the descriptions'),
          _Table(['group', 'ratings', 'mean correctness', 'mean fluency'],
                 rows)]


def _count_chart_blocks(out_dir, pngs):
  blocks: list[Any] = [_Heading(2, 'Class distribution')]
  for i, path in enumerate(pngs):
    path = os.fspath(path)
    if not os.path.isfile(path):
      logging.warning('report: class-count chart %s not found, skipped', path)
      continue
    src = f'img/counts_{i}_{_slug(os.path.basename(path))}'
    shutil.copyfile(path, os.path.join(out_dir, src))
    blocks.append(_Figure(src, f'class counts: {os.path.basename(path)}'))
  return blocks


def _sample_card(out_dir, i, sample):
  src = _save_thumbnail(sample.get('image'), out_dir, f'img/sample_{i:03d}.jpg')
  image = sample.get('image')
  title = str(sample.get('title') or
              (os.path.basename(image) if isinstance(image, (str, os.PathLike))
               else f'sample {i}'))
  lines = []
  true = sample.get('true') or {}
  for task, preds in (sample.get('pred') or {}).items():
    guess = ', '.join(f'{name} ({float(p):.0%})' for name, p in preds)
    label = true.get(task)
    if label is None:
      verdict = 'true: unknown'
    else:
      hit = bool(preds) and preds[0][0] == label
      verdict = f'true: {label} {"✓" if hit else "✗"}'
    lines.append((task, f'{guess}; {verdict}'))
  for key, text in (sample.get('content') or {}).items():
    lines.append((str(key), str(text)))
  for key, text in (sample.get('descriptions') or {}).items():
    lines.append((str(key), str(text)))
  strip = (_save_palette_strip(sample['palette'], out_dir, f'img/palette_{i:03d}.png')
           if sample.get('palette') else None)
  return _Card(src, title, lines, strip)


def _save_palette_strip(palette, out_dir, src, size=(THUMBNAIL_SIZE, 16)):
  """The palette's colours side by side, each as wide as its share (a grey ramp for
  a black-and-white picture)."""
  width, height = size
  strip = np.full((height, width, 3), 255, np.uint8)
  if palette['black_and_white']:
    strip[:] = np.linspace(0, 255, width).astype(np.uint8)[None, :, None]
  else:
    total = sum(c['share'] for c in palette['colours']) or 1.0
    left = 0
    for c in palette['colours']:
      right = left + round(width * c['share'] / total)
      strip[:, left:right] = [int(c['hex'][k:k + 2], 16) for k in (1, 3, 5)]
      left = right
  Image.fromarray(strip).save(os.path.join(out_dir, src))
  return src


def _save_thumbnail(image, out_dir, src):
  """Saves a JPEG thumbnail; None (and a warning) when a file cannot be read."""
  if isinstance(image, np.ndarray):
    if image.dtype != np.uint8 or not (
        image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4))):
      raise ValueError('sample image arrays must be uint8 [H, W] or '
                       f'[H, W, 1|3|4], got {image.dtype} {image.shape}')
    im = Image.fromarray(image[..., 0] if image.ndim == 3 and
                         image.shape[2] == 1 else image)
  elif isinstance(image, (str, os.PathLike)):
    try:
      with Image.open(image) as f:
        im = f.copy()
    except (OSError, ValueError) as e:  # missing, truncated, not an image
      logging.warning('report: cannot read sample image %s: %s', image, e)
      return None
  else:
    raise ValueError(f'sample image must be a path or uint8 array, got '
                     f'{type(image).__name__}')
  im = im.convert('RGB')
  im.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
  im.save(os.path.join(out_dir, src), quality=90)
  return src


def _slug(text: str) -> str:
  return re.sub(r'[^A-Za-z0-9_.-]', '_', text)
