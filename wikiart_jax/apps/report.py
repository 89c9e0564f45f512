"""The evaluation report of a run: `<workdir>/report/index.html` and `report.md`.

Gathers what `report_html.write_report` shows: the held-out metrics (per-tag AP,
the period's confusion chart beside the classes'), the heads' calibration, a grid
of sample images from the evaluation split with their predictions, content tags,
period, palette strip and descriptions, the class-count charts written by
`prepare`, and the human ratings collected by the web demo; a note when the run
trained on the synthetic demo set.
"""

import glob
import os

import numpy as np

from wikiart_jax.apps import report_html
from wikiart_jax.core import PERIOD, TAGS, TAGS_MASK, TASKS
from wikiart_jax.data import augment
from wikiart_jax.data import pipeline
from wikiart_jax.inference import content as content_lib
from wikiart_jax.inference import describer as describer_lib
from wikiart_jax.inference import predictor
from wikiart_jax.metrics import period as period_lib
from wikiart_jax.metrics import ratings

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


def content_lines(example: dict, rgb: np.ndarray, prediction, row: int, tag_keys) -> dict:
  """A sample's tag, period, palette and light lines, and its palette record."""
  lines, palette = {}, None
  if prediction.tags is not None:
    top = content_lib.top_tags(prediction.tags[row], tag_keys, TOP_K)
    known = np.asarray(example.get(TAGS_MASK, np.zeros(len(tag_keys)))) > 0
    present = [tag_keys[j] for j in np.flatnonzero(
        known & (np.asarray(example.get(TAGS, np.zeros(len(tag_keys)))) >= 0.5))]
    truth = ', '.join(present) if known.any() else 'unknown'
    lines['tags'] = (', '.join(f"{t['tag']} ({t['prob']:.0%})" for t in top)
                     + f'; true: {truth or "none"}')
  if prediction.period is not None:
    estimate = content_lib.period_estimate(prediction.period[row])
    year = int(example['year'])
    lines['period'] = (', '.join(f"{b['label']} ({b['prob']:.0%})" for b in estimate['top'])
                       + f"; expected {estimate['year']}; true: "
                       + (str(year) if year >= 0 else 'unknown'))
  palette, light = content_lib.palette_and_light(rgb)
  lines['palette'] = ('black and white' if palette['black_and_white'] else ', '.join(
      f"{c['en']} ({c['share']:.0%})" for c in palette['colours']))
  lines['light'] = ', '.join(f'{k} {v:.2f}' for k, v in light.items())
  return {'content': lines, 'palette': palette}


def collect_samples(dataset_path: str, split: str, image_size: int, vocab,
                    forward, norm=augment.IMAGENET, writer=None, *, hedging=None,
                    temperatures=None) -> list[dict]:
  """Predictions and descriptions for a few examples of `split`.

  Args:
    dataset_path: the prepared dataset.
    split: 'val' usually.
    image_size: the model's input size.
    vocab: the dataset's vocabularies.
    forward: images [B,S,S,3] float32 -> `inference.forward.Prediction`.
    norm: the backbone's pixel normalisation (the run record's).
    writer: the captioner's `CaptionWriter`: its descriptions are shown next to
      the composed ones.
    hedging, temperatures: as `describer.describe` takes them (config.describe's
      limits, the heads' temperatures).
  """
  source = pipeline.open_split(dataset_path, split)
  examples = [source[i] for i in _sample_indices(len(source), NUM_SAMPLES)]
  rgbs = [np.asarray(augment.decode(ex['image'])) for ex in examples]
  prediction = forward(np.stack([augment.eval_transform(x, image_size, norm) for x in rgbs]))
  years = [int(ex['year']) if int(ex['year']) >= 0 else None for ex in examples]
  titles = [_text(ex.get('title')) for ex in examples]
  contents = [content_lines(ex, rgb, prediction, row, vocab.tags)
              for row, (ex, rgb) in enumerate(zip(examples, rgbs))]
  # The prepared dataset's titles and years are WikiArt's own metadata: supplied facts.
  described = describer_lib.describe(prediction, vocab, k=TOP_K, writer=writer,
                                     years=years, titles=titles, hedging=hedging,
                                     temperatures=temperatures,
                                     palettes=[c['palette'] for c in contents])
  names = _display_names(vocab)
  samples = []
  for content, example, rgb, title, d in zip(contents, examples, rgbs, titles, described):
    samples.append({
        **content,
        'image': rgb,
        'title': title,
        'true': {t: names[t][int(example[t])] if int(example[t]) >= 0 else None
                 for t in TASKS},
        'pred': {t: [(names[t][j], p) for j, p in d.top[t]] for t in TASKS},
        # The report is where the captioner is judged: a text that predict withholds
        # (it names a fact the model does not have) is shown here, marked as such.
        'descriptions': {**d.description,
                         **{f'{lang} (captioner)': text for lang, text in d.generated.items()},
                         **{f'{lang} (captioner, withheld: unfaithful)': text
                            for lang, text in d.withheld.items()}},
    })
  return samples


def write(workdir: str, info, split: str, image_size: int, metrics: dict, forward,
          norm=augment.IMAGENET, *, family_names=None, writer=None,
          other_split: tuple | None = None, hedging=None, temperatures=None,
          synthetic: bool = False) -> str:
  """Writes the report into `<workdir>/report/`; returns the index.html path.

  Args:
    workdir: the run's folder.
    info: the prepared dataset's `DatasetInfo` (its path and vocabularies).
    split: the evaluated split.
    image_size: the model's input size.
    metrics: the evaluators' entries (task -> accumulator dict, 'caption' -> scores).
    forward, norm, writer: as in `collect_samples`.
    family_names: the style families, when the style head is hierarchical.
    other_split: (name, step, metrics.json entries) of the other split, shown
      beside this one's summary; None = not evaluated yet.
    hedging, temperatures: how the sample descriptions hedge (`collect_samples`).
    synthetic: the run trained on the synthetic demo set (said at the top).
  """
  vocab = info.vocab
  names = _display_names(vocab)
  tasks = {k: v for k, v in metrics.items() if 'confusion' in v}
  baselines = {f'zero-shot CLIP, {lang} prompts': by_task
               for lang, by_task in metrics.get('zero_shot', {}).items()}
  caption_metrics = metrics.get('caption')
  if caption_metrics:
    # One row per language and one for both: {group: {metric: value}}.
    caption_metrics = {
        'all': {k: v for k, v in caption_metrics.items() if k != 'by_lang'},
        **caption_metrics.get('by_lang', {})}
  if 'style_family' in tasks:
    names['style_family'] = [n.replace('_', ' ') for n in family_names]
  names[PERIOD] = period_lib.bin_labels()
  return report_html.write_report(
      os.path.join(workdir, 'report'),
      metrics=tasks, names=names, split=split, other_split=other_split, baselines=baselines,
      samples=collect_samples(info.path, split, image_size, vocab, forward, norm, writer,
                              hedging=hedging, temperatures=temperatures),
      caption_metrics=caption_metrics, calibration=metrics.get('calibration'),
      notes=[predictor.SYNTHETIC_NOTE] if synthetic else (),
      tag_metrics=metrics.get(TAGS), tag_names=vocab.tags,
      class_count_pngs=sorted(glob.glob(os.path.join(info.path, 'class_counts_*.png'))),
      human_ratings=ratings.load(workdir) or None)
