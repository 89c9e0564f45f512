"""From a prediction to words: calibrated top-k, the composed sentence, the captioner's."""

import common
import demo
import numpy as np
import pytest

from wikiart_jax import factory
from wikiart_jax.core import NUM_PERIOD_BINS
from wikiart_jax.data import metadata
from wikiart_jax.inference import describer
from wikiart_jax.inference import forward
from wikiart_jax.inference import generate
from wikiart_jax.metrics import calibration
from wikiart_jax.text import composer
from wikiart_jax.text import tokenizer as tok_lib

VOCAB = metadata.Vocabularies.build([('claude-monet', 'Claude Monet'),
                                     ('pablo-picasso', 'Pablo Picasso')])


def _prediction():
  probs = {'style': np.zeros((2, 27)), 'artist': np.array([[0.3, 0.7], [0.9, 0.1]]),
           'genre': np.zeros((2, 10))}
  probs['style'][0, VOCAB.style.index('Cubism')] = 0.6
  probs['style'][0, VOCAB.style.index('Fauvism')] = 0.4
  probs['style'][1, VOCAB.style.index('Impressionism')] = 1.0
  probs['genre'][:, VOCAB.genre.index('still_life')] = 1.0
  return forward.Prediction(probs=probs)


class _Writer:
  """Stands in for a captioner: one sentence per row and language."""

  def write(self, context, lang):
    # Words, not digits: a captioner cannot write a digit, and one would read as a year.
    words = ('one', 'two', 'three')
    return [f'{lang} {words[i]} of {words[len(context) - 1]}' for i in range(len(context))]


def test_top_k_composed_sentence_and_facts_from_the_caller():
  out = describer.describe(_prediction(), VOCAB, k=2, years=[1912, None],
                           titles=[None, 'Le Pont'])
  assert out[0].top['style'] == [(VOCAB.style.index('Cubism'), 0.6),
                                 (VOCAB.style.index('Fauvism'), 0.4)]
  assert out[0].top['artist'] == [(1, 0.7), (0, 0.3)]
  assert out[0].description == {
      lang: composer.describe('Cubism', 'Pablo Picasso', 'still_life', year=1912, lang=lang)
      for lang in ('en', 'fr')}
  assert out[1].description['en'] == composer.describe(
      'Impressionism', 'Claude Monet', 'still_life', title='Le Pont')
  assert out[0].generated == {} and out[1].generated == {}


def test_hedged_by_the_calibrated_probabilities():
  hedging = composer.Hedging.from_config(common.get_config().describe)
  out = describer.describe(_prediction(), VOCAB, k=2, hedging=hedging)
  # Row 0: Cubism 0.6 (at style_sure), Picasso 0.7: stated as they are.
  assert out[0].description['en'].startswith('A Cubist still life by Pablo Picasso, with')
  # A temperature of 3 flattens them: Cubism is only probable, Picasso only attributed.
  temperatures = {'style': 3.0, 'artist': 3.0, 'genre': 1.0}
  flat = describer.describe(_prediction(), VOCAB, k=2, hedging=hedging,
                            temperatures=temperatures)
  p_style = calibration.apply_temperature(_prediction().probs['style'][:1], 3.0)[0]
  assert flat[0].top['style'][0] == (VOCAB.style.index('Cubism'),
                                     pytest.approx(float(p_style.max())))
  assert 0.35 < p_style.max() < 0.6  # between style_probable and style_sure
  assert flat[0].description['en'] == (
      'A still life, probably Cubist, attributed to Pablo Picasso, with fragmented geometric '
      'forms typical of the movement.')
  assert flat[0].description['fr'] == (
      'Probablement de style cubiste, œuvre attribuée à Pablo Picasso, représentant une '
      'nature morte avec des formes géométriques fragmentées caractéristiques du mouvement.')


def test_the_captioners_sentences_join_their_rows():
  prediction = _prediction().replace(context=np.zeros((2, 4, 8)))
  out = describer.describe(prediction, VOCAB, k=1, writer=_Writer())
  assert out[1].generated == {'en': 'en two of two', 'fr': 'fr two of two'}
  assert len(out[0].top['genre']) == 1


@pytest.fixture(scope='module')
def writer(tmp_path_factory):
  config = demo.get_config('tiny_caption')
  workdir = str(tmp_path_factory.mktemp('run'))
  model = factory.build_model(config, VOCAB, workdir)
  tokenizer = factory.caption_tokenizer(config, VOCAB, workdir)
  return describer.CaptionWriter(model.captioner, tokenizer, max_len=12,
                                 decoding=config.eval.caption)


def test_caption_writer_prompts_with_the_language_tag_and_cuts_at_eos(writer):
  context = np.random.default_rng(0).normal(size=(3, 4, 64)).astype(np.float32)
  texts = writer.write(context, 'fr')
  assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
  prompt = tok_lib.prompt_ids(writer.tokenizer, 'fr')
  ids = tok_lib.special_ids(writer.tokenizer)
  banned = tok_lib.banned_tokens(writer.tokenizer, writer.captioner.vocab_size)
  tokens = generate.generate(writer.captioner, np.tile(prompt, (3, 1)), context=context,
                             max_new_tokens=12 - len(prompt), eos_id=ids.eos, pad_id=ids.pad,
                             logit_bias=np.where(banned, -1e9, 0.0))
  assert texts == generate.decode_texts(np.asarray(tokens), writer.tokenizer, ids.eos)
  assert not banned[np.asarray(tokens)].any()


