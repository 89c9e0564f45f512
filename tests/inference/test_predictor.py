"""The predictor restored from a trained workdir: labels, probabilities, descriptions."""

import demo
import numpy as np
import pytest

from wikiart_jax.core import TASKS
from wikiart_jax.inference import describer
from wikiart_jax.inference import predictor as predictor_lib


@pytest.fixture(scope='module')
def predictor(trained_workdir):
  return predictor_lib.Predictor(demo.get_config('tiny'), trained_workdir)


def _rgbs(n):
  rng = np.random.default_rng(n)
  return [rng.integers(0, 256, (40 + 7 * i, 50, 3), dtype=np.uint8) for i in range(n)]


def test_restores_the_last_checkpoint_its_vocabularies_and_temperatures(predictor):
  assert predictor.step == 6
  assert len(predictor.vocab.style) == 27 and predictor.writer is None
  # Training fitted one temperature per head on val at every evaluation.
  assert set(predictor.temperatures) == set(TASKS)
  assert predictor.synthetic  # configs/demo.py trains on the synthetic set


def test_labels_are_the_calibrated_forward_passs_top_k(predictor):
  rgbs = _rgbs(3)
  records = predictor.label_batch(rgbs, k=4)
  probs = describer.calibrated(
      predictor.probabilities(np.stack([predictor.preprocess(x) for x in rgbs])),
      predictor.temperatures)
  names = {'style': predictor.vocab.style, 'artist': predictor.vocab.artist_names,
           'genre': predictor.vocab.genre}
  for i, record in enumerate(records):
    for task in TASKS:
      order = np.argsort(-probs[task][i])[:4]
      assert [r['label'] for r in record[task]] == [names[task][j] for j in order]
      np.testing.assert_allclose([r['prob'] for r in record[task]], probs[task][i][order],
                                 atol=1e-6)
    assert set(record['description']) == {'en', 'fr'} and 'generated' not in record
  # Alone or in a batch: the same labels and texts. The probabilities agree to the
  # batch-size dependence of XLA CPU's matmuls (~1e-7) plus the 6-decimal rounding of
  # the records, which turns any last-bit difference into up to 1e-6.
  _assert_same_record(predictor.label(rgbs[1], k=4), records[1], atol=2e-6)


def _assert_same_record(got, want, *, atol, where='record'):
  """`got == want`, floats within `atol`, everything else exactly."""
  if isinstance(want, dict):
    assert isinstance(got, dict) and set(got) == set(want), where
    for key in want:
      _assert_same_record(got[key], want[key], atol=atol, where=f'{where}.{key}')
  elif isinstance(want, list):
    assert isinstance(got, list) and len(got) == len(want), where
    for i, (g, w) in enumerate(zip(got, want)):
      _assert_same_record(g, w, atol=atol, where=f'{where}[{i}]')
  elif isinstance(want, float):
    assert got == pytest.approx(want, rel=0, abs=atol), where
  else:
    assert got == want, where


def test_a_workdir_without_training_is_a_clear_error(tmp_path):
  with pytest.raises(FileNotFoundError, match='vocab.json is missing'):
    predictor_lib.Predictor(demo.get_config('tiny'), str(tmp_path))


def test_no_title_and_no_year_from_a_file_name(trained_workdir, tmp_path):
  rgb = _rgbs(1)[0]
  plain = predictor_lib.Predictor(demo.get_config('tiny'), trained_workdir)
  wikiart = str(tmp_path / 'Impressionism' / 'claude-monet_water-lilies-1919.jpg')
  for name in ('the_scream.jpg', 'escher_sphere.jpg', wikiart):
    for text in plain.label(rgb, name=name)['description'].values():
      assert not any(ch.isdigit() for ch in text) and not any(q in text for q in '«“')
  config = demo.get_config('tiny')
  config.predict.titles_from_wikiart_names = True
  layout = predictor_lib.Predictor(config, trained_workdir)
  described = layout.label(rgb, name=wikiart)['description']
  # (A 6-step model is unsure of everything: its sentences hedge, but keep the facts given.)
  assert '“Water Lilies”' in described['en'] and '1919' in described['en']
  assert '«\u00a0Water Lilies\u00a0»' in described['fr']
  for text in layout.label(rgb, name='the_scream.jpg')['description'].values():
    assert not any(ch.isdigit() for ch in text)
