"""What a picture shows, when, and in which colours, as the records predict and serve give.

From one row of a `Prediction` and the decoded image:

    top_tags(tags_row, keys, k)  -> [{'tag', 'en', 'fr', 'prob'}], most probable first
    period_estimate(period_row)  -> {'year', 'top': [{'label', 'start', 'end', 'prob'}]}
    palette_and_light(rgb)       -> ({'black_and_white', 'colours'}, {'lightness', ...})

The tag and period records name everything in both languages or by years, so
the description composer can use them without the model; the palette is
measured from the pixels (inference/palette.py), never predicted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from wikiart_jax.core import PERIOD_STEP
from wikiart_jax.inference import palette as palette_lib
from wikiart_jax.metrics import period as period_lib
from wikiart_jax.text import subjects

PERIOD_TOP_K = 3


def top_tags(probs: np.ndarray, keys: Sequence[str], k: int) -> list[dict]:
  """The k most probable tags of one image: key, English and French phrases, probability."""
  order = np.argsort(-np.asarray(probs), kind='stable')[:k]
  out = []
  for i in order:
    subject = subjects.SUBJECTS.get(keys[i])
    out.append({'tag': keys[i], 'en': subject.en if subject else keys[i],
                'fr': subject.fr if subject else keys[i], 'prob': round(float(probs[i]), 6)})
  return out


def period_estimate(probs: np.ndarray, k: int = PERIOD_TOP_K) -> dict:
  """The expected year (rounded) and the k most probable 25-year bins of one image."""
  probs = np.asarray(probs)
  year = float(period_lib.expected_year(probs[None])[0])
  starts = period_lib.bin_starts()
  top = [{'label': period_lib.bin_label(int(i)), 'start': int(starts[i]),
          'end': int(starts[i]) + PERIOD_STEP - 1, 'prob': round(float(probs[i]), 6)}
         for i in np.argsort(-probs, kind='stable')[:k]]
  return {'year': int(round(year)), 'top': top}


def palette_and_light(rgb: np.ndarray) -> tuple[dict, dict]:
  """The 'palette' and 'light' records of a decoded RGB uint8 image."""
  found = palette_lib.analyse(rgb)
  return found.palette_json(), found.light_json()
