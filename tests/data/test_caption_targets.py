"""The grain caption transform: each example's tokenised target description."""

import pickle

import grain
import ml_collections
import numpy as np
import pytest

from artgan_tree import write_artemis_csv
from wikiart_jax.core import (CAPTION_ARTIST, CAPTION_STYLE, CAPTION_TAGS, HEDGE_PROBABLE,
                              LANGUAGES, STYLE_HEDGE, STYLES)
from wikiart_jax.data import caption_targets
from wikiart_jax.data import metadata
from wikiart_jax.text import prompts
from wikiart_jax.text import references
from wikiart_jax.text import tokenizer as tok_lib


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet'),
                                       ('pablo-picasso', 'Pablo Picasso')])
  texts = [s for style in STYLES for refs in references.references(
      style, 'Claude Monet', 'landscape', year=1919, tags=('boat',)).values() for s in refs]
  folder = str(tmp_path_factory.mktemp('tok'))
  return vocab, folder, tok_lib.build_bpe_tokenizer(folder, texts, vocab_size=600)


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
  lang = LANGUAGES[int(out['caption_lang'])]
  prompt = tok_lib.prompt_ids(tok, lang)
  tokens, mask = out['caption_tokens'], out['caption_mask']
  np.testing.assert_array_equal(tokens[:len(prompt)], prompt)
  assert (mask[:len(prompt)] == 0).all() and mask[len(prompt)] == 1
  real = tokens[mask == 1]
  assert real[-1] == tok_lib.special_ids(tok).eos
  assert (mask[len(prompt):len(prompt) + len(real)] == 1).all()  # one contiguous span
  return tok.decode(real[:-1].tolist()).strip()


def test_transform_adds_tokens_of_a_reference(setup):
  vocab, _, tok = setup
  transform = caption_targets.CaptionTransform(vocab, tok, max_len=64)
  # The year label as the part of its century (never the year itself).
  refs = references.references('Impressionism', 'Claude Monet', 'landscape', year=1919)
  assert refs['fr'][3].startswith('Un paysage de Claude Monet (début du XXe siècle), de style')
  rng = np.random.default_rng(0)
  langs = set()
  for _ in range(12):
    out = transform.random_map(_example(vocab), rng)
    assert out['caption_tokens'].dtype == np.int32 and out['caption_tokens'].shape == (64,)
    assert out['caption_mask'].dtype == np.int32 and out['caption_mask'].shape == (64,)
    lang = LANGUAGES[int(out['caption_lang'])]
    langs.add(lang)
    assert _decoded(tok, out) in refs[lang]
    # The example's title and year are metadata: a target never says them.
    assert 'Nymph' not in _decoded(tok, out) and '1919' not in _decoded(tok, out)
    assert 'title' not in out and 'path' not in out and out['style'] == _example(vocab)['style']
  assert langs == {'en', 'fr'}


def test_transform_unknowns_padding_truncation_and_artemis(setup, tmp_path):
  vocab, _, tok = setup
  only_fr = caption_targets.CaptionTransform(vocab, tok, max_len=64, languages=['fr'])
  rng = np.random.default_rng(1)
  out = only_fr.random_map(_example(vocab, artist=np.int32(-1), genre=np.int32(-1),
                                    year=np.int32(-1), title=b''), rng)
  assert _decoded(tok, out) in references.references('Impressionism', None, None)['fr']
  pad = only_fr.random_map(_example(vocab, style=np.int32(-1)), rng)
  assert pad['caption_mask'].sum() == 0
  short = caption_targets.CaptionTransform(vocab, tok, max_len=9).random_map(_example(vocab), rng)
  prompt = tok_lib.prompt_ids(tok, LANGUAGES[int(short['caption_lang'])])
  assert short['caption_mask'].sum() == 9 - len(prompt)
  assert short['caption_tokens'][8] == tok_lib.special_ids(tok).eos
  artemis = references.load_artemis(write_artemis_csv(tmp_path / 'a.csv'))
  mixed = caption_targets.CaptionTransform(vocab, tok, max_len=64, languages=['en'], artemis=artemis,
                                    artemis_ratio=1.0)
  said = {_decoded(tok, mixed.random_map(_example(vocab), rng)) for _ in range(10)}
  assert said == {'The water looks calm', 'So many colours, wow'}
  with pytest.raises(ValueError, match='caption languages'):
    caption_targets.CaptionTransform(vocab, tok, max_len=64, languages=['de'])


