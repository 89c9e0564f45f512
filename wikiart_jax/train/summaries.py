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

from wikiart_jax.eval import plots

SUMMARY_KEYS = ('top1', 'top5', 'f1_macro', 'count')


def flat_eval(eval_metrics: dict[str, dict]) -> dict[str, float]:
  """{'style_top1': ..., 'artist_f1_macro': ...} for checkpoints and TensorBoard."""
  return {f'{task}_{key}': float(m[key])
          for task, m in eval_metrics.items() for key in SUMMARY_KEYS if key in m}


CAPTION_KEYS = ('bleu1', 'bleu2', 'bleu3', 'bleu4', 'rouge_l', 'cider', 'clipscore',
                'style_named', 'count')


def eval_line(step: int, eval_metrics: dict[str, dict], caption: dict | None = None) -> str:
  """One human line: 'step 1500 eval: style top1 0.953 top5 ... | artist ...'."""
  parts = [f"{task} top1 {m['top1']:.3f} top5 {m['top5']:.3f} F1 {m['f1_macro']:.3f}"
           for task, m in eval_metrics.items()]
  if caption:
    parts.append(f"caption BLEU-4 {caption['bleu4']:.3f} ROUGE-L {caption['rouge_l']:.3f} "
                 f"CIDEr {caption['cider']:.3f} style named {caption['style_named']:.3f}")
  return f'step {step} eval: ' + ' | '.join(parts)


def caption_summary(caption: dict) -> dict:
  """The caption metrics for metrics.json: the scores, per language too."""
  out = {k: _jsonable(float(caption[k])) for k in CAPTION_KEYS if k in caption}
  out['by_lang'] = {lang: {k: _jsonable(float(v)) for k, v in m.items()}
                    for lang, m in caption.get('by_lang', {}).items()}
  return out


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
                 *, from_eval_mode: bool = False, caption: dict | None = None,
                 caption_samples: list[dict] | None = None) -> None:
    """Scalars, confusion matrices (PNG + TensorBoard), descriptions, metrics.json."""
    self.writer.write_scalars(
        step, {f'eval/{k}': v for k, v in flat_eval(eval_metrics).items()})
    summary = {task: {k: _jsonable(float(m[k])) for k in SUMMARY_KEYS if k in m}
               for task, m in eval_metrics.items()}
    if caption:
      summary['caption'] = caption_summary(caption)
      self.writer.write_scalars(step, {f'eval/caption_{k}': v for k, v in
                                       summary['caption'].items() if k != 'by_lang'
                                       and v is not None})
    if caption_samples:
      self.writer.write_texts(step, {
          f'eval/description_{i}': f"[{s['lang']}] {s['generated']}  \n(reference: {s['reference']})"
          for i, s in enumerate(caption_samples)})
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
