"""The report's sample cards: predictions and descriptions of a few evaluation images."""

import demo
import pytest

from wikiart_jax import checkpointing
from wikiart_jax import factory
from wikiart_jax.apps import report
from wikiart_jax.data import dataset
from wikiart_jax.data import metadata
from wikiart_jax.inference import forward
from wikiart_jax.parallel import sharding


def test_samples_show_truth_top_k_and_both_descriptions(trained_workdir):
  config = demo.get_config('tiny')
  info = dataset.load_info(config, trained_workdir)
  mesh = sharding.make_mesh()
  parts, _ = checkpointing.restore_params_into(
      trained_workdir, factory.build_model(config, info.vocab), mesh)
  samples = report.collect_samples(info.path, 'val', config.data.image_size, info.vocab,
                                   forward.make_forward(parts, mesh))
  assert 1 < len(samples) <= report.NUM_SAMPLES
  for sample in samples:
    assert sample['image'].ndim == 3 and sample['image'].dtype.name == 'uint8'
    assert sample['true']['style'] in {s.replace('_', ' ') for s in info.vocab.style}
    for task in ('style', 'artist', 'genre'):
      probs = [p for _, p in sample['pred'][task]]
      assert len(probs) == report.TOP_K and probs == sorted(probs, reverse=True)
    assert set(sample['descriptions']) == {'en', 'fr'}  # no captioner in this model
    # The tags (with the drawn ones as truth), period, palette and light of each sample.
    assert set(sample['content']) == {'tags', 'period', 'palette', 'light'}
    assert '; true: ' in sample['content']['tags'] and 'true: ' in sample['content']['period']
    assert 'expected ' in sample['content']['period']
    assert sample['palette']['colours'] or sample['palette']['black_and_white']
  styles = [s['true']['style'] for s in samples]
  assert len(set(styles)) > 1  # spread over the split, not its first rows


def test_display_names_have_spaces():
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])
  names = report._display_names(vocab)  # pylint: disable=protected-access
  assert 'Early Renaissance' in names['style'] and 'still life' in names['genre']
  assert names['artist'] == ['Claude Monet']


@pytest.mark.parametrize('n, k, want', [(10, 3, [0, 4, 9]), (2, 12, [0, 1])])
def test_samples_are_spread_evenly(n, k, want):
  assert report._sample_indices(n, k) == want  # pylint: disable=protected-access
