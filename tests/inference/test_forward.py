"""The one forward pass: every head's probabilities and, with a captioner, its context."""

import demo
import jax
import jax.numpy as jnp
import numpy as np

from wikiart_jax import factory
from wikiart_jax.data import metadata
from wikiart_jax.inference import forward
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import sharding

VOCAB = metadata.Vocabularies.build([(f'artist-{i}', None) for i in range(5)])
VOCAB.tags = ['sea', 'boat', 'flowers']


def _parts(captioner: bool, hierarchical: bool = False):
  config = demo.get_config('tiny_caption' if captioner else 'tiny')
  config.model.num_layers = 1
  config.data.image_size = 16
  config.model.hierarchical_style = hierarchical
  return config, parts_lib.split(factory.build_model(config, VOCAB, caption_vocab_size=31))


def _images(n):
  return np.random.default_rng(n).normal(size=(n, 16, 16, 3)).astype(np.float32)


def test_probabilities_of_every_head_and_no_context_without_a_captioner():
  _, parts = _parts(captioner=False, hierarchical=True)
  out = forward.make_step(parts)(parts.params, {'image': jnp.asarray(_images(3))})
  assert isinstance(out, forward.Prediction) and out.context is None
  assert set(out.probs) == {'style', 'artist', 'genre', 'style_family'}
  assert out.probs['artist'].shape == (3, 5)
  for probs in out.probs.values():
    np.testing.assert_allclose(np.asarray(probs).sum(-1), 1.0, rtol=1e-5)


def test_tags_are_sigmoids_and_the_period_a_softmax_of_the_same_pass():
  _, parts = _parts(captioner=False)
  images = jnp.asarray(_images(2))
  # Noise in the heads (they start at the prior / uniform, which would hide a mix-up).
  params = jax.tree.map(lambda x: x + 0.3 * jax.random.normal(jax.random.key(1), x.shape),
                        parts.params)
  out = forward.make_step(parts)(params, {'image': images})
  outputs, _ = parts.merge(params)(images)
  assert 'tags' not in out.probs and 'period' not in out.probs
  np.testing.assert_allclose(out.tags, jax.nn.sigmoid(outputs['tags']), atol=1e-6)
  np.testing.assert_allclose(out.period, jax.nn.softmax(outputs['period']), atol=1e-6)
  assert out.tags.shape == (2, 3) and out.period.shape == (2, 25)
  host = forward.make_forward(parts.with_params(params), sharding.make_mesh())(_images(2))
  np.testing.assert_allclose(host.tags, out.tags, atol=1e-6)


def test_context_is_the_captioners_condition_of_the_same_pass():
  _, parts = _parts(captioner=True)
  images = jnp.asarray(_images(2))
  out = forward.make_step(parts)(parts.params, {'image': images})
  model = parts.merge()
  outputs, aux = model(images)
  # CLS, one token per class head, the demo's two tag slots, the period token and the
  # style-hedge token.
  want = model.captioner.condition(aux['tokens'], outputs)
  assert out.context.shape == want.shape == (2, 1 + 3 + 2 + 1 + 1, 64)
  np.testing.assert_allclose(out.context, want, atol=1e-5)
  np.testing.assert_allclose(out.probs['style'], jax.nn.softmax(outputs['style']), atol=1e-6)


def test_host_forward_takes_any_batch_size():
  _, parts = _parts(captioner=True)
  run = forward.make_forward(parts, sharding.make_mesh())
  images = _images(5)
  whole = run(images)
  assert whole.probs['style'].shape == (5, 27) and isinstance(whole.probs['style'], np.ndarray)
  assert whole.context.shape[0] == 5
  one = run(images[2:3])
  np.testing.assert_allclose(one.probs['genre'], whole.probs['genre'][2:3], atol=1e-6)
  padded = forward.pad_to_devices(images)
  assert len(padded) % jax.device_count() == 0 and len(padded) >= 5
