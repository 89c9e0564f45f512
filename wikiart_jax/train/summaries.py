"""What a run reports: TensorBoard scalars and images, metrics.json, confusion PNGs.

`metrics.json` follows the command-line contract (DESIGN.md):
`{"step": int, "eval": {"style": {"top1", "top5", "f1_macro"}, ...}}` on the
val split, `"test"` with the same structure on the test split (of the checkpoint
val selected, at `"test_step"`), the latest training scalars and the history of
every evaluation of the run. The 'eval' and 'test' sections hold every
evaluator's entries (evaluators/), numbers only.
"""

import json
import math
import os

import jax
import ml_collections
import numpy as np

from wikiart_jax import plots
from wikiart_jax.core import PERIOD, TAGS
from wikiart_jax.metrics import period as period_lib
from wikiart_jax.train import tracking


def _is_number(value) -> bool:
  return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _jsonable(value):
  value = float(value)
  return value if math.isfinite(value) else None


def entry_summary(entry: dict) -> dict:
  """An evaluator's entry for metrics.json: its numbers (as floats, NaN as null) and
  nested groups of numbers (e.g. 'by_lang'); arrays (confusion, per-class) are left
  to the reports."""
  out = {}
  for key, value in entry.items():
    if _is_number(value):
      out[key] = _jsonable(value)
    elif isinstance(value, dict):
      nested = entry_summary(value)
      if nested:
        out[key] = nested
  return out


def flat_eval(metrics: dict[str, dict]) -> dict[str, float]:
  """{'style_top1': ..., 'caption_bleu4': ...}: every top-level number of every entry,
  for checkpoints and TensorBoard."""
  return {f'{name}_{key}': float(value)
          for name, entry in metrics.items() for key, value in entry.items()
          if _is_number(value)}


def _write_json_atomically(path: str, payload: dict) -> None:
  tmp = f'{path}.tmp'
  with open(tmp, 'w', encoding='utf-8') as f:
    json.dump(payload, f, indent=2, ensure_ascii=False)
  os.replace(tmp, path)


class RunSummary:
  """Writes a run's summaries; only process 0 writes files."""

  def __init__(self, workdir: str, config: ml_collections.ConfigDict):
    self.workdir = workdir
    self._config = config
    self._is_writer = jax.process_index() == 0
    self.writer = tracking.make_writer(workdir, config)  # TensorBoard (+ wandb)
    self._path = os.path.join(workdir, 'metrics.json')
    self._payload = {'step': 0, 'eval': {}, 'train': {}, 'history': []}

  def load_history(self) -> None:
    """Keeps the evaluations already in metrics.json (resumed or eval runs)."""
    if os.path.exists(self._path):
      with open(self._path, encoding='utf-8') as f:
        self._payload.update(json.load(f))

  def tag_threshold(self, step: int) -> float | None:
    """The tags' F1 threshold val chose at `step` (training's evaluation first, then
    mode=eval's), for scoring test alike; None when val has none."""
    entries = sorted((h for h in self._payload['history'] if h['step'] == step),
                     key=lambda h: h.get('mode') == 'eval')
    for entry in entries:
      threshold = entry['eval'].get(TAGS, {}).get('threshold')
      if threshold is not None:
        return float(threshold)
    return None

  def write_train(self, step: int, scalars: dict[str, float]) -> None:
    self.writer.write_scalars(step, {f'train/{k}': v for k, v in scalars.items()})
    self._payload['train'] = {k: _jsonable(v) for k, v in scalars.items()}
    self._payload['train']['step'] = step

  def write_eval(self, step: int, metrics: dict[str, dict], vocab, *,
                 from_eval_mode: bool = False, samples: list[dict] | None = None,
                 split: str = 'val') -> None:
    """Scalars, confusion matrices (PNG + TensorBoard, unless eval.confusion_figures is
    off), descriptions, metrics.json.

    Args:
      step: the evaluated step.
      metrics: the evaluators' entries (`evaluators.runner.Evaluation.metrics`).
      vocab: the dataset's vocabularies (confusion matrix labels).
      from_eval_mode: the entry comes from `mode=eval` (kept apart in the history).
      samples: generated descriptions to show ({'lang', 'generated', 'reference'}).
      split: 'val' goes to metrics.json's `eval`, 'test' to `test` (with
        `test_step`, the step of the checkpoint that val selected).
    """
    if split not in ('val', 'test'):
      raise ValueError(f"split must be 'val' or 'test', got {split!r}")
    prefix = 'eval' if split == 'val' else 'test'
    self.writer.write_scalars(step, {f'{prefix}/{k}': v
                                     for k, v in flat_eval(metrics).items()})
    summary = {name: entry_summary(entry) for name, entry in metrics.items()}
    if samples:
      self.writer.write_texts(step, {
          f'{prefix}/description_{i}': f"[{s['lang']}] {s['generated']}  \n"
                                       f"(reference: {s['reference']})"
          for i, s in enumerate(samples)})
    if split == 'test':
      self._payload['test'] = summary
      self._payload['test_step'] = step
    else:
      entry = {'step': step, 'eval': summary}
      if from_eval_mode:
        entry['mode'] = 'eval'
      self._payload['history'] = [
          h for h in self._payload['history']
          if not (h['step'] == step and h.get('mode') == entry.get('mode'))] + [entry]
      self._payload['step'] = step
      self._payload['eval'] = summary
    if not self._is_writer:
      return
    if self._config.eval.confusion_figures:
      self.writer.write_images(step, self._confusion_images(step, metrics, vocab, split))
    self.writer.flush()
    _write_json_atomically(self._path, self._payload)

  def _confusion_images(self, step: int, metrics: dict[str, dict], vocab,
                        split: str) -> dict[str, np.ndarray]:
    """Draws each task's confusion matrix, writes its PNG; {TensorBoard tag: [1, H, W, 3]}."""
    prefix = 'eval' if split == 'val' else 'test'
    images = {}
    names = {'style': vocab.style, 'genre': vocab.genre, 'artist': vocab.artist_names,
             PERIOD: period_lib.bin_labels()}
    for task, top_n in (('style', None), ('genre', None), ('artist', 50), (PERIOD, None)):
      if task not in metrics:
        continue
      fig = plots.confusion_figure(
          metrics[task]['confusion'], names[task], top_n=top_n,
          title=f'{task} confusion, {split}, step {step}')
      suffix = '' if split == 'val' else '_test'
      image = plots.figure_to_array(fig)
      plots.write_png(image, os.path.join(self.workdir, f'confusion_{task}{suffix}.png'))
      images[f'{prefix}/confusion_{task}'] = image[None]
    return images

  def metrics_json(self) -> dict:
    return self._payload

  def close(self) -> None:
    self.writer.flush()
    self.writer.close()
