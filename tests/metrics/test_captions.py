"""Caption metrics equal pycocoevalcap's scorers, hand-computed values and PyTorch CLIP."""

import math

import numpy as np
import pytest
import torch
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge

from wikiart_jax.convert import preprocessing
from wikiart_jax.inference import zero_shot
from wikiart_jax.metrics import captions as cm
from wikiart_jax.text import references

from tiny_clip import save_random_clip


def test_tokenize_is_lowercase_words_without_punctuation():
  text = "Style impressionniste, œuvre d'Albrecht Dürer\u00a0: «\u00a0Nymphéas\u00a0»."
  assert cm.tokenize(text) == "style impressionniste œuvre d albrecht dürer nymphéas"
  assert cm.tokenize("A Post-Impressionist work (1889), titled 'Starry Night'.") == (
      'a post impressionist work 1889 titled starry night')
  assert cm.tokenize(' ... ') == ''


def _corpus():
  facts = [('Impressionism', 'Claude Monet', 'landscape', 1919, 'Nymphéas'),
           ('Cubism', 'Pablo Picasso', 'portrait', 1910, None),
           ('Baroque', 'Rembrandt', 'religious_painting', None, 'The Return'),
           ('Ukiyo_e', None, 'landscape', 1830, None)]
  refs = [references.references(*f[:3], year=f[3]) for f in facts]  # never the title
  preds = ['An Impressionist landscape by Claude Monet.',
           'A Cubist portrait by Pablo Picasso (1910).',
           'A religious painting in the Baroque style.',
           'Une estampe ukiyo-e.']
  return preds, [r['en'] + r['fr'] for r in refs]


def test_scores_equal_pycocoevalcap_called_directly(capsys):
  preds, refs = _corpus()
  got = cm.score_captions(preds, refs)
  gts = {i: [cm.tokenize(r) for r in rs] for i, rs in enumerate(refs)}
  res = {i: [cm.tokenize(p)] for i, p in enumerate(preds)}
  bleu, _ = Bleu(4).compute_score(gts, res)
  rouge, _ = Rouge().compute_score(gts, res)
  cider, _ = Cider().compute_score(gts, res)
  capsys.readouterr()
  want = {'bleu1': bleu[0], 'bleu2': bleu[1], 'bleu3': bleu[2], 'bleu4': bleu[3],
          'rouge_l': rouge, 'cider': cider}
  assert got == pytest.approx(want, abs=1e-12)
  assert 0 < got['bleu4'] < got['bleu1'] < 1 and got['cider'] > 0


def test_scores_print_nothing(capsys):
  cm.score_captions(*_corpus())
  assert capsys.readouterr().out == ''


def test_hand_computed_simple_cases():
  # One word-perfect but short hypothesis: unigram precision 1, brevity penalty exp(1 - 6/2).
  got = cm.score_captions(['A cat.'], [['a cat sat on the mat']])
  assert got['bleu1'] == pytest.approx(math.exp(1 - 6 / 2), rel=1e-6)
  # ROUGE-L: LCS 2, P = 1, R = 2/6, F with beta = 1.2.
  p, r, b2 = 1.0, 2 / 6, 1.2 ** 2
  assert got['rouge_l'] == pytest.approx((1 + b2) * p * r / (r + b2 * p), rel=1e-9)
  same = cm.score_captions(['The cat sat on the mat.'], [['the cat sat on the mat']])
  assert same['bleu4'] == pytest.approx(1.0, abs=1e-6) and same['rouge_l'] == pytest.approx(1.0)
  # CIDEr-D: with one image every n-gram is in all (one) documents, so idf = 0.
  assert same['cider'] == 0.0


def test_cider_prefers_the_matching_caption():
  refs = [['a red boat on a lake'], ['a portrait of an old man'], ['a bowl of fruit']]
  good = cm.score_captions(['a red boat on a lake', 'a portrait of an old man',
                            'a bowl of fruit'], refs)['cider']
  bad = cm.score_captions(['a bowl of fruit', 'a red boat on a lake',
                           'a portrait of an old man'], refs)['cider']
  assert good > 5 and bad < 0.5


def test_accumulator_skips_padding_and_splits_languages():
  acc = cm.CaptionAccumulator()
  preds, refs = _corpus()
  acc.update(preds[:2], [refs[0], None], 'en', clip_scores=[0.5, 9.0])
  acc.update(preds[2:], refs[2:], 'fr', clip_scores=[0.1, 0.3])
  out = acc.compute()
  assert out['count'] == 3 and out['by_lang']['en']['count'] == 1
  assert out['clipscore'] == pytest.approx((0.5 + 0.1 + 0.3) / 3)
  kept_preds, kept_refs = [preds[0]] + preds[2:], [refs[0]] + refs[2:]
  assert out['cider'] == pytest.approx(cm.score_captions(kept_preds, kept_refs)['cider'])
  assert out['by_lang']['fr']['bleu1'] == pytest.approx(
      cm.score_captions(preds[2:], refs[2:])['bleu1'])
  with pytest.raises(ValueError, match='no captions'):
    cm.CaptionAccumulator().compute()
  with pytest.raises(ValueError, match='2 predictions but 1'):
    acc.update(preds[:2], refs[:1], 'en')


@pytest.fixture(scope='module')
def clip_checkpoint(tmp_path_factory):
  """(folder, PyTorch CLIPModel, tokenizer) of a tiny random CLIP checkpoint."""
  folder = tmp_path_factory.mktemp('clip')
  model, tokenizer = save_random_clip(folder)
  return str(folder), model, tokenizer


def test_clipscore_equals_pytorch_clip(clip_checkpoint):
  folder, model, tokenizer = clip_checkpoint
  rng = np.random.default_rng(0)
  images = rng.normal(size=(4, 16, 16, 3)).astype(np.float32)
  texts = ['An Impressionist landscape.', 'A Cubist portrait by Pablo Picasso.',
           'A still life.', 'Gold and blue waves under a pale sky.']
  got = cm.clip_scores(zero_shot.ZeroShotCLIP.from_pretrained(folder), images, texts,
                       normalization=preprocessing.OPENAI_CLIP)
  tok = tokenizer(['A photo depicts ' + t for t in texts], padding='max_length', max_length=77,
                  truncation=True, return_tensors='pt')
  with torch.no_grad():
    txt = model.get_text_features(input_ids=tok['input_ids'],
                                  attention_mask=tok['attention_mask']).pooler_output.numpy()
    img = model.get_image_features(pixel_values=torch.tensor(
        images.transpose(0, 3, 1, 2))).pooler_output.numpy()
  cos = (txt * img).sum(-1) / np.linalg.norm(txt, axis=-1) / np.linalg.norm(img, axis=-1)
  np.testing.assert_allclose(got, 2.5 * np.maximum(cos, 0), atol=1e-4)
  assert got.shape == (4,)
