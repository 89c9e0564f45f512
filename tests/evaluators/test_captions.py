"""The caption evaluator: generated text scored against the references, and read back."""

import numpy as np
import pytest

from wikiart_jax.core import NUM_PERIOD_BINS
from wikiart_jax.data import augment
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
  # The model predicts Impressionism (then Realism), Claude Monet and a landscape.
  probs = {'style': np.zeros((2, 27)), 'artist': np.ones((2, 1)), 'genre': np.zeros((2, 10))}
  probs['style'][:, style] = 0.7
  probs['style'][:, VOCAB.style.index('Realism')] = 0.3
  probs['genre'][:, VOCAB.genre.index('landscape')] = 1.0
  return EvalBatch(local=local, labels={}, probs=probs, context=np.zeros((2, 3, 4)))


def test_a_perfect_description_scores_one_and_names_the_style():
  refs = references.references('Impressionism', 'Claude Monet', 'landscape', year=1919)
  writer = _Writer({lang: [refs[lang][0], 'padding row'] for lang in ('en', 'fr')})
  evaluator = CaptionEvaluator(writer, VOCAB, ('en', 'fr'))
  evaluator.update(_batch())
  result = evaluator.result()['caption']
  assert result['count'] == 2  # one real row in each language
  assert result['bleu4'] == pytest.approx(1.0) and result['rouge_l'] == pytest.approx(1.0)
  assert result['style_named'] == result['faithful'] == 1.0 and result['invented'] == 0.0
  assert set(result['by_lang']) == {'en', 'fr'} and 'clipscore' not in result
  assert result['by_lang']['fr']['faithful'] == 1.0
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


def test_faithful_and_invented_per_language():
  writer = _Writer({
      # Agrees with every prediction; states the title and year the metadata holds.
      'en': ['An Impressionist landscape by Claude Monet (1919), titled “Water Lilies”.', ''],
      # The runner-up style alone, and a year the metadata does not hold.
      'fr': ['Style réaliste, œuvre de Claude Monet (1918), un paysage.', ''],
  })
  evaluator = CaptionEvaluator(writer, VOCAB, ('en', 'fr'))
  evaluator.update(_batch())
  result = evaluator.result()
  c = result['caption']
  assert (c['by_lang']['en']['faithful'], c['by_lang']['en']['invented']) == (1.0, 0.0)
  assert (c['by_lang']['fr']['faithful'], c['by_lang']['fr']['invented']) == (0.0, 1.0)
  assert (c['faithful'], c['invented']) == (0.5, 0.5)
  assert 'faithful 0.500 invented 0.500' in evaluator.line(result)


def _content_batch():
  """_batch with a grey picture, tag probabilities (sea 0.9, boat 0.4, trees 0.1) and a
  period estimate around 1880 (all mass in the bin 1875-1899)."""
  batch = _batch()
  grey = (128 / 255 - np.asarray(augment.IMAGENET.mean)) / np.asarray(augment.IMAGENET.std)
  batch.local['image'] = np.broadcast_to(grey, (2, 8, 8, 3)).astype(np.float32)
  batch.local['year'] = np.array([-1, -1], np.int32)  # no year supplied
  batch.tags = np.array([[0.9, 0.4, 0.1]] * 2)
  batch.period = np.zeros((2, NUM_PERIOD_BINS))
  batch.period[:, (1880 - 1400) // 25] = 1.0
  return batch


@pytest.mark.parametrize('text,faithful', [
    ('An Impressionist seascape by Claude Monet, showing a boat.', True),  # boat 0.4 >= 0.3
    ('An Impressionist landscape by Claude Monet, showing trees.', False),  # trees 0.1
    ('Style impressionniste, représentant des arbres.', False),
    ('An Impressionist landscape (late nineteenth century).', True),
    ('Style impressionniste, œuvre de la fin du XIXe siècle.', True),
    ('An Impressionist landscape (early sixteenth century).', False),
    ('An Impressionist landscape, in black and white.', True),  # the picture is grey
    ('Style impressionniste, un paysage dans des tons bleus.', False),
    ('An Impressionist landscape, in tones of blue.', False),
])
def test_tags_period_and_colours_are_judged(text, faithful):
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])
  vocab.tags = ['sea', 'boat', 'trees']
  lang = 'fr' if text.startswith('Style') else 'en'
  other = 'en' if lang == 'fr' else 'fr'
  writer = _Writer({lang: [text, ''], other: ['', '']})
  evaluator = CaptionEvaluator(writer, vocab, (lang,), tag_threshold=0.3)
  evaluator.update(_content_batch())
  assert evaluator.result()['caption']['faithful'] == (1.0 if faithful else 0.0), text
