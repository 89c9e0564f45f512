"""From a prediction to words: top-k, the template sentence of the top-1, the captioner's."""

import demo
import numpy as np
import pytest

from wikiart_jax import factory
from wikiart_jax.data import metadata
from wikiart_jax.inference import describer
from wikiart_jax.inference import forward
from wikiart_jax.inference import generate
from wikiart_jax.text import templates
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
    return [f'{lang} {i} of {len(context)}' for i in range(len(context))]


def test_top_k_template_and_facts_from_the_caller():
  out = describer.describe(_prediction(), VOCAB, k=2, years=[1912, None],
                           titles=[None, 'Le Pont'])
  assert out[0].top['style'] == [(VOCAB.style.index('Cubism'), 0.6),
                                 (VOCAB.style.index('Fauvism'), 0.4)]
  assert out[0].top['artist'] == [(1, 0.7), (0, 0.3)]
  assert out[0].description == {
      lang: templates.describe('Cubism', 'Pablo Picasso', 'still_life', year=1912, lang=lang)
      for lang in ('en', 'fr')}
  assert out[1].description['en'] == templates.describe(
      'Impressionism', 'Claude Monet', 'still_life', title='Le Pont')
  assert out[0].generated == {} and out[1].generated == {}


def test_the_captioners_sentences_join_their_rows():
  prediction = _prediction().replace(context=np.zeros((2, 4, 8)))
  out = describer.describe(prediction, VOCAB, k=1, writer=_Writer())
  assert out[1].generated == {'en': 'en 1 of 2', 'fr': 'fr 1 of 2'}
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
  tokens = generate.generate(writer.captioner, np.tile(prompt, (3, 1)), context=context,
                             max_new_tokens=12 - len(prompt), eos_id=ids.eos, pad_id=ids.pad)
  assert texts == generate.decode_texts(np.asarray(tokens), writer.tokenizer, ids.eos)
