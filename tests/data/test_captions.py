"""Reference descriptions (golden sentences) and the grain caption transform."""

import pickle

import grain
import numpy as np
import pytest

from wikiart_jax.data import captions
from wikiart_jax.data import metadata
from wikiart_jax.data import tokenizer as tok_lib

NBSP = '\u00a0'
GOLDEN = {
    ('Impressionism', 'Claude Monet', 'landscape', 1919, 'Nymphéas'): {
        'en': ["An Impressionist landscape by Claude Monet (1919), titled 'Nymphéas'.",
               "A landscape in the Impressionist style by Claude Monet, 1919, titled 'Nymphéas'.",
               "This landscape is an Impressionist work by Claude Monet from 1919, titled "
               "'Nymphéas'."],
        'fr': [f'Style impressionniste, œuvre de Claude Monet (1919), un paysage{NBSP}: '
               f'«{NBSP}Nymphéas{NBSP}».',
               f'Un paysage de Claude Monet (1919), de style impressionniste, intitulé '
               f'«{NBSP}Nymphéas{NBSP}».',
               "Un paysage représentatif de l'impressionnisme, réalisé par Claude Monet en 1919 "
               f'et intitulé «{NBSP}Nymphéas{NBSP}».']},
    ('Northern_Renaissance', 'Albrecht Dürer', 'still_life', -1, None): {
        'en': ['A Northern Renaissance still life by Albrecht Dürer.',
               'A still life in the Northern Renaissance style by Albrecht Dürer.',
               'This still life is a Northern Renaissance work by Albrecht Dürer.'],
        'fr': ["Style Renaissance nordique, œuvre d'Albrecht Dürer, une nature morte.",
               "Une nature morte d'Albrecht Dürer, de style Renaissance nordique.",
               'Une nature morte représentative de la Renaissance nordique, réalisée par '
               'Albrecht Dürer.']},
    ('Cubism', None, None, None, None): {
        'en': ['A Cubist work.', 'A work in the Cubist style.', 'This painting is a Cubist work.'],
        'fr': ['Style cubiste.', 'Une œuvre de style cubiste.',
               'Une œuvre représentative du cubisme.']},
    ('Ukiyo_e', None, 'sketch_and_study', 1830, 'La Vague'): {
        'en': ["An Ukiyo-e sketch from 1830, titled 'La Vague'.",
               "A sketch in the Ukiyo-e style, 1830, titled 'La Vague'.",
               "This sketch is an Ukiyo-e work from 1830, titled 'La Vague'."],
        'fr': [f'Style ukiyo-e (1830), une esquisse{NBSP}: «{NBSP}La Vague{NBSP}».',
               f'Une esquisse (1830), de style ukiyo-e, intitulée «{NBSP}La Vague{NBSP}».',
               "Une esquisse représentative de l'ukiyo-e, réalisée en 1830 et intitulée "
               f'«{NBSP}La Vague{NBSP}».']},
}

# "représentatif <de + movement>": the contraction written out by hand for every style.
MOVEMENT_FR = {
    'Abstract_Expressionism': "de l'expressionnisme abstrait",
    'Action_painting': "de l'action painting", 'Analytical_Cubism': 'du cubisme analytique',
    'Art_Nouveau': "de l'Art nouveau", 'Baroque': 'du baroque',
    'Color_Field_Painting': 'de la peinture Color Field',
    'Contemporary_Realism': 'du réalisme contemporain', 'Cubism': 'du cubisme',
    'Early_Renaissance': 'de la première Renaissance', 'Expressionism': "de l'expressionnisme",
    'Fauvism': 'du fauvisme', 'High_Renaissance': 'de la haute Renaissance',
    'Impressionism': "de l'impressionnisme", 'Mannerism_Late_Renaissance': 'du maniérisme',
    'Minimalism': 'du minimalisme', 'Naive_Art_Primitivism': "de l'art naïf",
    'New_Realism': 'du nouveau réalisme', 'Northern_Renaissance': 'de la Renaissance nordique',
    'Pointillism': 'du pointillisme', 'Pop_Art': 'du pop art',
    'Post_Impressionism': 'du postimpressionnisme', 'Realism': 'du réalisme',
    'Rococo': 'du rococo', 'Romanticism': 'du romantisme', 'Symbolism': 'du symbolisme',
    'Synthetic_Cubism': 'du cubisme synthétique', 'Ukiyo_e': "de l'ukiyo-e",
}
# Genre -> (English noun phrase with article, French noun phrase, feminine?) by hand.
GENRE_FORMS = {
    'abstract_painting': ('An abstract painting', 'Une peinture abstraite', True),
    'cityscape': ('A cityscape', 'Une vue urbaine', True),
    'genre_painting': ('A genre scene', 'Une scène de genre', True),
    'illustration': ('An illustration', 'Une illustration', True),
    'landscape': ('A landscape', 'Un paysage', False),
    'nude_painting': ('A nude', 'Un nu', False),
    'portrait': ('A portrait', 'Un portrait', False),
    'religious_painting': ('A religious painting', 'Une peinture religieuse', True),
    'sketch_and_study': ('A sketch', 'Une esquisse', True),
    'still_life': ('A still life', 'Une nature morte', True),
}


