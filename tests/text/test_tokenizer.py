"""The demo tokenizer (byte-level BPE), loading tokenizers, prompts and the demo corpus."""

import ml_collections
import numpy as np
import pytest
import transformers

from wikiart_jax.data import metadata
from wikiart_jax.text import references
from wikiart_jax.text import tokenizer as tok_lib

TEXTS = [s for style in ('Impressionism', 'Cubism', 'Ukiyo_e')
         for lang in references.references(style, 'Claude Monet', 'landscape').values()
         for s in lang]


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
  folder = str(tmp_path_factory.mktemp('tok'))
  return folder, tok_lib.build_bpe_tokenizer(folder, TEXTS, vocab_size=400)


def test_demo_tokenizer_round_trips_french_and_english(demo):
  folder, tok = demo
  for text in TEXTS + ["Une nature morte d'Albrecht Dürer, intitulée «\u00a0Œuvre\u00a0»."]:
    ids = tok.encode(text, add_special_tokens=False)
    assert tok.decode(ids) == text
  # Training merged frequent words: far fewer tokens than bytes.
  assert len(tok.encode(TEXTS[0], add_special_tokens=False)) < len(TEXTS[0].encode()) / 2
  assert len(tok) <= 400


def test_demo_tokenizer_reloads_with_specials(demo):
  folder, tok = demo
  again = tok_lib.load_tokenizer(folder)
  assert isinstance(again, transformers.PreTrainedTokenizerFast)
  assert again.encode(TEXTS[1], add_special_tokens=False) == tok.encode(
      TEXTS[1], add_special_tokens=False)
  ids = tok_lib.special_ids(again)
  assert (again.convert_ids_to_tokens([ids.bos, ids.eos, ids.pad])
          == ['<bos>', '<eos>', '<pad>'])
  assert len({ids.bos, ids.eos, ids.pad}) == 3


def test_special_ids_of_gpt2_and_bert_families():
  vocab = {'[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, 'a': 4}
  bert = transformers.BertTokenizer(vocab=vocab)  # GIT's: [CLS] starts, [SEP] ends
  assert tok_lib.special_ids(bert) == tok_lib.SpecialIds(bos=2, eos=3, pad=0)

  class Gpt2Like:  # GPT-2: <|endoftext|> is BOS and EOS, and there is no PAD
    bos_token_id = eos_token_id = 50256
    pad_token_id = cls_token_id = sep_token_id = None
  assert tok_lib.special_ids(Gpt2Like()) == tok_lib.SpecialIds(50256, 50256, 50256)


def test_bad_sources_are_named(tmp_path):
  with pytest.raises(FileNotFoundError, match='nowhere'):
    tok_lib.load_tokenizer(str(tmp_path / 'nowhere'))
  with pytest.raises(ValueError, match='cannot load a tokenizer'):
    tok_lib.load_tokenizer(str(tmp_path))  # a folder without tokenizer files
  with pytest.raises(ValueError, match='at least one'):
    tok_lib.build_bpe_tokenizer(str(tmp_path / 'x'), [], vocab_size=300)


def test_prompt_is_bos_and_the_language_tag(demo):
  _, tok = demo
  for lang, tag in tok_lib.LANG_TAGS.items():
    ids = tok_lib.prompt_ids(tok, lang)
    assert ids[0] == tok_lib.special_ids(tok).bos
    assert tok.decode(ids[1:]) == tag
  with pytest.raises(ValueError, match='caption language'):
    tok_lib.prompt_ids(tok, 'de')


def test_tokenizer_source_builds_the_demo_tokenizer_once(tmp_path):
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet'),
                                       ('pablo-picasso', 'Pablo Picasso')])
  cfg = ml_collections.ConfigDict(dict(tokenizer='', vocab_size=1024, artemis_csv=''))
  source = tok_lib.tokenizer_source(cfg, vocab, str(tmp_path))
  assert source == str(tmp_path / 'caption_tokenizer')
  stamp = (tmp_path / 'caption_tokenizer' / 'tokenizer.json').stat().st_mtime_ns
  assert tok_lib.tokenizer_source(cfg, vocab, str(tmp_path)) == source
  assert (tmp_path / 'caption_tokenizer' / 'tokenizer.json').stat().st_mtime_ns == stamp
  tok = tok_lib.load_tokenizer(source)
  texts = tok_lib.training_texts(vocab)
  assert 'fr: Pablo Picasso' in texts
  for text in texts[:50]:  # byte-level BPE: exact round trip
    assert tok.decode(tok.encode(text, add_special_tokens=False)) == text
  # A given tokenizer is copied into the workdir once; the copy is what runs read.
  cfg.tokenizer = source
  other = tok_lib.tokenizer_source(cfg, vocab, str(tmp_path / 'other'))
  assert other == str(tmp_path / 'other' / 'caption_tokenizer')
  assert tok_lib.load_tokenizer(other).encode(texts[0]) == tok.encode(texts[0])
  cfg.tokenizer = str(tmp_path / 'nowhere')  # never read again once the copy exists
  assert tok_lib.tokenizer_source(cfg, vocab, str(tmp_path / 'other')) == other


