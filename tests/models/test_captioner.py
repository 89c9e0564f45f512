"""Captioners on backbone tokens: equal to transformers' GIT / GPT-2 on loaded weights."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
import torch
import transformers
from flax import nnx

from wikiart_jax.core import STYLE_HEDGE
from wikiart_jax import factory
from wikiart_jax.models import captioner as cap

GIT_VISION = dict(hidden_size=24, num_hidden_layers=1, num_attention_heads=4,
                  intermediate_size=32, image_size=16, patch_size=8)
GIT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
           vocab_size=53, max_position_embeddings=32, bos_token_id=1, eos_token_id=2,
           pad_token_id=0)
GPT2 = dict(vocab_size=53, n_positions=48, n_embd=32, n_layer=2, n_head=4)


def _config(kind, init_from='', image_tokens='all', label_tokens=False):
  return ml_collections.ConfigDict(dict(
      captioner=kind, dtype='float32', layer_norm_eps=1e-6,
      caption_decoder=dict(init_from=init_from, hidden_size=32, num_layers=2, num_heads=4,
                           mlp_dim=64, max_positions=48, dropout=0.1,
                           image_tokens=image_tokens, label_tokens=label_tokens)))


def _ids(batch=2, length=6):
  ids = np.random.default_rng(0).integers(3, 53, (batch, length))
  ids[:, 0] = 1
  return ids


def test_git_captioner_equals_transformers_git(tmp_path):
  torch.manual_seed(0)
  ref = transformers.GitForCausalLM(transformers.GitConfig(vision_config=GIT_VISION, **GIT))
  ref.eval().save_pretrained(tmp_path)
  model = factory.build_captioner(_config('git', str(tmp_path)), 24, 53, rngs=nnx.Rngs(0))
  pixels = torch.tensor(np.random.default_rng(1).normal(size=(2, 3, 16, 16)), dtype=torch.float32)
  ids = _ids()
  with torch.no_grad():
    # The backbone's tokens stand for GIT's own image tower output.
    tokens = ref.git.image_encoder(pixels).last_hidden_state.numpy()
    want = ref(input_ids=torch.tensor(ids), pixel_values=pixels).logits.numpy()
  got = model(jnp.asarray(tokens), jnp.asarray(ids))
  assert got.shape == (2, 6, 53) and got.dtype == jnp.float32
  np.testing.assert_allclose(np.asarray(got), want[:, tokens.shape[1]:], atol=1e-4)


def test_prefix_captioner_equals_transformers_gpt2(tmp_path):
  torch.manual_seed(0)
  ref = transformers.GPT2LMHeadModel(transformers.GPT2Config(**GPT2)).eval()
  ref.save_pretrained(tmp_path)
  model = factory.build_captioner(_config('prefix', str(tmp_path)), 24, 53, rngs=nnx.Rngs(0))
  tokens = jax.random.normal(jax.random.key(0), (2, 5, 24))
  ids = _ids()
  prefix = np.asarray(model.prefix(tokens))
  with torch.no_grad():
    embeds = torch.cat([torch.tensor(prefix), ref.transformer.wte(torch.tensor(ids))], dim=1)
    want = ref(inputs_embeds=embeds).logits.numpy()[:, 5:]
  np.testing.assert_allclose(np.asarray(model(tokens, jnp.asarray(ids))), want, atol=1e-4)


@pytest.mark.parametrize('kind', ['git', 'prefix'])
def test_teacher_forcing_is_causal_and_trains_the_backbone(kind):
  model = cap.Captioner(_config(kind), 24, 41, rngs=nnx.Rngs(0))
  tokens = jax.random.normal(jax.random.key(1), (2, 5, 24))
  ids = jnp.asarray(_ids()) % 41
  logits = model(tokens, ids)
  changed = model(tokens, ids.at[:, 4].set(7))
  np.testing.assert_allclose(logits[:, :4], changed[:, :4], atol=1e-6)  # no peeking ahead
  assert not np.allclose(logits[:, 4], changed[:, 4])
  mask = jnp.ones_like(ids)
  # Jitted: one compile instead of every primitive of the backward pass compiled eagerly.
  grad = jax.jit(jax.grad(lambda t: cap.caption_loss(model(t, ids), ids, mask)[0]))(tokens)
  assert float(jnp.abs(grad).sum()) > 0
  # Dropout is on when not deterministic and reads its keys from the call.
  a = model(tokens, ids, deterministic=False, rngs=nnx.Rngs(dropout=1))
  b = model(tokens, ids, deterministic=False, rngs=nnx.Rngs(dropout=2))
  assert not np.allclose(a, b)


@pytest.mark.parametrize('kind,image_tokens', [('git', 'all'), ('prefix', 'all'),
                                                ('git', 'grid2'), ('prefix', 'cls')])
def test_cached_decoding_equals_teacher_forcing(kind, image_tokens):
  model = cap.Captioner(_config(kind, image_tokens=image_tokens), 24, 41, rngs=nnx.Rngs(0))
  tokens = model.condition(jax.random.normal(jax.random.key(1), (2, 17, 24)))  # CLS + 4x4
  assert tokens.shape[1] == {'all': 17, 'grid2': 5, 'cls': 1}[image_tokens]
  ids = jnp.asarray(_ids()) % 41
  # Jitted, as generation runs them: a compile each instead of eager primitives.
  full = jax.jit(model.__call__)(tokens, ids)
  cache = model.init_cache(2, tokens.shape[1], 8)
  prefill = jax.jit(lambda ids, cache, context: model.prefill(ids, cache, context=context))
  logits, cache = prefill(ids[:, :2], cache, tokens)
  assert logits.shape == (2, 1, 41)  # the prompt's last position: what decoding reads
  np.testing.assert_allclose(logits[:, 0], full[:, 1], atol=1e-5)
  decode_step = jax.jit(model.decode_step)
  for t in range(2, 6):
    logits, cache = decode_step(ids[:, t:t + 1], cache)
    np.testing.assert_allclose(logits[:, 0], full[:, t], atol=1e-5)


def test_selected_image_tokens_are_cls_and_pooled_grid():
  tokens = jax.random.normal(jax.random.key(0), (2, 1 + 16, 3))
  np.testing.assert_array_equal(cap.select_image_tokens(tokens, 'all'), tokens)
  np.testing.assert_array_equal(cap.select_image_tokens(tokens, 'cls'), tokens[:, :1])
  grid = np.asarray(tokens[:, 1:]).reshape(2, 4, 4, 3)
  # Top-left 2x2 window of the 4x4 grid, then the window to its right.
  want = [grid[:, :2, :2].mean((1, 2)), grid[:, :2, 2:].mean((1, 2))]
  got = cap.select_image_tokens(tokens, 'grid2')
  assert got.shape == (2, 5, 3)
  np.testing.assert_array_equal(got[:, 0], tokens[:, 0])
  np.testing.assert_allclose(got[:, 1], want[0], rtol=1e-6)
  np.testing.assert_allclose(got[:, 2], want[1], rtol=1e-6)
  np.testing.assert_array_equal(cap.select_image_tokens(tokens, 'grid4')[:, 1:], tokens[:, 1:])
  with pytest.raises(ValueError, match='multiple of 3'):
    cap.select_image_tokens(tokens, 'grid3')
  for bad in ('grid', 'grid0', 'mean', 'GRID2'):
    with pytest.raises(ValueError, match='image_tokens'):
      cap.Captioner(_config('git', image_tokens=bad), 24, 41, rngs=nnx.Rngs(0))


def test_top1_label_tokens_are_the_rows_of_the_first_choice():
  classes = {'style': 5, 'artist': 7, 'genre': 3}
  config = _config('git', image_tokens='cls', label_tokens=True)
  config.caption_decoder.label_tokens_top1 = True
  model = cap.Captioner(config, 24, 41, rngs=nnx.Rngs(0), label_classes=classes)
  tokens = jax.random.normal(jax.random.key(1), (2, 17, 24))
  logits = {t: jax.random.normal(jax.random.key(i), (2, n)) for i, (t, n) in
            enumerate(classes.items())}
  context = model.condition(tokens, logits)
  for k, task in enumerate(classes, start=1):
    table = np.asarray(model.label_tokens.tables[task][...])
    np.testing.assert_allclose(context[:, k], table[np.argmax(logits[task], -1)], rtol=1e-6)
  # Only the first choice counts: a sharper distribution with the same top-1 reads the same.
  sharper = model.condition(tokens, {t: 5 * l for t, l in logits.items()})
  np.testing.assert_allclose(sharper, context, rtol=1e-6)


def test_tag_and_period_tokens_hold_the_tags_above_the_threshold_and_the_period():
  classes = {'style': 5, 'artist': 7, 'genre': 3, 'tags': 6, 'period': 4}
  config = _config('git', image_tokens='cls', label_tokens=True)
  config.caption_decoder.label_tokens_top1 = True
  model = cap.Captioner(config, 24, 41, rngs=nnx.Rngs(0), label_classes=classes,
                        tag_threshold=0.3)
  tokens = jax.random.normal(jax.random.key(1), (2, 17, 24))
  logits = {t: jax.random.normal(jax.random.key(i), (2, n)) for i, (t, n) in
            enumerate(classes.items())}
  # Tag probabilities 0.9, 0.4, 0.2, 0.1, 0.35, 0.05: the first, second and fifth count.
  probs = np.array([[0.9, 0.4, 0.2, 0.1, 0.35, 0.05]] * 2)
  logits['tags'] = jnp.asarray(np.log(probs / (1 - probs)))
  context = model.condition(tokens, logits)
  assert context.shape == (2, 1 + 5, 24)
  tags = np.asarray(model.label_tokens.tables['tags'][...])
  np.testing.assert_allclose(context[:, 4], np.broadcast_to(tags[[0, 1, 4]].sum(0), (2, 24)),
                             rtol=1e-5)
  period = np.asarray(model.label_tokens.tables['period'][...])
  np.testing.assert_allclose(context[:, 5], period[np.argmax(logits['period'], -1)], rtol=1e-6)
  # Soft tokens: every tag weighted by its probability.
  config.caption_decoder.label_tokens_top1 = False
  soft = cap.Captioner(config, 24, 41, rngs=nnx.Rngs(0), label_classes=classes)
  np.testing.assert_allclose(soft.condition(tokens, logits)[:, 4],
                             probs @ np.asarray(soft.label_tokens.tables['tags'][...]), rtol=1e-5)


def _hedged_model(**decoder):
  classes = {'style': 5, 'artist': 7, 'genre': 3, 'tags': 6, 'period': 4}
  config = _config('git', image_tokens='cls', label_tokens=True)
  config.caption_decoder.label_tokens_top1 = True
  for key, value in decoder.items():
    config.caption_decoder[key] = value
  return cap.Captioner(config, 24, 41, rngs=nnx.Rngs(0), label_classes=classes,
                       tag_threshold=0.3), classes


def test_tag_slots_hold_each_named_tag_and_a_style_hedge_token_says_how_sure():
  model, classes = _hedged_model(tag_slots=2, hedge_style_sure=0.8, hedge_style_probable=0.5)
  tokens = jax.random.normal(jax.random.key(1), (3, 17, 24))
  logits = {t: jax.random.normal(jax.random.key(i), (3, n)) for i, (t, n) in
            enumerate(classes.items())}
  # Styles: sure (0.9), probable (0.6), two (0.45 then 0.4 for style 0).
  logits['style'] = jnp.log(jnp.array([[0.9, 0.04, 0.03, 0.02, 0.01],
                                       [0.6, 0.3, 0.05, 0.03, 0.02],
                                       [0.4, 0.05, 0.45, 0.05, 0.05]]))
  # Tags: 0.4 and 0.9 named (0.35 is third), in index order; none; three at 0.6: the two
  # lowest indices; 0.95 alone: named, then 'none'.
  probs = np.array([[0.4, 0.9, 0.2, 0.1, 0.35, 0.05], [0.1] * 6, [0, 0.6, 0, 0.6, 0.6, 0]])
  logits['tags'] = jnp.asarray(np.log(np.clip(probs, 1e-6, None) / (1 - probs)))
  context = model.condition(tokens, logits)
  assert model.label_tokens.num_tokens == 7
  assert context.shape == (3, 1 + 7, 24)  # CLS, style, artist, genre, 2 tag slots, period, hedge
  lt = model.label_tokens
  tags, none = np.asarray(lt.tables['tags'][...]), np.asarray(lt.tag_none[...])
  np.testing.assert_allclose(context[0, 4:6], tags[[0, 1]], rtol=1e-5)
  np.testing.assert_allclose(context[1, 4:6], [none, none], rtol=1e-5)
  np.testing.assert_allclose(context[2, 4:6], tags[[1, 3]], rtol=1e-5)
  alone = np.array([[0.1, 0.1, 0.1, 0.1, 0.95, 0.1]])
  one = model.condition(tokens[:1], {**{t: l[:1] for t, l in logits.items()},
                                     'tags': jnp.asarray(np.log(alone / (1 - alone)))})
  np.testing.assert_allclose(one[0, 4:6], [tags[4], none], rtol=1e-5)
  period = np.asarray(lt.tables['period'][...])
  np.testing.assert_allclose(context[:, 6], period[np.argmax(logits['period'], -1)], rtol=1e-6)
  np.testing.assert_array_equal(lt.hedge_of(logits['style']), [-1, -2, 0])
  levels, styles = np.asarray(lt.hedge_levels[...]), np.asarray(lt.tables['style'][...])
  np.testing.assert_allclose(context[:, 7], [levels[0], levels[1], levels[2] + styles[0]],
                             rtol=1e-5)
  # A training target's level overrides the head's.
  given = model.condition(tokens, {**logits, STYLE_HEDGE: jnp.array([3, -1, -2])})
  np.testing.assert_allclose(given[:, 7], [levels[2] + styles[3], levels[0], levels[1]],
                             rtol=1e-5)
  np.testing.assert_allclose(given[:, :7], context[:, :7], rtol=1e-6)


def test_tag_slots_and_hedging_need_one_hot_tokens_and_ordered_limits():
  model, _ = _hedged_model(hedge_style_sure=0.8, hedge_style_probable=0.5)
  config = _config('git', image_tokens='cls', label_tokens=True)
  assert not cap.has_style_hedge(config)
  config.caption_decoder.hedge_style_sure = 0.8
  assert cap.has_style_hedge(config) and model.label_tokens.style_hedge == (0.8, 0.5)
  config.captioner = 'blip2'
  assert not cap.has_style_hedge(config)
  with pytest.raises(ValueError, match='label_tokens_top1'):
    _hedged_model(label_tokens_top1=False, tag_slots=2)
  with pytest.raises(ValueError, match='hedge_style_probable <= hedge_style_sure'):
    _hedged_model(hedge_style_sure=0.5, hedge_style_probable=0.8)


def test_label_tokens_embed_the_heads_predictions_without_moving_them():
  classes = {'style': 5, 'artist': 7, 'genre': 3}
  model = cap.Captioner(_config('git', image_tokens='cls', label_tokens=True), 24, 41,
                        rngs=nnx.Rngs(0), label_classes=classes)
  tokens = jax.random.normal(jax.random.key(1), (2, 17, 24))
  logits = {t: jax.random.normal(jax.random.key(i), (2, n)) for i, (t, n) in
            enumerate(classes.items())}
  context = model.condition(tokens, {**logits, 'style_family': jnp.zeros((2, 2))})
  assert context.shape == (2, 1 + 3, 24)
  np.testing.assert_array_equal(context[:, 0], tokens[:, 0])
  table = np.asarray(model.label_tokens.tables['artist'][...])
  np.testing.assert_allclose(context[:, 2], jax.nn.softmax(logits['artist']) @ table, rtol=1e-5)
  ids = jnp.asarray(_ids()) % 41

  graphdef, params = nnx.split(model)

  def loss(logits, params):
    merged = nnx.merge(graphdef, params)
    return cap.caption_loss(merged(merged.condition(tokens, logits), ids), ids,
                            jnp.ones_like(ids))[0]
  to_logits, to_params = jax.jit(jax.grad(loss, argnums=(0, 1)))(logits, params)
  to_tables = to_params['label_tokens']
  assert all(float(jnp.abs(g).sum()) == 0 for g in jax.tree.leaves(to_logits))
  assert all(float(jnp.abs(g).sum()) > 0 for g in jax.tree.leaves(to_tables))
  # A different prediction changes the description's logits.
  other = model(model.condition(tokens, {**logits, 'style': -logits['style']}), ids)
  assert not np.allclose(other, model(context, ids))
  with pytest.raises(ValueError, match='logits'):
    model.condition(tokens)
  with pytest.raises(ValueError, match=r"\['genre'\]"):
    model.condition(tokens, {'style': logits['style'], 'artist': logits['artist']})


def test_caption_loss_equals_torch_cross_entropy():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(3, 7, 11)).astype(np.float32)
  tokens = rng.integers(0, 11, (3, 7))
  mask = np.ones((3, 7), np.int32)
  mask[0, 5:] = 0
  mask[2, :2] = 0  # a prompt: not predicted
  total, count = cap.caption_loss(jnp.asarray(logits, jnp.bfloat16).astype(jnp.float32),
                                  jnp.asarray(tokens), jnp.asarray(mask))
  targets = torch.tensor(np.where(mask[:, 1:] == 1, tokens[:, 1:], -100))
  want = torch.nn.functional.cross_entropy(
      torch.tensor(np.asarray(jnp.asarray(logits, jnp.bfloat16).astype(jnp.float32)))[:, :-1]
      .reshape(-1, 11), targets.reshape(-1), ignore_index=-100, reduction='sum')
  assert int(count) == mask[:, 1:].sum()
  np.testing.assert_allclose(float(total), want.item(), rtol=1e-5)
  with pytest.raises(ValueError, match='shapes disagree'):
    cap.caption_loss(jnp.asarray(logits), jnp.asarray(tokens[:, :3]), jnp.asarray(mask))


def test_build_and_config_errors(tmp_path):
  assert factory.build_captioner(_config('none'), 24, 41, rngs=nnx.Rngs(0)) is None
  with pytest.raises(ValueError, match="captioner must be one of"):
    factory.build_captioner(_config('lstm'), 24, 41, rngs=nnx.Rngs(0))
  torch.manual_seed(0)
  transformers.GPT2LMHeadModel(transformers.GPT2Config(**GPT2)).save_pretrained(tmp_path)
  for kind, text in (('git', 49), ('prefix', 44)):  # GPT-2's prefix takes 5 positions
    model = cap.Captioner(_config(kind), 24, 41, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match='has 48 positions but needs 49'):
      model(jnp.zeros((1, 5, 24)), jnp.zeros((1, text), jnp.int32))
    with pytest.raises(ValueError, match='raise model.caption_decoder.max_positions'):
      model.init_cache(1, 5, text)
  with pytest.raises(ValueError, match='tokenizer has 41 tokens but .* expects 53'):
    factory.build_captioner(_config('prefix', str(tmp_path)), 24, 41, rngs=nnx.Rngs(0))


def test_overfits_one_caption_then_generates_it(tmp_path):
  """The whole chain: labels -> target tokens -> loss -> training -> cached generation -> text."""
  import optax  # pylint: disable=g-import-not-at-top
  from wikiart_jax.inference import generate as gen  # pylint: disable=g-import-not-at-top
  from wikiart_jax.data import caption_targets, metadata  # pylint: disable=g-import-not-at-top
  from wikiart_jax.text import references  # pylint: disable=g-import-not-at-top
  from wikiart_jax.text import tokenizer as tok_lib  # pylint: disable=g-import-not-at-top
  vocab = metadata.Vocabularies.build([('claude-monet', 'Claude Monet')])
  tok = tok_lib.build_bpe_tokenizer(str(tmp_path), tok_lib.training_texts(vocab),
                                     vocab_size=2000)
  example = {'style': np.int32(vocab.style.index('Impressionism')), 'artist': np.int32(0),
             'genre': np.int32(vocab.genre.index('landscape')), 'year': np.int32(-1),
             'title': b'Nymphes'}
  out = caption_targets.CaptionTransform(vocab, tok, max_len=40, languages=['fr']).random_map(
      example, np.random.default_rng(0))
  ids, mask = jnp.asarray(out['caption_tokens'])[None], jnp.asarray(out['caption_mask'])[None]
  model = cap.Captioner(_config('git'), 16, len(tok), rngs=nnx.Rngs(0))
  image = jax.random.normal(jax.random.key(0), (1, 3, 16))
  opt = nnx.Optimizer(model, optax.adam(3e-3), wrt=nnx.Param)

  @nnx.jit
  def step(model, opt):
    def loss(m):
      total, count = cap.caption_loss(m(image, ids), ids, mask)
      return total / count
    value, grads = nnx.value_and_grad(loss)(model)
    opt.update(model, grads)
    return value

  for _ in range(150):
    value = step(model, opt)
  assert float(value) < 0.05
  special = tok_lib.special_ids(tok)
  generated = gen.generate(model, np.array([tok_lib.prompt_ids(tok, 'fr')]), context=image,
                           max_new_tokens=40, eos_id=special.eos, pad_id=special.pad)
  want = tok.decode(out['caption_tokens'][out['caption_mask'] == 1][:-1].tolist()).strip()
  assert gen.decode_texts(generated, tok, special.eos) == [want]
  assert want in references.references('Impressionism', 'Claude Monet', 'landscape')['fr']