@pytest.mark.parametrize('by_source', [False, True])
def test_transform_pickles_and_runs_in_grain(setup, by_source):
  vocab, folder, tok = setup
  transform = caption_targets.CaptionTransform(vocab, folder if by_source else tok, max_len=48)
  clone = pickle.loads(pickle.dumps(transform))
  examples = [_example(vocab, year=np.int32(1900 + i)) for i in range(4)]
  run = lambda t: [e['caption_tokens'] for e in grain.MapDataset.source(examples).seed(3)
                   .random_map(t)]
  np.testing.assert_array_equal(run(transform), run(clone))  # same seed, same targets


def test_encode_tokenises_each_target_once_and_returns_fresh_arrays(setup, monkeypatch):
  vocab, _, tok = setup
  transform = caption_targets.CaptionTransform(vocab, tok, max_len=48)
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
  plain = caption_targets.CaptionTransform(vocab, tok, max_len=48)
  plain.encode('Un paysage.', 'fr')
  assert pickle.loads(pickle.dumps(plain))._encoded == {}  # pylint: disable=protected-access




def test_make_transform_reads_the_caption_config(setup, tmp_path):
  vocab, folder, tok = setup
  cfg = ml_collections.ConfigDict(dict(tokenizer='', max_len=40, languages=['fr'],
                                       artemis_csv=write_artemis_csv(tmp_path / 'a.csv'),
                                       artemis_ratio=0.5))
  transform = caption_targets.make_transform(cfg, vocab, folder)
  assert transform.languages == ('fr',) and transform.max_len == 40
  assert transform.artemis_ratio == 0.5 and len(transform.artemis) == 1
  # The hedged share only for a captioner with a style-hedge token.
  cfg.hedge_ratio = 0.5
  assert caption_targets.make_transform(cfg, vocab, folder).hedge_ratio == 0.0
  assert caption_targets.make_transform(cfg, vocab, folder, hedging=True).hedge_ratio == 0.5
  out = pickle.loads(pickle.dumps(transform)).random_map(_example(vocab), np.random.default_rng(0))
  assert _decoded(tok, out) in references.references(
      'Impressionism', 'Claude Monet', 'landscape', year=1919)['fr']


def test_hedged_targets_carry_their_style_level(setup):
  vocab, _, tok = setup
  transform = caption_targets.CaptionTransform(vocab, tok, max_len=64, languages=['en'],
                                               hedge_ratio=1.0)
  rng = np.random.default_rng(0)
  levels = []
  for _ in range(60):
    out = transform.random_map(_example(vocab), rng)
    hedge, text = int(out[STYLE_HEDGE]), _decoded(tok, out)
    if hedge == HEDGE_PROBABLE:
      assert 'probably' in text
    else:  # two styles: Impressionism and the drawn runner-up
      assert hedge >= 0 and hedge != vocab.style.index('Impressionism')
      assert 'between Impressionism and' in text
    levels.append(hedge == HEDGE_PROBABLE)
  assert 0.1 < np.mean(levels) < 0.45  # a quarter "probably"
  # No hedging by default: the key is absent and every style is stated.
  plain = caption_targets.CaptionTransform(vocab, tok, max_len=64, languages=['en'])
  out = plain.random_map(_example(vocab), rng)
  assert STYLE_HEDGE not in out and 'Impressionis' in _decoded(tok, out)
  with pytest.raises(ValueError, match='hedge_ratio'):
    caption_targets.CaptionTransform(vocab, tok, max_len=64, hedge_ratio=1.5)


def test_close_styles_share_a_word_of_their_names():
  close = caption_targets.close_styles(STYLES)
  named = {STYLES[i]: {STYLES[j] for j in js} for i, js in enumerate(close)}
  assert named['Synthetic_Cubism'] == {'Cubism', 'Analytical_Cubism'}
  assert named['Early_Renaissance'] == {'High_Renaissance', 'Northern_Renaissance',
                                        'Mannerism_Late_Renaissance'}
  assert named['Impressionism'] == {'Post_Impressionism'}
  assert named['Baroque'] == set()
  assert all(STYLES[i] in named[STYLES[j]] for i, js in enumerate(close) for j in js)


