"""Evaluation figures: confusion matrices, class counts, training curves.

Figures are built with `matplotlib.figure.Figure` and the Agg canvas directly,
never pyplot: no display is needed, no global figure state leaks between calls,
and the module is safe to use from a server thread. Each `*_figure` function
returns a Figure; `save_png` writes it, `figure_to_array` turns it into the
uint8 image that the metric writers expect, and `write_png` writes that image
(a figure wanted both ways is drawn once: drawing is most of its cost):

    image = figure_to_array(fig)
    writer.write_images(step, {'confusion/style': image[None]})
    write_png(image, 'confusion_style.png')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import math
import os

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
import numpy as np
from PIL import Image

# Matrices up to this size get the value printed in their cells (27 styles fit),
# the cells holding at least _ANNOTATE_MIN of their row: the diagonal and the real
# confusions. Below it the colour says enough, and an untrained model's 729 small
# values would take two thirds of the figure's drawing time.
_ANNOTATE_MAX = 30
_ANNOTATE_MIN = 0.05


def top_classes(counts: Sequence[int] | np.ndarray, n: int | None) -> np.ndarray:
  """Indices of the n largest counts, largest first (ties by index); all if n is None."""
  counts = np.asarray(counts)
  order = np.argsort(-counts, kind='stable')
  return order if n is None else order[:n]


def confusion_figure(confusion: np.ndarray, names: Sequence[str], *,
                     top_n: int | None = None, title: str = '') -> Figure:
  """Row-normalised confusion matrix (rows: true class, columns: predicted).

  Args:
    confusion: [C, C] counts, sklearn layout.
    names: the C class names, shown on both axes.
    top_n: keep only the n classes with most true examples (e.g. the 50 most
      frequent artists), ordered by frequency. Rows are still normalised by the
      full row count, so the diagonal stays the recall and mass predicted
      outside the kept classes shows as a row summing to less than 1.
    title: figure title.

  Returns:
    The figure.
  """
  confusion = np.asarray(confusion, np.float64)
  c = len(names)
  if confusion.shape != (c, c):
    raise ValueError(f'confusion must be [{c}, {c}] to match names, got '
                     f'{confusion.shape}')
  support = confusion.sum(axis=1)
  norm = np.divide(confusion, support[:, None], out=np.zeros_like(confusion),
                   where=support[:, None] > 0)
  if top_n is not None:
    keep = top_classes(support, top_n)
    norm = norm[np.ix_(keep, keep)]
    names = [names[i] for i in keep]
  n = len(names)
  # Grow the canvas with the class count so every tick label stays legible.
  side = max(5.0, 0.32 * n + 3.0)
  fontsize = 9 if n <= _ANNOTATE_MAX else 7
  fig = Figure(figsize=(side + 1.2, side), dpi=100)
  FigureCanvasAgg(fig)
  ax = fig.add_subplot()
  im = ax.imshow(norm, cmap='Blues', vmin=0.0, vmax=1.0, interpolation='nearest')
  ax.set_xticks(range(n), labels=names, rotation=90, fontsize=fontsize)
  ax.set_yticks(range(n), labels=names, fontsize=fontsize)
  ax.set_xlabel('predicted')
  ax.set_ylabel('true')
  if title:
    ax.set_title(title)
  if n <= _ANNOTATE_MAX:
    for i in range(n):
      for j in range(n):
        if norm[i, j] >= _ANNOTATE_MIN:
          ax.text(j, i, f'{norm[i, j]:.2f}'.lstrip('0'), ha='center',
                  va='center', fontsize=fontsize - 2,
                  color='white' if norm[i, j] > 0.5 else 'black')
  fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
  fig.tight_layout()
  return fig


def class_counts_figure(per_split: Mapping[str, Sequence[int] | np.ndarray],
                        names: Sequence[str], *, title: str = '') -> Figure:
  """Stacked bars of examples per class and split ({'train': counts, 'val': ...}),
  largest class first; past 60 classes (1,119 artists) bars only, no tick labels."""
  if not per_split:
    raise ValueError('class_counts_figure needs the counts of at least one split')
  counts = {split: np.asarray(c) for split, c in per_split.items()}
  for split, c in counts.items():
    if c.shape != (len(names),):
      raise ValueError(f'{split} counts must be [{len(names)}] to match names, got '
                       f'{c.shape}')
  order = np.argsort(-sum(counts.values()), kind='stable')
  many = len(names) > 60
  fig = Figure(figsize=(12 if many else max(6, 0.35 * len(names)), 4.5), dpi=100)
  FigureCanvasAgg(fig)
  ax = fig.add_subplot()
  bottom = np.zeros(len(names))
  for split, c in counts.items():
    ax.bar(np.arange(len(names)), c[order], bottom=bottom, label=split,
           width=1.0 if many else 0.8)
    bottom += c[order]
  if not many:
    ax.set_xticks(np.arange(len(names)), [names[i] for i in order], rotation=75,
                  ha='right', fontsize=7)
  ax.set_ylabel('images')
  if title:
    ax.set_title(title)
  ax.legend()
  fig.tight_layout()
  return fig


def curves_figure(curves: Mapping[str, Sequence[tuple[float, float]]], *,
                  title: str = '', ncols: int = 3) -> Figure:
  """Training curves, one panel per metric, from {name: [(step, value), ...]}."""
  if not curves:
    raise ValueError('curves_figure needs at least one metric')
  ncols = min(ncols, len(curves))
  nrows = math.ceil(len(curves) / ncols)
  fig = Figure(figsize=(4.0 * ncols, 3.0 * nrows), dpi=100)
  FigureCanvasAgg(fig)
  for k, (name, points) in enumerate(curves.items()):
    ax = fig.add_subplot(nrows, ncols, k + 1)
    points = np.asarray(points, np.float64).reshape(-1, 2)
    ax.plot(points[:, 0], points[:, 1], marker='.' if len(points) < 30 else '')
    ax.set_title(name, fontsize=10)
    ax.set_xlabel('step')
    ax.grid(alpha=0.3)
  if title:
    fig.suptitle(title)
  fig.tight_layout()
  return fig


def figure_to_array(fig: Figure) -> np.ndarray:
  """Renders the figure to a uint8 [H, W, 3] RGB array."""
  canvas = FigureCanvasAgg(fig)
  canvas.draw()
  return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def write_png(image: np.ndarray, path: str | os.PathLike) -> str:
  """Writes a uint8 [H, W, 3] image as a PNG (creating the folder) and returns the path."""
  path = os.fspath(path)
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  # Level 1: a fifth of the default's time for these flat-coloured figures.
  Image.fromarray(np.asarray(image, np.uint8)).save(path, format='PNG', compress_level=1)
  return path


def save_png(fig: Figure, path: str | os.PathLike) -> str:
  """Writes the figure as a PNG (creating the folder) and returns the path."""
  path = os.fspath(path)
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  FigureCanvasAgg(fig).print_png(path)
  return path