@pytest.mark.parametrize('facts', list(GOLDEN))
def test_golden_references(facts):
  assert captions.references(*facts) == GOLDEN[facts]


@pytest.mark.parametrize('style', metadata.STYLES)
def test_every_style_contracts_de_in_french(style):
  fr = captions.references(style, 'Ilya Repin', 'portrait', 1880, None)['fr']
  assert fr[2] == (f'Un portrait représentatif {MOVEMENT_FR[style]}, '
                   'réalisé par Ilya Repin en 1880.')


@pytest.mark.parametrize('genre', metadata.GENRES)
def test_every_genre_agrees(genre):
  en_noun, fr_noun, feminine = GENRE_FORMS[genre]
  refs = captions.references('Realism', 'Édouard Manet', genre, 1863, 'Olympia')
  e = 'e' if feminine else ''
  assert refs['en'][1] == (f"{en_noun} in the Realist style by Édouard Manet, 1863, "
                           "titled 'Olympia'.")
  assert refs['fr'][1] == (f"{fr_noun} d'Édouard Manet (1863), de style réaliste, "
                           f'intitulé{e} «{NBSP}Olympia{NBSP}».')
  assert refs['fr'][2] == (f"{fr_noun} représentati{'ve' if feminine else 'f'} du réalisme, "
                           f'réalisé{e} par Édouard Manet en 1863 et intitulé{e} '
                           f'«{NBSP}Olympia{NBSP}».')


def test_sample_target_draws_every_template_and_artemis():
  rng = np.random.default_rng(0)
  facts = ('Baroque', 'Rembrandt', 'portrait', 1660, None)
  fr = {captions.sample_target(*facts, rng=rng, lang='fr') for _ in range(60)}
  assert fr == set(captions.references(*facts)['fr'])
  said = ['It feels calm and warm.']
  assert captions.sample_target(*facts, rng=rng, lang='en', utterances=said,
                                artemis_ratio=1.0) == said[0]
  drawn = [captions.sample_target(*facts, rng=rng, lang='en', utterances=said,
                                  artemis_ratio=0.3) for _ in range(400)]
  assert 0.2 < np.mean([d == said[0] for d in drawn]) < 0.4
  # French targets never use the English utterances.
  assert said[0] not in {captions.sample_target(*facts, rng=rng, lang='fr', utterances=said,
                                                artemis_ratio=1.0) for _ in range(20)}


def test_bad_labels_are_named():
  with pytest.raises(ValueError, match="unknown style 'Dada'"):
    captions.references('Dada', None, None, None, None)
  with pytest.raises(ValueError, match="unknown genre 'mural'"):
    captions.references('Cubism', None, 'mural', None, None)
  with pytest.raises(ValueError, match='caption language'):
    captions.sample_target('Cubism', None, None, None, None, rng=np.random.default_rng(0),
                           lang='de')


def _artemis_csv(path):
  path.write_text('art_style,painting,emotion,utterance\n'
                  'Impressionism,claude-monet_water-lilies-1919,contentment,The water looks calm\n'
                  'Impressionism,claude-monet_water-lilies-1919,awe,"So many colours, wow"\n'
                  'Cubism,pablo-picasso_guitar,fear,\n', encoding='utf-8')
  return str(path)