def test_an_untrained_captioner_writes_no_digit_and_no_title_quote(writer):
  # Random weights would write anything: the ban leaves it no digit and no « » “ ” ".
  context = np.random.default_rng(1).normal(size=(16, 4, 64)).astype(np.float32) * 5
  for lang in ('en', 'fr'):
    for text in writer.write(context, lang):
      assert not any(ch in text for ch in '0123456789«»“”"'), text


class _NamingWriter:
  """Names Claude Monet in every row."""

  def write(self, context, lang):
    return ['A still life by Claude Monet.'] * len(context)


def test_a_learned_sentence_naming_another_artist_is_withheld():
  prediction = _prediction().replace(context=np.zeros((2, 4, 8)))
  out = describer.describe(prediction, VOCAB, k=1, writer=_NamingWriter())
  # Row 0's artist head says Picasso: the Monet sentence is kept apart, not shown.
  assert out[0].generated == {} and out[0].withheld['en'] == 'A still life by Claude Monet.'
  # Row 1's says Monet: shown.
  assert out[1].generated == {'en': 'A still life by Claude Monet.',
                              'fr': 'A still life by Claude Monet.'} and not out[1].withheld


class _BoatWriter:
  """Names a boat and blue in every row."""

  TEXT = {'en': 'A still life by Claude Monet, with a boat, in blue tones.',
          'fr': 'Une nature morte de Claude Monet, avec un bateau, aux tons bleus.'}

  def write(self, context, lang):
    return [self.TEXT[lang]] * len(context)


def test_a_learned_sentence_naming_a_tag_or_colour_the_model_lacks_is_withheld():
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])
  vocab.tags = ['sea', 'boat']
  probs = {'style': np.zeros((3, 27)), 'artist': np.ones((3, 1)), 'genre': np.zeros((3, 10))}
  probs['style'][:, vocab.style.index('Impressionism')] = 1.0
  probs['genre'][:, vocab.genre.index('still_life')] = 1.0
  # Row 0: a boat at 0.4 (at or above describe.tag_probable 0.3); row 1: 0.2; row 2: 0.9.
  prediction = forward.Prediction(probs=probs, context=np.zeros((3, 4, 8)),
                                  tags=np.array([[0.1, 0.4], [0.9, 0.2], [0.0, 0.9]]))
  blue = {'black_and_white': False, 'colours': [{'colour': 'blue', 'share': 0.7}]}
  red = {'black_and_white': False, 'colours': [{'colour': 'red', 'share': 0.7}]}
  hedging = composer.Hedging.from_config(common.get_config().describe)
  out = describer.describe(prediction, vocab, k=1, writer=_BoatWriter(), hedging=hedging,
                           palettes=[blue, blue, red])
  text = _BoatWriter.TEXT
  assert out[0].generated == text and not out[0].withheld
  assert out[1].generated == {} and out[1].withheld == text  # no boat
  assert out[2].generated == {} and out[2].withheld == text  # no blue
  # Not measured, a colour cannot be checked: withheld too.
  assert describer.describe(prediction, vocab, k=1, writer=_BoatWriter(),
                            hedging=hedging)[0].generated == {}


def test_tags_period_and_palette_reach_the_sentence():
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])
  vocab.tags = ['sea', 'boat', 'trees']
  probs = {'style': np.zeros((1, 27)), 'artist': np.ones((1, 1)), 'genre': np.zeros((1, 10))}
  probs['style'][0, vocab.style.index('Impressionism')] = 1.0
  probs['genre'][0, vocab.genre.index('landscape')] = 1.0
  period = np.zeros((1, NUM_PERIOD_BINS))
  period[0, (1880 - 1400) // 25] = 1.0  # 1875-1899: expected 1887.5, spread 7.2
  prediction = forward.Prediction(probs=probs, tags=np.array([[0.9, 0.8, 0.1]]), period=period)
  palette = {'black_and_white': False,
             'colours': [{'colour': 'blue', 'share': 0.6}, {'colour': 'white', 'share': 0.3},
                         {'colour': 'ochre', 'share': 0.1}]}
  hedging = composer.Hedging.from_config(common.get_config().describe)
  out = describer.describe(prediction, vocab, k=1, hedging=hedging, palettes=[palette])[0]
  assert out.description['fr'] == (
      'Style impressionniste, œuvre de Claude Monet (vers 1880-1895), représentant un paysage '
      'maritime avec un bateau, avec des reflets de lumière caractéristiques du mouvement, '
      'dans des tons bleus et blancs.')
  assert out.description['en'] == (
      'An Impressionist seascape by Claude Monet (c. 1880-1895), showing a boat, in tones of '
      'blue and white, with reflections of light typical of the movement.')
  grey = {'black_and_white': True, 'colours': []}
  out = describer.describe(prediction, vocab, k=1, hedging=hedging, palettes=[grey])[0]
  assert out.description['fr'].endswith(', en noir et blanc.')
  assert 'in black and white' in out.description['en']
