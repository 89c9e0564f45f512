"""`config.mode=predict`: label and describe image files or folders.

Each image gets its top-k style, artist and genre with calibrated probabilities,
its top-k content tags and its period (expected year and top-3 bins) when the
model has those heads, its palette and light (measured from the pixels), and the
composed description in English and French (zero-shot BLIP-2: its own captions,
the palette and light alone), printed and (with
`config.predict.output`) appended to a JSON-lines file and a CSV twin (same
name, `.csv`) as soon as it is known, so nothing is lost if the run stops. A bad
file is reported on one line and skipped; the exit code is non-zero at the end if
any file failed. A title or a year appears only when `predict.metadata` or
`predict.titles_from_wikiart_names` supplies it. The first line printed says so
when the checkpoint was trained on the synthetic demo set.
"""

import csv
import json
import os
import sys
from collections.abc import Iterator

import ml_collections
from tqdm import tqdm

from wikiart_jax.core import IMAGE_EXTENSIONS, TASKS, ImageError
from wikiart_jax.inference import predictor as predictor_lib

BATCH = 32


def expand_inputs(inputs: str) -> list[str]:
  """Files and (recursively) the images inside folders, in a stable order."""
  paths = []
  for item in (p.strip() for p in inputs.split(',')):
    if not item:
      continue
    if os.path.isdir(item):
      for root, _, files in sorted(os.walk(item)):
        paths.extend(os.path.join(root, f) for f in sorted(files)
                     if f.lower().endswith(IMAGE_EXTENSIONS))
    elif os.path.exists(item):
      paths.append(item)
    else:
      raise FileNotFoundError(f'config.predict.inputs: {item} does not exist')
  if not paths:
    raise ValueError(f'config.predict.inputs: no image files in {inputs!r}')
  return paths


def _chunks(paths: list[str]) -> Iterator[list[str]]:
  for i in range(0, len(paths), BATCH):
    yield paths[i:i + BATCH]


def format_record(record: dict) -> str:
  """A few readable lines for one image."""
  lines = [record['path']]
  for task in TASKS:
    if task in record:  # a zero-shot record has no labels
      top = ', '.join(f"{r['label']} {r['prob']:.2f}" for r in record[task])
      lines.append(f'  {task:6s} {top}')
  if 'tags' in record:
    lines.append('  tags   ' + ', '.join(f"{t['tag']} {t['prob']:.2f}" for t in record['tags']))
  if 'period' in record:
    top = ', '.join(f"{b['label']} {b['prob']:.2f}" for b in record['period']['top'])
    lines.append(f"  period ~{record['period']['year']} ({top})")
  if 'palette' in record:
    lines.append(f"  colour {palette_text(record['palette'])}; "
                 + ', '.join(f'{k} {v:.2f}' for k, v in record['light'].items()))
  for lang, text in record.get('description', {}).items():
    lines.append(f'  {lang}: {text}')
  for lang, text in record.get('generated', {}).items():
    lines.append(f'  {lang} (captioner): {text}')
  return '\n'.join(lines)


CSV_COLUMNS = ('path', 'style', 'style_prob', 'artist', 'artist_prob', 'genre',
               'genre_prob', 'description_en', 'description_fr', 'generated_en',
               'generated_fr', 'tags', 'period_year', 'period_bins', 'palette',
               'lightness', 'contrast', 'saturation')


def palette_text(palette: dict) -> str:
  """'blue 0.42; white 0.30', or 'black and white'."""
  if palette['black_and_white']:
    return 'black and white'
  return '; '.join(f"{c['en']} {c['share']:.2f}" for c in palette['colours'])


def csv_path(jsonl_path: str) -> str:
  """The CSV written beside a `.jsonl` output."""
  stem = jsonl_path[:-len('.jsonl')] if jsonl_path.endswith('.jsonl') else jsonl_path
  return stem + '.csv'


def csv_row(record: dict) -> list:
  """One CSV row: the top-1 of each task, both descriptions, the top tags ('tag p; ...'),
  the period (expected year; top bins), the palette and the light ('' where absent)."""
  row = [record['path']]
  for task in TASKS:
    top = record[task][0] if task in record else {'label': '', 'prob': ''}
    row += [top['label'], top['prob']]
  description, generated = record.get('description', {}), record.get('generated', {})
  period = record.get('period')
  light = record.get('light', {})
  return row + [description.get('en', ''), description.get('fr', ''),
                generated.get('en', ''), generated.get('fr', ''),
                '; '.join(f"{t['tag']} {t['prob']:.4f}" for t in record.get('tags', [])),
                period['year'] if period else '',
                '; '.join(f"{b['label']} {b['prob']:.4f}" for b in period['top']) if period else '',
                palette_text(record['palette']) if 'palette' in record else '',
                *(light.get(k, '') for k in ('lightness', 'contrast', 'saturation'))]


class _Outputs:
  """The JSON-lines file and its CSV twin, flushed after every image."""

  def __init__(self, jsonl_path: str):
    os.makedirs(os.path.dirname(os.path.abspath(jsonl_path)), exist_ok=True)
    self._jsonl = open(jsonl_path, 'w', encoding='utf-8')  # pylint: disable=consider-using-with
    self._csv_file = open(csv_path(jsonl_path), 'w', encoding='utf-8', newline='')  # pylint: disable=consider-using-with
    self._csv = csv.writer(self._csv_file)
    self._csv.writerow(CSV_COLUMNS)

  def write(self, record: dict) -> None:
    self._jsonl.write(json.dumps(record, ensure_ascii=False) + '\n')
    self._csv.writerow(csv_row(record))
    self._jsonl.flush()
    self._csv_file.flush()

  def close(self) -> None:
    self._jsonl.close()
    self._csv_file.close()


def predict(config: ml_collections.ConfigDict, workdir: str) -> int:
  """Labels every input image; returns the number of files that failed."""
  if not config.predict.inputs:
    raise ValueError('config.predict.inputs is empty: give image files or folders')
  paths = expand_inputs(config.predict.inputs)
  predictor = predictor_lib.Predictor(config, workdir)
  if predictor.synthetic:
    print(f'note: {predictor_lib.SYNTHETIC_NOTE}', flush=True)
  outputs = _Outputs(config.predict.output) if config.predict.output else None
  failures = 0
  try:
    with tqdm(total=len(paths), desc='predict', unit='img', file=sys.stderr) as bar:
      for chunk in _chunks(paths):
        decoded, names = [], []
        for path in chunk:
          try:
            decoded.append(predictor_lib.load_image(path, config.data.max_image_pixels))
            names.append(path)
          except ImageError as e:
            failures += 1
            tqdm.write(f'error: {e}', file=sys.stderr)
        if decoded:
          for path, record in zip(names, predictor.label_batch(
              decoded, k=config.predict.top_k, names=names)):
            record = {'path': path, **record}
            tqdm.write(format_record(record))
            if outputs:
              outputs.write(record)
        bar.update(len(chunk))
  finally:
    if outputs:
      outputs.close()
  return failures