@pytest.mark.parametrize('rate', [0.0, 0.5, 1.0])
def test_close_runner_up_draws_that_share_of_two_style_targets(setup, rate):
  vocab, _, tok = setup
  transform = caption_targets.CaptionTransform(
      vocab, tok, max_len=64, languages=['en'], hedge_ratio=1.0, close_runner_up=rate,
      style_swap=0.0)
  rng = np.random.default_rng(1)
  style = vocab.style.index('Synthetic_Cubism')
  close = {vocab.style.index('Cubism'), vocab.style.index('Analytical_Cubism')}
  second = [int(transform.random_map(_example(vocab, style=np.int32(style)), rng)[STYLE_HEDGE])
            for _ in range(400)]
  second = [s for s in second if s >= 0]  # the two-style targets (three quarters)
  share = np.mean([s in close for s in second])
  # Uniform: 2 of the 26 others; else that share more.
  assert abs(share - (rate + (1 - rate) * 2 / 26)) < 0.08, share
  # A style with no close one draws any other.
  baroque = _example(vocab, style=np.int32(vocab.style.index('Baroque')))
  baroque = [int(transform.random_map(baroque, rng)[STYLE_HEDGE]) for _ in range(40)]
  assert len({s for s in baroque if s >= 0}) > 5
  with pytest.raises(ValueError, match='close_runner_up'):
    caption_targets.CaptionTransform(vocab, tok, max_len=64, close_runner_up=1.5)


def test_language_weights_set_how_often_each_language_is_drawn(setup):
  vocab, _, tok = setup
  rng = np.random.default_rng(0)
  def share_fr(weights, n=400):
    transform = caption_targets.CaptionTransform(vocab, tok, max_len=64,
                                                 language_weights=weights)
    return np.mean([int(transform.random_map(_example(vocab), rng)['caption_lang']) ==
                    LANGUAGES.index('fr') for _ in range(n)])
  assert share_fr((0.0, 1.0), 20) == 1.0
  assert 0.68 < share_fr((1.0, 3.0)) < 0.82
  assert 0.42 < share_fr(()) < 0.58  # equal draws by default
  for bad in ((1.0,), (1.0, -1.0), (0.0, 0.0)):
    with pytest.raises(ValueError, match='language_weights'):
      caption_targets.CaptionTransform(vocab, tok, max_len=64, language_weights=bad)


@pytest.mark.parametrize('family', ['opt', 't5'])
def test_blip2_rows_prompt_with_the_true_labels(setup, family):
  """A BLIP-2 captioner's row: its framing around the labels' prompt, then the sentence
  ended by the checkpoint's EOS (not the tokenizer's) and its padding."""
  vocab, _, tok = setup
  framing = prompts.Framing(family, bos=1, eos=7, pad=3)
  transform = caption_targets.CaptionTransform(vocab, tok, max_len=96, languages=['fr'],
                                               blip2=framing)
  out = transform.random_map(_example(vocab), np.random.default_rng(0))
  text = prompts.label_prompt('Impressionism', 'Claude Monet', 'landscape', 'fr')
  prompt = framing.prompt(tok, text)
  tokens, mask = out['caption_tokens'], out['caption_mask']
  np.testing.assert_array_equal(tokens[:len(prompt)], prompt)
  assert prompt[0] == 1 if family == 'opt' else prompt[-1] == 7
  real = tokens[mask == 1]
  assert (mask[:len(prompt)] == 0).all() and mask[len(prompt)] == 1 and real[-1] == 7
  assert (tokens[len(prompt) + len(real):] == 3).all()
  assert tok.decode(real[:-1].tolist()).strip() in references.references(
      'Impressionism', 'Claude Monet', 'landscape', year=1919)['fr']


def test_targets_name_the_tags_present(setup):
  vocab, _, tok = setup
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])
  vocab.tags = ['sea', 'boat']
  transform = caption_targets.CaptionTransform(vocab, tok, max_len=64, languages=['en'])
  example = _example(vocab, year=np.int32(-1), tags=np.array([0.0, 1.0], np.float32),
                     tags_mask=np.array([1.0, 1.0], np.float32))
  refs = references.references('Impressionism', 'Claude Monet', 'landscape', tags=('boat',))
  text = _decoded(tok, transform.random_map(example, np.random.default_rng(0)))
  assert text in refs['en'] and 'a boat' in text


