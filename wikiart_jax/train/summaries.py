"""What a run reports: TensorBoard scalars and images, metrics.json, confusion PNGs.

`metrics.json` follows the command-line contract (DESIGN.md):
`{"step": int, "eval": {"style": {"top1", "top5", "f1_macro"}, ...}}`, plus the
latest training scalars and the history of every evaluation of the run.
"""

import json
import math
import os

import jax
import ml_collections
import numpy as np

from wikiart_jax.eval import plots

SUMMARY_KEYS = ('top1', 'top5', 'f1_macro', 'count')


def flat_eval(eval_metrics: dict[str, dict]) -> dict[str, float]:
  """{'style_top1': ..., 'artist_f1_macro': ...} for checkpoints and TensorBoard."""
  return {f'{task}_{key}': float(m[key])
          for task, m in eval_metrics.items() for key in SUMMARY_KEYS if key in m}


def eval_line(step: int, eval_metrics: dict[str, dict]) -> str:
  """One human line: 'step 1500 eval: style top1 0.953 top5 ... | artist ...'."""
  parts = [f"{task} top1 {m['top1']:.3f} top5 {m['top5']:.3f} F1 {m['f1_macro']:.3f}"
           for task, m in eval_metrics.items()]
  return f'step {step} eval: ' + ' | '.join(parts)


def _jsonable(value):
  if isinstance(value, float) and not math.isfinite(value):
    return None
  return value


def _write_json_atomically(path: str, payload: dict) -> None:
  tmp = f'{path}.tmp'
  with open(tmp, 'w', encoding='utf-8') as f:
    json.dump(payload, f, indent=2, ensure_ascii=False)
  os.replace(tmp, path)


class RunSummary:
  """Writes a run's summaries; only process 0 writes files."""

  def __init__(self, workdir: str, config: ml_collections.ConfigDict):
    # Imported here: clu's writers import TensorFlow, which the GPU image lacks.
    from clu import metric_writers  # pylint: disable=g-import-not-at-top
    self.workdir = workdir
    self._config = config
    self._is_writer = jax.process_index() == 0
    self.writer = metric_writers.create_default_writer(
        workdir, just_logging=not self._is_writer, asynchronous=False)
    self._path = os.path.join(workdir, 'metrics.json')
    self._payload = {'step': 0, 'eval': {}, 'train': {}, 'history': []}

  def load_history(self) -> None:
    """Keeps the evaluations already in metrics.json (resumed or eval runs)."""
    if os.path.exists(self._path):
      with open(self._path, encoding='utf-8') as f:
        self._payload.update(json.load(f))

  def write_train(self, step: int, scalars: dict[str, float]) -> None:
    self.writer.write_scalars(step, {f'train/{k}': v for k, v in scalars.items()})
    self._payload['train'] = {k: _jsonable(v) for k, v in scalars.items()}
    self._payload['train']['step'] = step

  def write_eval(self, step: int, eval_metrics: dict[str, dict], vocab,
                 *, from_eval_mode: bool = False) -> None:
    """Scalars, confusion matrices (PNG + TensorBoard) and metrics.json."""
    self.writer.write_scalars(
        step, {f'eval/{k}': v for k, v in flat_eval(eval_metrics).items()})
    summary = {task: {k: _jsonable(float(m[k])) for k in SUMMARY_KEYS if k in m}
               for task, m in eval_metrics.items()}
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
    images = {}
    names = {'style': vocab.style, 'genre': vocab.genre, 'artist': vocab.artist_names}
    for task, top_n in (('style', None), ('genre', None), ('artist', 50)):
      if task not in eval_metrics:
        continue
      fig = plots.confusion_figure(
          eval_metrics[task]['confusion'], names[task], top_n=top_n,
          title=f'{task} confusion, step {step}')
      plots.save_png(fig, os.path.join(self.workdir, f'confusion_{task}.png'))
      images[f'eval/confusion_{task}'] = plots.figure_to_array(fig)[None]
    self.writer.write_images(step, images)
    self.writer.flush()
    _write_json_atomically(self._path, self._payload)

  def metrics_json(self) -> dict:
    return self._payload

  def close(self) -> None:
    self.writer.flush()
    self.writer.close()


def history_scalars(payload: dict, task: str, key: str = 'top1'
                    ) -> list[tuple[int, float]]:
  """(step, value) pairs of one eval metric over a run's history, for plots."""
  return [(h['step'], h['eval'][task][key]) for h in payload.get('history', [])
          if task in h.get('eval', {}) and h['eval'][task].get(key) is not None
          and h.get('mode') != 'eval' and np.isfinite(h['eval'][task][key])]
