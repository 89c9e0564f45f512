"""What `prepare` writes beside a built dataset: its report and class-count charts.

`prepare_report.json` holds the counts, the skipped files with their reasons and
the split conflicts; per task, `class_counts_<task>.json` and a stacked
train/val bar chart `class_counts_<task>.png` (unless `charts` is off:
`data.class_count_charts`). The report is written last and whole: it marks the
build finished (`dataset.is_prepared`).
"""

import json
import os

from wikiart_jax import atomic
from wikiart_jax import plots
from wikiart_jax.data import dataset


def write_reports(path: str, charts: bool = True) -> dict:
  """Writes prepare_report.json and the per-task class-count JSON (+ PNG with
  `charts`); returns the report."""
  info = dataset.info_from_dir(path)
  meta = dataset.read_metadata(path)
  skipped = meta.get('skipped', [])
  report = {
      'dataset_dir': path,
      'build': meta.get('build', {}),
      'num_examples': info.num_examples,
      'num_classes': {**info.vocab.num_classes, 'artist23': len(info.artist23)},
      'num_skipped': len(skipped),
      'skipped': skipped,
      'split_report': meta.get('split_report', {}),
  }
  names = {'style': info.vocab.style, 'artist': info.vocab.artist,
           'genre': info.vocab.genre, 'artist23': info.artist23}
  for task, task_names in names.items():
    per_split = {s: c[task] for s, c in meta['class_counts'].items() if task in c}
    table = {split: {'missing': c['missing'],
                     'counts': dict(zip(task_names, c['counts']))}
             for split, c in per_split.items()}
    with open(os.path.join(path, f'class_counts_{task}.json'), 'w',
              encoding='utf-8') as f:
      json.dump(table, f, ensure_ascii=False, indent=1)
    if task_names and charts:
      figure = plots.class_counts_figure(
          {split: c['counts'] for split, c in per_split.items()}, task_names,
          title=f'WikiArt {task}: images per class ({len(task_names)} classes)')
      plots.save_png(figure, os.path.join(path, f'class_counts_{task}.png'))
  atomic.write_text(os.path.join(path, dataset.REPORT),
                    json.dumps(report, ensure_ascii=False, indent=1))
  return report