def test_tag_drop_leaves_tags_out_of_the_target_and_its_tag_tokens(setup):
  vocab, _, tok = setup
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])
  vocab.tags = ['sea', 'boat', 'sun']
  transform = caption_targets.CaptionTransform(vocab, tok, max_len=64, languages=['en'],
                                               tag_drop=0.5)
  example = _example(vocab, year=np.int32(-1), genre=np.int32(vocab.genre.index('portrait')),
                     tags=np.array([1.0, 1.0, 0.0], np.float32),
                     tags_mask=np.array([1.0, 1.0, 1.0], np.float32))
  rng = np.random.default_rng(0)
  seen = set()
  for _ in range(40):
    out = transform.random_map(example, rng)
    kept = tuple(t for t, v in zip(vocab.tags, out[CAPTION_TAGS]) if v == 1.0)
    assert out[CAPTION_TAGS].dtype == np.float32 and set(kept) <= {'sea', 'boat'}
    # The target names exactly the kept tags: one of their references.
    refs = references.references('Impressionism', 'Claude Monet', 'portrait', tags=kept)
    assert _decoded(tok, out) in refs['en']
    seen.add(kept)
  assert seen == {(), ('sea',), ('boat',), ('sea', 'boat')}
  # Off by default (the key is absent); a padding row keeps none.
  plain = caption_targets.CaptionTransform(vocab, tok, max_len=64, languages=['en'])
  assert CAPTION_TAGS not in plain.random_map(example, rng)
  padding = transform.random_map({**example, 'style': np.int32(-1)}, rng)
  np.testing.assert_array_equal(padding[CAPTION_TAGS], [0.0, 0.0, 0.0])
  with pytest.raises(ValueError, match='tag_drop'):
    caption_targets.CaptionTransform(vocab, tok, max_len=64, tag_drop=1.0)


@pytest.mark.parametrize('field, reader', [('tag_drop', 'tag_tokens'),
                                           ('artist_swap', 'class_tokens'),
                                           ('style_swap', 'class_tokens')])
def test_make_transform_draws_only_for_a_captioner_whose_context_reads_them(setup, field,
                                                                             reader):
  vocab, folder, _ = setup
  cfg = ml_collections.ConfigDict(dict(tokenizer='', max_len=40, languages=['en'],
                                       artemis_csv='', artemis_ratio=0.0, **{field: 0.3}))
  assert getattr(caption_targets.make_transform(cfg, vocab, folder), field) == 0.0
  assert getattr(caption_targets.make_transform(cfg, vocab, folder, **{reader: True}),
                 field) == 0.3


def test_artist_swap_names_another_artist_in_the_target_and_its_artist_token(setup):
  vocab, _, tok = setup
  transform = caption_targets.CaptionTransform(vocab, tok, max_len=64, languages=['en'],
                                               artist_swap=0.5)
  rng = np.random.default_rng(0)
  example = _example(vocab, year=np.int32(-1))
  monet, picasso = vocab.artist.index('claude-monet'), vocab.artist.index('pablo-picasso')
  swapped = []
  for _ in range(40):
    out = transform.random_map(example, rng)
    artist = int(out[CAPTION_ARTIST])
    assert artist in (monet, picasso) and int(out['artist']) == monet  # the label stays
    name = vocab.artist_names[artist]
    assert _decoded(tok, out) in references.references('Impressionism', name, 'landscape')['en']
    swapped.append(artist == picasso)
  assert 0.3 < np.mean(swapped) < 0.7
  assert CAPTION_ARTIST not in caption_targets.CaptionTransform(
      vocab, tok, max_len=64).random_map(example, rng)
  assert int(transform.random_map({**example, 'style': np.int32(-1)}, rng)[CAPTION_ARTIST]) == -1
  with pytest.raises(ValueError, match='artist_swap'):
    caption_targets.CaptionTransform(vocab, tok, max_len=64, artist_swap=1.0)


def test_style_swap_names_another_style_in_the_target_and_its_style_token(setup):
  vocab, _, tok = setup
  transform = caption_targets.CaptionTransform(vocab, tok, max_len=64, languages=['en'],
                                               style_swap=0.5, hedge_ratio=0.5)
  rng = np.random.default_rng(1)
  example = _example(vocab, year=np.int32(-1))
  true = vocab.style.index('Impressionism')
  swapped = []
  for _ in range(60):
    out = transform.random_map(example, rng)
    style, hedge = int(out[CAPTION_STYLE]), int(out[STYLE_HEDGE])
    assert int(out['style']) == true  # the label stays
    assert hedge != style  # a two-style hedge's runner-up is another than the token's
    text = _decoded(tok, out)
    if hedge < 0:  # stated or "probably": one of the references of the token's style
      refs = references.hedged_references(
          vocab.style[style], 'Claude Monet', 'landscape',
          style_level='sure' if hedge == -1 else 'probable')['en']
      assert text in refs, text
    swapped.append(style != true)
  assert 0.3 < np.mean(swapped) < 0.7
  assert CAPTION_STYLE not in caption_targets.CaptionTransform(
      vocab, tok, max_len=64).random_map(example, rng)
