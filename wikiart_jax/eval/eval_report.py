"""The evaluation report of a run: `<workdir>/report/index.html` and `report.md`.

Gathers what `report.write_report` shows: the held-out metrics, a grid of sample
images from the evaluation split with their predictions and descriptions, the
class-count charts written by `prepare`, and the human ratings collected by the
web demo.
"""

import glob
import os

import numpy as np

from wikiart_jax import description
from wikiart_jax.data import augment
from wikiart_jax.data import pipeline
from wikiart_jax.eval import report
from wikiart_jax.serve import ratings

TASKS = ('style', 'artist', 'genre')
NUM_SAMPLES = 12
TOP_K = 3


def _display_names(vocab) -> dict[str, list[str]]:
  return {'style': [s.replace('_', ' ') for s in vocab.style],
          'artist': list(vocab.artist_names),
          'genre': [g.replace('_', ' ') for g in vocab.genre]}


def _sample_indices(n: int, k: int) -> list[int]:
  """k indices spread evenly over n examples (every class has a chance)."""
  return sorted(set(np.linspace(0, n - 1, num=min(k, n)).astype(int).tolist()))


def _text(value) -> str | None:
  if isinstance(value, bytes):
    value = value.decode('utf-8')
  return value or None


def collect_samples(dataset_path: str, split: str, image_size: int, vocab,
                    forward, describer=None) -> list[dict]:
  """Predictions and descriptions for a few examples of `split`.

  Args:
    dataset_path: the prepared dataset.
    split: 'val' usually.
    image_size: the model's input size.
    vocab: the dataset's vocabularies.
    forward: images [B,S,S,3] float32 -> {task: probabilities [B,C]} (numpy), or
      (probabilities, the captioner's context) when `describer` is given.
    describer: an `eval.caption_eval.Describer`: the captioner's descriptions
      are shown next to the template ones.
  """
  source = pipeline.open_split(dataset_path, split)
  examples = [source[i] for i in _sample_indices(len(source), NUM_SAMPLES)]
  rgbs = [np.asarray(augment.decode(ex['image'])) for ex in examples]
  out = forward(np.stack([augment.eval_transform(x, image_size) for x in rgbs]))
  probs, context = out if describer is not None else (out, None)
  generated = ({lang: describer.describe(context, lang) for lang in ('en', 'fr')}
               if describer is not None else {})
  names = _display_names(vocab)
  samples = []
  for i, (example, rgb) in enumerate(zip(examples, rgbs)):
    pred = {}
    for task in TASKS:
      order = np.argsort(-probs[task][i])[:TOP_K]
      pred[task] = [(names[task][j], float(probs[task][i][j])) for j in order]
    year = int(example['year']) if int(example['year']) >= 0 else None
    title = _text(example.get('title'))
    best = {t: int(np.argmax(probs[t][i])) for t in TASKS}
    samples.append({
        'image': rgb,
        'title': title,
        'true': {t: names[t][int(example[t])] if int(example[t]) >= 0 else None
                 for t in TASKS},
        'pred': pred,
        'descriptions': {
            **{lang: description.describe(
                vocab.style[best['style']], vocab.artist_names[best['artist']],
                vocab.genre[best['genre']], year=year, title=title, lang=lang)
               for lang in ('en', 'fr')},
            **{f'{lang} (captioner)': texts[i] for lang, texts in generated.items()}},
    })
  return samples


def write(workdir: str, dataset_path: str, split: str, image_size: int, vocab,
          eval_metrics: dict, forward, *, family_names=None,
          caption_metrics: dict | None = None, describer=None) -> str:
  """Writes the report into `<workdir>/report/`; returns the index.html path.

  `forward` and `describer` are as in `collect_samples`.
  """
  names = _display_names(vocab)
  if caption_metrics:
    # One row per language and one for both: {group: {metric: value}}.
    caption_metrics = {
        'all': {k: v for k, v in caption_metrics.items() if k != 'by_lang'},
        **caption_metrics.get('by_lang', {})}
  if 'style_family' in eval_metrics:
    names['style_family'] = [n.replace('_', ' ') for n in family_names]
  return report.write_report(
      os.path.join(workdir, 'report'),
      metrics=eval_metrics, names=names,
      samples=collect_samples(dataset_path, split, image_size, vocab, forward, describer),
      caption_metrics=caption_metrics,
      class_count_pngs=sorted(glob.glob(os.path.join(dataset_path, 'class_counts_*.png'))),
      human_ratings=ratings.load(workdir) or None)
