"""The jitted train step: frozen parameters never move, the caption loss joins the sum."""

import demo
import jax
import jax.numpy as jnp
import numpy as np
import optax

from wikiart_jax.core import CAPTION_ARTIST, CAPTION_TAGS, STYLE_HEDGE
from wikiart_jax import factory
from wikiart_jax.data import metadata
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.train import losses
from wikiart_jax.train import optimizer
from wikiart_jax.train import stages
from wikiart_jax.train import state as state_lib
from wikiart_jax.train import step as step_lib

VOCAB = metadata.Vocabularies.build([(f'artist-{i}', None) for i in range(5)])


def _setup(captioner=False):
  config = demo.get_config('tiny_caption' if captioner else 'tiny')
  config.model.num_layers = 2
  config.data.image_size = 16
  config.train.warmup_steps = 0
  parts = parts_lib.split(factory.build_model(config, VOCAB, caption_vocab_size=23))
  return config, parts


def _batch(config, n=8, caption=False):
  rng = np.random.default_rng(0)
  batch = {'image': rng.normal(size=(n, 16, 16, 3)).astype(np.float32),
           'style': rng.integers(0, 27, n).astype(np.int32),
           'artist': rng.integers(-1, 5, n).astype(np.int32),
           'genre': rng.integers(-1, 10, n).astype(np.int32),
           'year': np.full(n, 1900, np.int32),
           'period': rng.integers(-1, 25, n).astype(np.int32)}
  if caption:
    batch['caption_tokens'] = rng.integers(0, 23, (n, 9)).astype(np.int32)
    mask = np.ones((n, 9), np.int32)
    mask[:, :2] = 0  # BOS and the language tag are not predicted
    batch['caption_mask'] = mask
  return jax.tree.map(jnp.asarray, batch)


def test_frozen_parameters_do_not_move_and_the_rest_does():
  config, parts = _setup()
  stage = stages.Stage(0, 10, 1)  # the heads and the last block
  tx = optimizer.make_optimizer(config.train, parts.params, stage, num_layers=2)
  labels = stages.labels(parts.params, stage, 2)
  step = step_lib.make_train_step(parts, tx, config.train, optimizer.make_schedule(config.train),
                                  dropout_key=jax.random.key(0),
                                  trainable=stages.trainable_mask(labels))
  before = jax.tree.map(np.array, parts.params)
  state = state_lib.create(parts.params, tx)
  for _ in range(2):
    state, metrics = step(state, _batch(config))
  assert int(state.step) == 2
  flat = lambda tree: {stages.path_name(p): v
                       for p, v in jax.tree_util.tree_flatten_with_path(tree)[0]}
  moved = {name: not np.array_equal(old, np.asarray(flat(state.params)[name]))
           for name, old in flat(before).items()}
  for name, label in flat(labels).items():
    assert moved[name] == (label != stages.FROZEN), name
  assert np.isfinite(float(metrics.compute()['loss']))


def test_the_loss_is_the_weighted_sum_of_the_tasks_and_the_caption():
  config, parts = _setup(captioner=True)
  batch = _batch(config, caption=True)
  tx = optax.sgd(0.0)  # a step that changes nothing: only the reported figures matter
  step = step_lib.make_train_step(parts, tx, config.train, optimizer.make_schedule(config.train),
                                  dropout_key=jax.random.key(0))
  params = jax.tree.map(jnp.copy, parts.params)  # the step donates its state
  _, metrics = step(state_lib.create(params, tx), batch)
  got = {k: float(v) for k, v in metrics.compute().items()}
  model = parts.merge()
  outputs, aux = model(batch['image'], deterministic=False,
                       rngs=jax.random.fold_in(jax.random.key(0), 0))
  classes, per_task = losses.multitask_loss(outputs, batch, config.train)
  for task in ('style', 'artist', 'genre'):
    np.testing.assert_allclose(got[f'{task}_loss'], per_task[task], rtol=1e-5)
  total = classes + config.train.lambda_caption * got['caption_loss']
  np.testing.assert_allclose(got['loss'], total, rtol=1e-5)
  assert got['caption_loss'] > 0 and got['grad_norm'] > 0


def test_the_captioners_tag_and_period_tokens_read_the_labels_in_training():
  outputs = {'style': jnp.zeros((3, 4)), 'tags': jnp.zeros((3, 3)),
             'period': jnp.arange(75, dtype=jnp.float32).reshape(3, 25)}
  batch = {'tags': jnp.array([[1.0, 0.0, 1.0], [0.6, 0.4, 1.0], [1.0, 1.0, 1.0]]),
           'tags_mask': jnp.array([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
           'period': jnp.array([3, -1, 24])}
  out = step_lib.content_from_labels(outputs, batch)
  # Present where the label is known and >= 0.5; an unknown target is absent.
  np.testing.assert_array_equal(jax.nn.sigmoid(out['tags']) > 0.5,
                                [[1, 0, 1], [1, 0, 0], [0, 0, 0]])
  # The label's bin; an unknown year keeps the head's own distribution.
  assert int(jnp.argmax(out['period'][0])) == 3 and int(jnp.argmax(out['period'][2])) == 24
  np.testing.assert_array_equal(out['period'][1], outputs['period'][1])
  assert out['style'] is outputs['style']
  assert set(step_lib.content_from_labels({'style': outputs['style']}, batch)) == {'style'}
  # A target that left tags out (data.caption.tag_drop): the tokens hold the kept ones.
  kept = {**batch, CAPTION_TAGS: jnp.array([[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])}
  np.testing.assert_array_equal(jax.nn.sigmoid(step_lib.content_from_labels(outputs, kept)['tags'])
                                > 0.5, [[0, 0, 1], [1, 0, 0], [0, 0, 0]])


def test_with_one_hot_label_tokens_the_class_tokens_read_the_labels_too():
  outputs = {'style': jnp.arange(12, dtype=jnp.float32).reshape(3, 4),
             'artist': jnp.zeros((3, 5))}
  batch = {'style': jnp.array([1, -1, 0]), 'artist': jnp.array([4, 2, -1])}
  out = step_lib.content_from_labels(outputs, batch, classes=True)
  np.testing.assert_array_equal(np.argmax(np.asarray(out['style']), -1)[[0, 2]], [1, 0])
  np.testing.assert_array_equal(out['style'][1], outputs['style'][1])  # unknown: the head's
  np.testing.assert_array_equal(np.argmax(np.asarray(out['artist']), -1)[:2], [4, 2])
  np.testing.assert_array_equal(out['artist'][2], outputs['artist'][2])
  # A target naming another artist (data.caption.artist_swap): its token holds that one.
  swapped = step_lib.content_from_labels(outputs, {**batch, CAPTION_ARTIST: jnp.array([1, 3, -1])},
                                         classes=True)
  np.testing.assert_array_equal(np.argmax(np.asarray(swapped['artist']), -1)[:2], [1, 3])
  np.testing.assert_array_equal(swapped['style'], out['style'])
  # Soft label tokens (the default) keep the heads' own distributions.
  assert step_lib.content_from_labels(outputs, batch)['style'] is outputs['style']
  # The targets' style-hedge levels reach the style-hedge token (one-hot tokens only).
  hedged = {**batch, STYLE_HEDGE: jnp.array([-1, -2, 3])}
  np.testing.assert_array_equal(
      step_lib.content_from_labels(outputs, hedged, classes=True)[STYLE_HEDGE], [-1, -2, 3])
  assert STYLE_HEDGE not in step_lib.content_from_labels(outputs, hedged)
