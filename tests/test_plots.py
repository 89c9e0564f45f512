"""Evaluation figures render to real, non-blank PNGs and arrays."""

import numpy as np
from PIL import Image
import pytest

from wikiart_jax import plots


def _png(path):
  with Image.open(path) as im:
    assert im.format == 'PNG'
    return np.asarray(im.convert('RGB'))


def _assert_not_blank(pixels):
  assert pixels.ndim == 3 and pixels.shape[2] == 3
  assert pixels.min() != pixels.max()
  assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10


@pytest.mark.parametrize('num_classes', [10, 27])
def test_confusion_png(tmp_path, num_classes):
  rng = np.random.default_rng(num_classes)
  conf = rng.integers(0, 20, (num_classes, num_classes))
  names = [f'Style_{i}' for i in range(num_classes)]
  path = plots.save_png(plots.confusion_figure(conf, names, title='style'),
                        tmp_path / 'sub' / 'conf.png')
  pixels = _png(path)
  _assert_not_blank(pixels)
  # The canvas grows with the class count so that labels stay readable.
  assert pixels.shape[0] >= 500 and pixels.shape[0] >= 30 * num_classes


def test_cells_of_five_percent_or_more_are_labelled():
  conf = np.array([[90, 6, 4], [0, 10, 0], [1, 1, 0]])
  fig = plots.confusion_figure(conf, ['a', 'b', 'c'])
  labels = sorted(t.get_text() for t in fig.axes[0].texts)
  # Row a: .90 and .06 (.04 is not); row b: 1.00; row c: .50 twice.
  assert labels == ['.06', '.50', '.50', '.90', '1.00']


def test_confusion_top_n_grows_with_n_not_with_class_count(tmp_path):
  rng = np.random.default_rng(0)
  conf = rng.integers(0, 5, (200, 200))
  names = [f'artist {i}' for i in range(200)]
  small = _png(plots.save_png(plots.confusion_figure(conf, names, top_n=5),
                              tmp_path / 'a.png'))
  big = _png(plots.save_png(plots.confusion_figure(conf, names, top_n=35),
                            tmp_path / 'b.png'))
  assert small.shape[0] < big.shape[0] < 2000
  _assert_not_blank(big)


def test_top_classes_orders_by_count_then_index():
  np.testing.assert_array_equal(plots.top_classes([3, 9, 3, 1], 3), [1, 0, 2])
  np.testing.assert_array_equal(plots.top_classes([1, 2], None), [1, 0])


def test_class_counts_and_curves(tmp_path):
  counts = {'train': np.array([5, 300, 42, 0, 17]), 'val': np.array([1, 30, 4, 2, 0])}
  names = ['a', 'b', 'c', 'd', 'e']
  fig = plots.class_counts_figure(counts, names, title='artists')
  bar = _png(plots.save_png(fig, tmp_path / 'bar.png'))
  _assert_not_blank(bar)
  ax = fig.axes[0]
  assert [t.get_text() for t in ax.get_xticklabels()] == ['b', 'c', 'e', 'a', 'd']  # largest first
  assert [p.get_height() for p in ax.patches[:5]] == [300, 42, 17, 5, 0]  # train, then val on top
  many = plots.class_counts_figure({'train': np.arange(100)}, [f'artist-{i}' for i in range(100)])
  assert not any(t.get_text().startswith('artist-')  # 1,119 artists: bars only
                 for t in many.axes[0].get_xticklabels())
  curves = {'loss': [(0, 3.0), (10, 2.0), (20, 1.5)],
            'style_accuracy': [(0, 0.1), (10, 0.3), (20, float('nan'))],
            'learning_rate': [(s, 1e-4 * s) for s in range(40)]}
  img = _png(plots.save_png(plots.curves_figure(curves, title='train'),
                            tmp_path / 'curves.png'))
  _assert_not_blank(img)
  assert img.shape[1] > img.shape[0]  # three panels side by side


def test_figure_to_array_for_write_images():
  fig = plots.confusion_figure(np.eye(3, dtype=int) * 4 + 1, ['x', 'y', 'z'])
  arr = plots.figure_to_array(fig)
  assert arr.dtype == np.uint8
  w, h = fig.canvas.get_width_height()
  assert arr.shape == (h, w, 3)
  _assert_not_blank(arr)


def test_write_png_keeps_the_drawn_pixels_and_equals_save_png(tmp_path):
  from PIL import Image  # pylint: disable=g-import-not-at-top
  fig = plots.confusion_figure(np.eye(3, dtype=int) * 4 + 1, ['x', 'y', 'z'])
  arr = plots.figure_to_array(fig)
  written = plots.write_png(arr, tmp_path / 'sub' / 'once.png')
  saved = plots.save_png(fig, tmp_path / 'twice.png')
  once = np.asarray(Image.open(written).convert('RGB'))
  np.testing.assert_array_equal(once, arr)
  np.testing.assert_array_equal(once, np.asarray(Image.open(saved).convert('RGB')))


def test_bad_shapes_are_clear_errors():
  with pytest.raises(ValueError, match='match names'):
    plots.confusion_figure(np.zeros((3, 3)), ['a', 'b'])
  with pytest.raises(ValueError, match='match names'):
    plots.class_counts_figure({'train': [1, 2, 3]}, ['a'])
  with pytest.raises(ValueError, match='at least one split'):
    plots.class_counts_figure({}, ['a'])
  with pytest.raises(ValueError, match='at least one'):
    plots.curves_figure({})
