"""Confidence calibration: expected calibration error and per-head temperature scaling.

A head's probabilities are calibrated when, among the images it gives 0.8, about
80% are right; the descriptions' hedging ("probably", "attributed to") reads
them, so they must mean what they say. Temperature scaling (Guo et al. 2017)
divides a head's logits by one scalar T fitted on the validation split by
minimising the negative log-likelihood; it changes no top-1. The logits are the
log-probabilities (softmax is shift-invariant), so a head's probabilities are
all it needs. Expected calibration error (ECE): the confidence-weighted gap
between accuracy and confidence over equal-width confidence bins.

The temperatures a run fitted are kept in `<workdir>/calibration.json`, per
checkpoint step, for predict, serve and eval to use.
"""

from __future__ import annotations

import json
import os
from typing import Mapping

import numpy as np
from scipy import optimize

from wikiart_jax import atomic

FILE = 'calibration.json'
NUM_BINS = 15  # Guo et al.'s choice
_LOG_T_BOUNDS = (np.log(0.05), np.log(20.0))
_TINY = 1e-30  # floor of a probability before its log


def _labelled(probs, labels) -> tuple[np.ndarray, np.ndarray]:
  probs, labels = np.asarray(probs, np.float64), np.asarray(labels).astype(np.int64)
  if probs.ndim != 2 or labels.shape != probs.shape[:1]:
    raise ValueError(f'expected probabilities [N, C] and labels [N], got {probs.shape} '
                     f'and {labels.shape}')
  keep = labels >= 0  # -1: unlabelled or padding
  return probs[keep], labels[keep]


def expected_calibration_error(probs, labels, num_bins: int = NUM_BINS) -> float:
  """ECE of the top-1 confidence over `num_bins` equal-width bins; NaN without labels.

  Args:
    probs: [N, C] class probabilities.
    labels: [N] int classes, -1 for rows to ignore.
    num_bins: bins of (0, 1]; a confidence c falls in bin ceil(c * num_bins) - 1.
  """
  probs, labels = _labelled(probs, labels)
  if not len(labels):
    return float('nan')
  confidence = probs.max(axis=1)
  correct = (probs.argmax(axis=1) == labels).astype(np.float64)
  bins = np.clip(np.ceil(confidence * num_bins).astype(np.int64) - 1, 0, num_bins - 1)
  count = np.bincount(bins, minlength=num_bins)
  gap = np.abs(np.bincount(bins, correct, num_bins) - np.bincount(bins, confidence, num_bins))
  return float(gap.sum() / count.sum())


def apply_temperature(probs, temperature: float) -> np.ndarray:
  """softmax(log(probs) / T) per row: the probabilities of logits divided by T."""
  logits = np.log(np.maximum(np.asarray(probs, np.float64), _TINY)) / float(temperature)
  logits -= logits.max(axis=-1, keepdims=True)
  out = np.exp(logits)
  return (out / out.sum(axis=-1, keepdims=True)).astype(np.float32)


def negative_log_likelihood(probs, labels) -> float:
  """Mean -log p(label) over the labelled rows; NaN without labels."""
  probs, labels = _labelled(probs, labels)
  if not len(labels):
    return float('nan')
  return float(-np.mean(np.log(np.maximum(probs[np.arange(len(labels)), labels], _TINY))))


def fit_temperature(probs, labels) -> float:
  """The T in [0.05, 20] minimising the NLL of `apply_temperature(probs, T)`; 1.0
  without labelled rows."""
  probs, labels = _labelled(probs, labels)
  if not len(labels):
    return 1.0
  logits = np.log(np.maximum(probs, _TINY))
  logits -= logits.max(axis=1, keepdims=True)
  picked = logits[np.arange(len(labels)), labels]

  def nll(log_t):
    scaled = logits / np.exp(log_t)
    top = scaled.max(axis=1)
    log_norm = top + np.log(np.exp(scaled - top[:, None]).sum(axis=1))
    return float(np.mean(log_norm - picked / np.exp(log_t)))

  found = optimize.minimize_scalar(nll, bounds=_LOG_T_BOUNDS, method='bounded',
                                   options={'xatol': 1e-5})
  return float(np.exp(found.x))


def calibrate(probs, labels, temperature: float | None = None) -> dict[str, float]:
  """ECE and NLL before and after temperature scaling, with T fitted here (None) or given.

  Returns:
    {'temperature', 'ece_before', 'ece_after', 'nll_before', 'nll_after', 'count'}.
  """
  t = fit_temperature(probs, labels) if temperature is None else float(temperature)
  scaled = apply_temperature(probs, t)
  return {'temperature': t,
          'ece_before': expected_calibration_error(probs, labels),
          'ece_after': expected_calibration_error(scaled, labels),
          'nll_before': negative_log_likelihood(probs, labels),
          'nll_after': negative_log_likelihood(scaled, labels),
          'count': int((np.asarray(labels) >= 0).sum())}


def save_temperatures(workdir: str, step: int, temperatures: Mapping[str, float]) -> None:
  """Records the temperatures fitted at checkpoint `step` (atomically)."""
  path = os.path.join(workdir, FILE)
  saved = _read(path)
  saved[str(int(step))] = {k: float(v) for k, v in temperatures.items()}
  atomic.write_text(path, json.dumps(dict(sorted(saved.items(), key=lambda kv: int(kv[0]))),
                                     indent=1))


def load_temperatures(workdir: str, step: int) -> dict[str, float] | None:
  """The temperatures fitted at `step`, or None when that step was never calibrated."""
  return _read(os.path.join(workdir, FILE)).get(str(int(step)))


def _read(path: str) -> dict:
  if not os.path.exists(path):
    return {}
  with open(path, encoding='utf-8') as f:
    try:
      data = json.load(f)
    except json.JSONDecodeError as e:
      raise ValueError(f'{path} is not valid JSON ({e}): delete it and evaluate again') from e
  return data if isinstance(data, dict) else {}
