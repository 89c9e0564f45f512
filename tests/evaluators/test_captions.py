"""The caption evaluator: generated text scored against the label-built references."""

import numpy as np
import pytest

from wikiart_jax.data import metadata
from wikiart_jax.evaluators.base import EvalBatch
from wikiart_jax.evaluators.captions import CaptionEvaluator
from wikiart_jax.text import references

VOCAB = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])


class _Writer:
  """Writes what it is told to, per language: a stand-in for the captioner."""

  def __init__(self, texts):
    self.texts = texts

  def write(self, context, lang):
    return list(self.texts[lang][:len(context)])


def _batch():
  style = VOCAB.style.index('Impressionism')
  local = {'image': np.zeros((2, 8, 8, 3), np.float32),
           'style': np.array([style, -1], np.int32),  # the second row is padding
           'artist': np.array([0, -1], np.int32),
           'genre': np.array([VOCAB.genre.index('landscape'), -1], np.int32),
           'year': np.array([1919, -1], np.int32),
           'title': np.array([b'Water Lilies', b'']), 'path': np.array([b'', b''])}
  return EvalBatch(local=local, labels={}, probs={}, context=np.zeros((2, 3, 4)))


def test_a_perfect_description_scores_one_and_names_the_style():
  refs = references.references('Impressionism', 'Claude Monet', 'landscape', 1919,
                               'Water Lilies')
  writer = _Writer({lang: [refs[lang][0], 'padding row'] for lang in ('en', 'fr')})
  evaluator = CaptionEvaluator(writer, VOCAB, ('en', 'fr'))
  evaluator.update(_batch())
  result = evaluator.result()['caption']
  assert result['count'] == 2  # one real row in each language
  assert result['bleu4'] == pytest.approx(1.0) and result['rouge_l'] == pytest.approx(1.0)
  assert result['style_named'] == 1.0
  assert set(result['by_lang']) == {'en', 'fr'} and 'clipscore' not in result
  assert [s['lang'] for s in evaluator.samples] == ['en', 'fr']
  assert evaluator.samples[0]['reference'] == refs['en'][0]
  assert evaluator.needs_text


def test_a_description_naming_another_style_is_counted_as_wrong():
  writer = _Writer({'en': ['A Cubist landscape by Claude Monet.', ''],
                    'fr': ['Style cubiste, une esquisse.', '']})
  evaluator = CaptionEvaluator(writer, VOCAB, ('en', 'fr'))
  evaluator.update(_batch())
  result = evaluator.result()
  assert result['caption']['style_named'] == 0.0
  assert 'style named 0.000' in evaluator.line(result)