def test_banned_tokens_spell_no_digit_and_no_title_quote(demo):
  _, tok = demo
  banned = tok_lib.banned_tokens(tok, len(tok) + 3)
  assert banned[len(tok):].all()  # ids past the tokenizer
  ids = tok_lib.special_ids(tok)
  assert not banned[[ids.bos, ids.eos, ids.pad]].any()
  pieces = tok_lib.token_bytes(tok)
  for i, piece in enumerate(pieces):
    if piece is not None and any(ch.encode() in piece for ch in '0123456789«»“”"'):
      assert banned[i], piece
  # Any sequence of allowed tokens decodes without a digit or a title quote, even where
  # a quote's bytes would be split over tokens (« is b'\xc2\xab').
  allowed = [i for i in range(len(tok)) if not banned[i]]
  rng = np.random.default_rng(0)
  for _ in range(300):
    text = tok.decode(rng.choice(allowed, 25).tolist(), skip_special_tokens=True)
    assert not any(ch in text for ch in '0123456789«»“”"'), text
  lone_lead = [i for i, p in enumerate(pieces) if p and p.endswith(b'\xc2')]
  assert lone_lead and banned[lone_lead].all()
  # Letters, accents and apostrophes stay allowed: French still writes "d'Édouard".
  assert not banned[tok.encode(" d'Édouard œuvre", add_special_tokens=False)].any()


def test_banned_tokens_of_a_wordpiece_tokenizer():
  vocab = {'[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, 'paysage': 4, '##s': 5, '19': 6,
           '##19': 7, '«': 8, 'é': 9}
  bert = transformers.BertTokenizer(vocab=vocab, do_lower_case=False)
  assert tok_lib.banned_tokens(bert, 10).tolist() == [
      False, False, False, False, False, False, True, True, True, False]


def test_a_tokenizer_that_loses_french_is_refused(tmp_path):
  words = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'style', 'impressionniste', ',', 'oeuvre']
  (tmp_path / 'vocab.txt').write_text('\n'.join(words) + '\n')
  transformers.BertTokenizer(str(tmp_path / 'vocab.txt'), do_lower_case=True).save_pretrained(
      str(tmp_path / 'uncased'))  # GIT's kind: lower-cases and strips accents
  cfg = ml_collections.ConfigDict(dict(tokenizer=str(tmp_path / 'uncased'), vocab_size=0,
                                       artemis_csv=''))
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])
  with pytest.raises(ValueError, match='does not give French back'):
    tok_lib.tokenizer_source(cfg, vocab, str(tmp_path / 'run'))
  assert not (tmp_path / 'run' / 'caption_tokenizer').exists()