def test_load_artemis_joins_on_path(tmp_path):
  table = captions.load_artemis(_artemis_csv(tmp_path / 'artemis.csv'))
  assert table == {'Impressionism/claude-monet_water-lilies-1919.jpg':
                   ['The water looks calm', 'So many colours, wow']}
  (tmp_path / 'bad.csv').write_text('style,text\nx,y\n')
  with pytest.raises(ValueError, match='lacks columns'):
    captions.load_artemis(str(tmp_path / 'bad.csv'))


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet'),
                                       ('pablo-picasso', 'Pablo Picasso')])
  texts = [s for style in metadata.STYLES for refs in captions.references(
      style, 'Claude Monet', 'landscape', 1919, 'Nymphéas').values() for s in refs]
  folder = str(tmp_path_factory.mktemp('tok'))
  return vocab, folder, tok_lib.build_demo_tokenizer(folder, texts, vocab_size=600)


def _example(vocab, **overrides):
  ex = {'image': np.zeros((4, 4, 3), np.float32),
        'style': np.int32(vocab.style.index('Impressionism')),
        'artist': np.int32(vocab.artist.index('claude-monet')),
        'genre': np.int32(vocab.genre.index('landscape')), 'year': np.int32(1919),
        'title': 'Nymphéas'.encode(), 'path': b'Impressionism/claude-monet_water-lilies-1919.jpg'}
  ex.update(overrides)
  return ex


def _decoded(tok, out):
  """The sentence of a transformed example, after checking its frame."""
  lang = captions.LANGUAGES[int(out['caption_lang'])]
  prompt = captions.prompt_ids(tok, lang)
  tokens, mask = out['caption_tokens'], out['caption_mask']
  np.testing.assert_array_equal(tokens[:len(prompt)], prompt)
  assert (mask[:len(prompt)] == 0).all() and mask[len(prompt)] == 1
  real = tokens[mask == 1]
  assert real[-1] == tok_lib.special_ids(tok).eos
  assert (mask[len(prompt):len(prompt) + len(real)] == 1).all()  # one contiguous span
  return tok.decode(real[:-1].tolist()).strip()


def test_transform_adds_tokens_of_a_reference(setup):
  vocab, _, tok = setup
  transform = captions.CaptionTransform(vocab, tok, max_len=64)
  refs = captions.references('Impressionism', 'Claude Monet', 'landscape', 1919, 'Nymphéas')
  rng = np.random.default_rng(0)
  langs = set()
  for _ in range(12):
    out = transform.random_map(_example(vocab), rng)
    assert out['caption_tokens'].dtype == np.int32 and out['caption_tokens'].shape == (64,)
    assert out['caption_mask'].dtype == np.int32 and out['caption_mask'].shape == (64,)
    lang = captions.LANGUAGES[int(out['caption_lang'])]
    langs.add(lang)
    assert _decoded(tok, out) in refs[lang]
    assert 'title' not in out and 'path' not in out and out['style'] == _example(vocab)['style']
  assert langs == {'en', 'fr'}


def test_transform_unknowns_padding_truncation_and_artemis(setup, tmp_path):
  vocab, _, tok = setup
  only_fr = captions.CaptionTransform(vocab, tok, max_len=64, languages=['fr'])
  rng = np.random.default_rng(1)
  out = only_fr.random_map(_example(vocab, artist=np.int32(-1), genre=np.int32(-1),
                                    year=np.int32(-1), title=b''), rng)
  assert _decoded(tok, out) in captions.references('Impressionism', None, None, None, None)['fr']
  pad = only_fr.random_map(_example(vocab, style=np.int32(-1)), rng)
  assert pad['caption_mask'].sum() == 0
  short = captions.CaptionTransform(vocab, tok, max_len=9).random_map(_example(vocab), rng)
  prompt = captions.prompt_ids(tok, captions.LANGUAGES[int(short['caption_lang'])])
  assert short['caption_mask'].sum() == 9 - len(prompt)
  assert short['caption_tokens'][8] == tok_lib.special_ids(tok).eos
  artemis = captions.load_artemis(_artemis_csv(tmp_path / 'a.csv'))
  mixed = captions.CaptionTransform(vocab, tok, max_len=64, languages=['en'], artemis=artemis,
                                    artemis_ratio=1.0)
  said = {_decoded(tok, mixed.random_map(_example(vocab), rng)) for _ in range(10)}
  assert said == {'The water looks calm', 'So many colours, wow'}
  with pytest.raises(ValueError, match='caption languages'):
    captions.CaptionTransform(vocab, tok, max_len=64, languages=['de'])


