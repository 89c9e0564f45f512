"""`config.mode=predict`: label and describe image files or folders.

Each image gets its top-k style, artist and genre with probabilities and the
template description in English and French, printed and (with
`config.predict.output`) appended to a JSON-lines file as soon as it is known, so
nothing is lost if the run stops. A bad file is reported on one line and skipped;
the exit code is non-zero at the end if any file failed.
"""

import json
import os
import sys
from collections.abc import Iterator

import ml_collections
from tqdm import tqdm

from wikiart_jax import inference
from wikiart_jax.data import images as images_lib

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp', '.bmp', '.gif', '.tif', '.tiff')
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
  for task in inference.TASKS:
    top = ', '.join(f"{r['label']} {r['prob']:.2f}" for r in record[task])
    lines.append(f'  {task:6s} {top}')
  lines.append(f"  en: {record['description']['en']}")
  lines.append(f"  fr: {record['description']['fr']}")
  return '\n'.join(lines)


def predict(config: ml_collections.ConfigDict, workdir: str) -> int:
  """Labels every input image; returns the number of files that failed."""
  if not config.predict.inputs:
    raise ValueError('config.predict.inputs is empty: give image files or folders')
  paths = expand_inputs(config.predict.inputs)
  predictor = inference.Predictor(config, workdir)
  out = None
  if config.predict.output:
    os.makedirs(os.path.dirname(os.path.abspath(config.predict.output)), exist_ok=True)
    out = open(config.predict.output, 'w', encoding='utf-8')  # pylint: disable=consider-using-with
  failures = 0
  try:
    with tqdm(total=len(paths), desc='predict', unit='img', file=sys.stderr) as bar:
      for chunk in _chunks(paths):
        decoded, names = [], []
        for path in chunk:
          try:
            decoded.append(inference.load_image(path))
            names.append(path)
          except images_lib.ImageError as e:
            failures += 1
            tqdm.write(f'error: {e}', file=sys.stderr)
        if decoded:
          for path, record in zip(names, predictor.label_batch(
              decoded, k=config.predict.top_k, names=names)):
            record = {'path': path, **record}
            tqdm.write(format_record(record))
            if out:
              out.write(json.dumps(record, ensure_ascii=False) + '\n')
              out.flush()
        bar.update(len(chunk))
  finally:
    if out:
      out.close()
  return failures
