"""Expected calibration error and temperature scaling, by hand and on data of known temperature."""

import json

import numpy as np
import pytest

from wikiart_jax.metrics import calibration


def test_ece_by_hand():
  # Confidences 0.9 (right), 0.9 (wrong), 0.6 (right), 0.4 (right) in 10 bins:
  # bin (0.8, 0.9]: accuracy 0.5, confidence 0.9, gap 0.4, weight 2/4;
  # bin (0.5, 0.6]: gap 1 - 0.6, weight 1/4; bin (0.3, 0.4]: gap 1 - 0.4, weight 1/4.
  probs = np.array([[0.9, 0.1, 0.0], [0.9, 0.1, 0.0], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4]])
  labels = np.array([0, 1, 1, 2])
  want = 0.4 * 2 / 4 + 0.4 / 4 + 0.6 / 4
  assert calibration.expected_calibration_error(probs, labels, num_bins=10) == pytest.approx(want)
  # Unlabelled rows (-1) are ignored; nothing labelled is NaN.
  padded = np.concatenate([probs, probs[:1]])
  assert calibration.expected_calibration_error(padded, np.append(labels, -1), 10) == (
      pytest.approx(want))
  assert np.isnan(calibration.expected_calibration_error(probs, -np.ones(4, int)))
  assert calibration.negative_log_likelihood(probs, labels) == pytest.approx(
      -np.mean(np.log([0.9, 0.1, 0.6, 0.4])))


def test_temperature_recovers_the_one_that_made_the_data():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(20000, 12)) * 3
  true_t = 2.0
  p_true = np.exp(logits / true_t)
  p_true /= p_true.sum(1, keepdims=True)
  labels = np.array([rng.choice(12, p=p) for p in p_true])
  overconfident = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
  t = calibration.fit_temperature(overconfident, labels)
  assert t == pytest.approx(true_t, rel=0.05)
  # It is the minimum of the NLL over a dense grid, and it lowers the ECE.
  grid = np.linspace(1.0, 3.0, 201)
  nll = [calibration.negative_log_likelihood(calibration.apply_temperature(overconfident, g),
                                             labels) for g in grid]
  assert t == pytest.approx(grid[int(np.argmin(nll))], abs=0.011)
  result = calibration.calibrate(overconfident, labels)
  assert result['temperature'] == pytest.approx(t)
  assert result['ece_after'] < 0.02 < 0.1 < result['ece_before']
  assert result['nll_after'] < result['nll_before'] and result['count'] == 20000
  # A given temperature is applied, not refitted; top-1 never changes.
  given = calibration.calibrate(overconfident, labels, temperature=1.0)
  assert given['ece_after'] == pytest.approx(given['ece_before'])
  np.testing.assert_array_equal(calibration.apply_temperature(overconfident, t).argmax(1),
                                overconfident.argmax(1))


def test_apply_temperature_is_softmax_of_scaled_logits():
  logits = np.array([[2.0, 1.0, -1.0]])
  probs = np.exp(logits) / np.exp(logits).sum()
  want = np.exp(logits / 2.5) / np.exp(logits / 2.5).sum()
  np.testing.assert_allclose(calibration.apply_temperature(probs, 2.5), want, rtol=1e-6)
  # Zero probabilities stay (practically) zero, never NaN.
  out = calibration.apply_temperature(np.array([[1.0, 0.0]]), 3.0)
  assert np.isfinite(out).all() and out[0, 1] < 1e-9


def test_temperatures_are_kept_per_step(tmp_path):
  calibration.save_temperatures(str(tmp_path), 500, {'style': 1.5, 'artist': 2.0})
  calibration.save_temperatures(str(tmp_path), 1000, {'style': 1.2})
  assert calibration.load_temperatures(str(tmp_path), 500) == {'style': 1.5, 'artist': 2.0}
  assert calibration.load_temperatures(str(tmp_path), 1000) == {'style': 1.2}
  assert calibration.load_temperatures(str(tmp_path), 1500) is None
  assert list(json.loads((tmp_path / calibration.FILE).read_text())) == ['500', '1000']
  (tmp_path / calibration.FILE).write_text('{not json')
  with pytest.raises(ValueError, match='calibration.json is not valid JSON'):
    calibration.load_temperatures(str(tmp_path), 500)