@pytest.mark.parametrize('by_source', [False, True])
def test_transform_pickles_and_runs_in_grain(setup, by_source):
  vocab, folder, tok = setup
  transform = captions.CaptionTransform(vocab, folder if by_source else tok, max_len=48)
  clone = pickle.loads(pickle.dumps(transform))
  examples = [_example(vocab, year=np.int32(1900 + i)) for i in range(4)]
  run = lambda t: [e['caption_tokens'] for e in grain.MapDataset.source(examples).seed(3)
                   .random_map(t)]
  np.testing.assert_array_equal(run(transform), run(clone))  # same seed, same targets


def test_encode_tokenises_each_target_once_and_returns_fresh_arrays(setup, monkeypatch):
  vocab, _, tok = setup
  transform = captions.CaptionTransform(vocab, tok, max_len=48)
  calls = []
  real = transform._encode  # pylint: disable=protected-access
  monkeypatch.setattr(transform, '_encode', lambda *a: calls.append(a) or real(*a))
  first, mask = transform.encode('Un paysage.', 'fr')
  first[:] = -7  # a consumer writing into its batch must not reach the cache
  again, again_mask = transform.encode('Un paysage.', 'fr')
  assert len(calls) == 1
  np.testing.assert_array_equal((again, again_mask), real('Un paysage.', 'fr'))
  np.testing.assert_array_equal(mask, again_mask)
  transform.encode('Un paysage.', 'en')  # the language is part of the key
  assert len(calls) == 2
  plain = captions.CaptionTransform(vocab, tok, max_len=48)
  plain.encode('Un paysage.', 'fr')
  assert pickle.loads(pickle.dumps(plain))._encoded == {}  # pylint: disable=protected-access


def test_batch_references(setup):
  vocab, _, _ = setup
  batch = {k: np.array([v, v]) for k, v in _example(vocab).items() if k not in ('image',)}
  batch['style'] = np.array([batch['style'][0], -1], np.int32)
  refs = captions.batch_references(vocab, batch)
  assert refs[1] is None
  assert refs[0] == captions.references('Impressionism', 'Claude Monet', 'landscape', 1919,
                                        'Nymphéas')


def test_config_helpers_build_the_demo_tokenizer_once(setup, tmp_path):
  import ml_collections  # pylint: disable=g-import-not-at-top
  vocab, _, _ = setup
  cfg = ml_collections.ConfigDict(dict(tokenizer='', max_len=40, languages=['fr'],
                                       artemis_csv=_artemis_csv(tmp_path / 'a.csv'),
                                       artemis_ratio=0.5))
  source = captions.tokenizer_source(cfg, vocab, str(tmp_path))
  assert source == str(tmp_path / 'caption_tokenizer')
  stamp = (tmp_path / 'caption_tokenizer' / 'tokenizer.json').stat().st_mtime_ns
  assert captions.tokenizer_source(cfg, vocab, str(tmp_path)) == source
  assert (tmp_path / 'caption_tokenizer' / 'tokenizer.json').stat().st_mtime_ns == stamp
  tok = tok_lib.load_tokenizer(source)
  for text in captions.training_texts(vocab)[:50]:  # byte-level BPE: exact round trip
    assert tok.decode(tok.encode(text, add_special_tokens=False)) == text
  transform = captions.make_transform(cfg, vocab, source)
  assert transform.languages == ('fr',) and transform.max_len == 40
  assert transform.artemis_ratio == 0.5 and len(transform.artemis) == 1
  out = pickle.loads(pickle.dumps(transform)).random_map(_example(vocab), np.random.default_rng(0))
  assert _decoded(tok, out) in captions.references(
      'Impressionism', 'Claude Monet', 'landscape', 1919, 'Nymphéas')['fr']
