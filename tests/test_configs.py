"""Every experiment config loads and builds its model (abstractly, no hub access)."""

import contextlib
import glob
import importlib
import os

import jax
import pytest
from flax import nnx

from conftest import ROOT
from wikiart_jax import factory
from wikiart_jax.apps import bench
from wikiart_jax.data import metadata
from wikiart_jax.text import references
from wikiart_jax.text import tokenizer as tokenizer_lib
CONFIGS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, 'configs', '*.py'))
                 if not p.endswith('common.py'))


_BUILT = {}  # (name, depth) -> (config, model): a BLIP-2 build traces billions of parameters
# The BLIP-2 configs' default-suite builds: every width as released, this many layers in
# the image tower, the Q-Former and the language model (a full build traces for a minute;
# `make test-slow` builds them at the released depth).
BLIP2_TEST_DEPTH = 2


def _released(name: str) -> str:
  """The BLIP-2 architecture a config names ('' for the others)."""
  config = importlib.import_module(name).get_config()
  return config.model.caption_decoder.architecture if config.model.captioner == 'blip2' else ''


@contextlib.contextmanager
def _depth(architecture: str, depth: int | None):
  """The released BLIP-2 `architecture` with `depth` layers in each part, while inside."""
  from wikiart_jax.convert import blip2 as convert_blip2  # pylint: disable=g-import-not-at-top
  released = convert_blip2.RELEASED[architecture]
  if depth is not None:
    text = dict(released['text_config'])
    text['num_layers' if text['model_type'] == 't5' else 'num_hidden_layers'] = depth
    convert_blip2.RELEASED[architecture] = dict(
        released, text_config=text, qformer_config=dict(num_hidden_layers=depth))
  try:
    yield convert_blip2.RELEASED[architecture]
  finally:
    convert_blip2.RELEASED[architecture] = released


def _abstract_model(name: str, workdir: str = '', depth: int | None = None):
  """(config, the model it builds as shapes): architecture spelt out, no hub; a BLIP-2
  config with `depth` layers in each part (None: as released)."""
  config = importlib.import_module(name).get_config()
  # Without a tokenizer to build in the workdir, one build serves every test.
  shared = config.model.captioner == 'none' or config.bench.caption_vocab_size > 0
  if shared and (name, depth) in _BUILT:
    return _BUILT[name, depth]
  config.init_from = ''
  config.model.caption_decoder.init_from = ''
  released = _released(name)
  if depth is not None:
    config.model.num_layers = depth
  with _depth(released, depth) if released else contextlib.nullcontext():
    model = nnx.eval_shape(lambda: factory.build_model(
        config, bench.bench_vocab(), workdir,
        caption_vocab_size=int(config.bench.caption_vocab_size)))
  if shared:
    _BUILT[name, depth] = config, model
  return config, model


def _num_params(module) -> int:
  return sum(x.size for x in jax.tree.leaves(nnx.state(module, nnx.Param)))


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds_its_model(name, tmp_path):
  depth = BLIP2_TEST_DEPTH if _released(name) else None
  config, model = _abstract_model(name, str(tmp_path), depth)
  assert _num_params(model) > 0
  assert (model.captioner is None) == (config.model.captioner == 'none')


def test_the_big_configs_have_their_published_sizes():
  b16 = _abstract_model('vit_b16_multitask')[1]
  l14 = _abstract_model('vit_l14_clip_multitask')[1]
  git = _abstract_model('clip_l14_git_caption')[1]
  assert round(_num_params(b16.backbone) / 1e6) == 86  # ViT-B/16 without pooler
  assert round(_num_params(l14.backbone) / 1e6) == 303  # CLIP L/14 vision
  assert _num_params(git.backbone) == _num_params(l14.backbone)
  # GIT-large's text side: 6 BERT layers of 768, 1,024 positions, the visual projection
  # from 1,024; its embedding and output (not tied in the files) resized to the run's BPE
  # (bench.caption_vocab_size tokens in and out, not GIT's 30,522 uncased BERT tokens).
  vocab = 5789
  layer = 4 * (768 * 768 + 768) + 2 * 768 * 3072 + 3072 + 768 + 4 * 768
  want = (6 * layer + vocab * 768 + 1024 * 768 + 2 * 768 + 1024 * 768 + 768 + 2 * 768
          + 768 * vocab + vocab)
  assert _num_params(git.captioner) == want


BLIP2_CONFIGS = [('blip2_opt27b_caption', 'blip2-opt-2.7b'),
                 ('blip2_flant5xl_caption', 'blip2-flan-t5-xl')]


def _assert_blip2_sizes(name, architecture, depth):
  """The tower and the captioner together are transformers' Blip2ForConditionalGeneration
  of the released config at `depth` (counted on the meta device: nothing allocated)."""
  torch = pytest.importorskip('torch')
  transformers = pytest.importorskip('transformers')
  with _depth(architecture, depth) as released:
    hf = dict(released)
  del hf['model_type']
  if depth is not None:
    hf['vision_config'] = dict(hf['vision_config'], num_hidden_layers=depth)
  with torch.device('meta'):
    ref = transformers.Blip2ForConditionalGeneration(transformers.Blip2Config(**hf))
  want = sum(p.numel() for p in ref.parameters())
  text = hf['text_config']
  if text['model_type'] == 't5':  # transformers ties Flan-T5's head; the files hold their own
    want += text['vocab_size'] * text['d_model']
  model = _abstract_model(name, depth=depth)[1]
  assert _num_params(model.backbone) + _num_params(model.captioner) == want
  assert model.backbone.config.num_layers == (depth or 39)
  assert model.captioner.vocab_size == text['vocab_size']


@pytest.mark.parametrize('name, architecture', BLIP2_CONFIGS)
def test_blip2_configs_have_the_released_widths(name, architecture):
  _assert_blip2_sizes(name, architecture, BLIP2_TEST_DEPTH)


@pytest.mark.slow
@pytest.mark.parametrize('name, architecture', BLIP2_CONFIGS)
def test_blip2_configs_have_the_released_sizes(name, architecture):
  _assert_blip2_sizes(name, architecture, None)


@pytest.mark.parametrize('name', CONFIGS)
def test_french_with_accents_round_trips_through_every_captioner_tokenizer(name, tmp_path):
  config = importlib.import_module(name).get_config()
  if config.model.captioner == 'none':
    pytest.skip(f'{name} has no captioner')
  source = config.data.caption.tokenizer
  assert not source.startswith('hf:'), (
      f'{name} reads its caption tokenizer from the hub: check French offline with a copy')
  vocab = metadata.Vocabularies.build([('albrecht-durer', None), ('titian', None),
                                       ('edouard-manet', None)])
  tokenizer = tokenizer_lib.load_tokenizer(
      tokenizer_lib.tokenizer_source(config.data.caption, vocab, str(tmp_path)))
  reference = references.references('Realism', vocab.artist_names[1], 'still_life',
                                    artist_fr=vocab.artist_name(1, 'fr'))['fr'][0]
  assert reference == ("Style réaliste, œuvre d'Édouard Manet, représentant une nature morte "
                       'avec une observation fidèle de la vie ordinaire caractéristique du '
                       'mouvement.')
  for text in (reference, 'Première Renaissance, œuvre du Titien : « Nymphéas », Dürer, Ça.'):
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.decode(ids) == text
