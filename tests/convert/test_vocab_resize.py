"""A GIT decoder resized to the run's cased BPE: new rows are the mean of the old pieces."""

import ml_collections
import numpy as np
import pytest
import torch
import transformers
from flax import nnx

from wikiart_jax import factory
from wikiart_jax.convert import vocab_resize
from wikiart_jax.text import tokenizer as tok_lib

# GIT's kind of tokenizer: WordPiece, lower-cased, accents stripped.
WORDS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'style', 'oeuvre', 'de', 'claude', 'monet',
         'paysage', 'avec', 'des', 'reflets', 'lumiere', 'un', ',', '.', "'"]
WORDS += [chr(c) for c in range(ord('a'), ord('z') + 1)]
WORDS += [f'##{chr(c)}' for c in range(ord('a'), ord('z') + 1)]
VISION = dict(hidden_size=24, num_hidden_layers=1, num_attention_heads=4, intermediate_size=32,
              image_size=16, patch_size=8)
TEXTS = ["Style impressionniste, œuvre de Claude Monet, représentant un paysage avec des "
         "reflets de lumière.", "Nymphéas d'Édouard Manet."] * 3


@pytest.fixture(scope='module')
def git_folder(tmp_path_factory):
  folder = tmp_path_factory.mktemp('git')
  (folder / 'vocab.txt').write_text('\n'.join(WORDS) + '\n')
  old = transformers.BertTokenizer(str(folder / 'vocab.txt'), do_lower_case=True)
  old.save_pretrained(folder)
  torch.manual_seed(0)
  ref = transformers.GitForCausalLM(transformers.GitConfig(
      vision_config=VISION, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
      intermediate_size=48, vocab_size=len(WORDS), max_position_embeddings=32,
      bos_token_id=2, eos_token_id=3, pad_token_id=0)).eval()
  ref.save_pretrained(folder)
  return str(folder), ref, transformers.AutoTokenizer.from_pretrained(str(folder))


def _config(init_from):
  return ml_collections.ConfigDict(dict(
      captioner='git', dtype='float32', layer_norm_eps=1e-6,
      caption_decoder=dict(init_from=init_from, hidden_size=32, num_layers=2, num_heads=4,
                           mlp_dim=48, max_positions=32, dropout=0.0, image_tokens='all',
                           label_tokens=False)))


def test_rows_are_the_mean_of_the_old_pieces(git_folder, tmp_path):
  folder, ref, old = git_folder
  assert not tok_lib.round_trips(old)  # why GIT's own tokenizer cannot write French
  new = tok_lib.build_bpe_tokenizer(str(tmp_path), TEXTS, vocab_size=1000)
  model = factory.build_captioner(_config(folder), 24, len(new), rngs=nnx.Rngs(0),
                                  tokenizer=new)
  embed = ref.git.embeddings.word_embeddings.weight.detach().numpy()
  out_w, out_b = ref.output.weight.detach().numpy(), ref.output.bias.detach().numpy()
  got_embed = np.asarray(model.decoder.embeddings.word_embeddings.embedding[...])
  got_out = np.asarray(model.decoder.output.kernel[...]).T
  got_bias = np.asarray(model.decoder.output.bias[...])
  assert got_embed.shape == (len(new), 32) and got_bias.shape == (len(new),)
  pieces = vocab_resize.piece_ids(old, new)
  checked = 0
  for i, text in enumerate(new.convert_ids_to_tokens(list(range(len(new))))):
    surface = new.convert_tokens_to_string([text])
    if i in new.all_special_ids or not surface.strip():
      continue
    # A byte-level piece of a character (half of "é") has no text: it gets [UNK]'s row.
    want = old.encode(surface.replace('\ufffd', ''), add_special_tokens=False) or [1]
    assert pieces[i] == want
    np.testing.assert_allclose(got_embed[i], embed[want].mean(0), atol=1e-6)
    np.testing.assert_allclose(got_out[i], out_w[want].mean(0), atol=1e-6)
    np.testing.assert_allclose(got_bias[i], out_b[want].mean(0), atol=1e-6)
    checked += 1
  assert checked > 50
  # "lumière" is read as GIT's "lumiere" (accents stripped): its row is GIT's.
  (lumiere,) = new.encode(' lumière', add_special_tokens=False)
  assert pieces[lumiere] == [WORDS.index('lumiere')]
  ids = tok_lib.special_ids(new)
  for token, role in ((ids.bos, '[CLS]'), (ids.eos, '[SEP]'), (ids.pad, '[PAD]')):
    np.testing.assert_allclose(got_embed[token], embed[WORDS.index(role)], atol=1e-6)
  # Everything else is the checkpoint's, unchanged.
  query = ref.git.encoder.layer[0].attention.self.query.weight.detach().numpy()
  np.testing.assert_allclose(np.asarray(model.decoder.layers[0].query.kernel[...]), query.T,
                             atol=1e-6)
  logits = model(np.zeros((1, 3, 24), np.float32), np.array([[ids.bos, 5, 6]]))
  assert logits.shape == (1, 3, len(new)) and np.isfinite(np.asarray(logits)).all()


def test_the_checkpoints_own_tokenizer_keeps_its_rows(git_folder, tmp_path):
  folder, ref, old = git_folder
  model = factory.build_captioner(_config(folder), 24, len(old), rngs=nnx.Rngs(0),
                                  tokenizer=old)
  np.testing.assert_allclose(np.asarray(model.decoder.embeddings.word_embeddings.embedding[...]),
                             ref.git.embeddings.word_embeddings.weight.detach().numpy(),
                             atol=1e-6)
  with pytest.raises(ValueError, match='caption tokenizer has 9 tokens'):
    factory.build_captioner(_config(folder), 24, 9, rngs=nnx.Rngs(0))


def test_a_checkpoint_without_a_tokenizer_cannot_be_resized(git_folder, tmp_path):
  _, ref, _ = git_folder
  bare = tmp_path / 'bare'
  ref.save_pretrained(bare)  # weights only
  new = tok_lib.build_bpe_tokenizer(str(tmp_path / 'bpe'), TEXTS, vocab_size=1000)
  with pytest.raises(ValueError, match='has no tokenizer'):
    factory.build_captioner(_config(str(bare)), 24, len(new), rngs=nnx.Rngs(0), tokenizer=new)
