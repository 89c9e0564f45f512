"""ArtClassifier and its heads: outputs, parameter paths, the hierarchical style head."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import common  # configs/common.py
from wikiart_jax.models import classifier as classifier_lib
from wikiart_jax.models import heads as heads_lib

NUM_CLASSES = {'style': 27, 'artist': 11, 'genre': 10}
# The 27 styles in an order unrelated to the families, as a vocabulary would be.
STYLE_NAMES = sorted(s for members in common.STYLE_FAMILIES.values() for s in members)


def _model_config(**overrides):
  model = common.get_config().model
  model.variant = 'tiny'
  model.image_size = 16
  model.num_layers = 1
  model.dtype = 'float32'
  for key, value in overrides.items():
    model[key] = value
  return model


def _images(batch=3, seed=0):
  return jax.random.normal(jax.random.key(seed), (batch, 16, 16, 3))


def _randomize(module, seed=0, scale=0.5):
  """Replaces every parameter with noise (heads start at zero, which hides mistakes)."""
  state = nnx.state(module, nnx.Param)
  leaves, treedef = jax.tree.flatten(state)
  keys = jax.random.split(jax.random.key(seed), len(leaves))
  noisy = [scale * jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)]
  nnx.update(module, jax.tree.unflatten(treedef, noisy))


def test_outputs_and_aux_shapes():
  model = classifier_lib.ArtClassifier(_model_config(), NUM_CLASSES, rngs=nnx.Rngs(0))
  outputs, aux = model(_images())
  assert {k: v.shape for k, v in outputs.items()} == {
      'style': (3, 27), 'artist': (3, 11), 'genre': (3, 10)}
  assert all(v.dtype == jnp.float32 for v in outputs.values())
  assert aux['pooled'].shape == (3, 64) and aux['tokens'].shape == (3, 17, 64)
  assert isinstance(model.backbone.config.hidden_size, int)
  assert model.style_to_family is None


def test_tag_and_period_heads():
  model = classifier_lib.ArtClassifier(_model_config(), NUM_CLASSES, num_tags=7, period_bins=25,
                                       rngs=nnx.Rngs(0))
  outputs, _ = model(_images())
  assert outputs['tags'].shape == (3, 7) and outputs['period'].shape == (3, 25)
  assert outputs['tags'].dtype == jnp.float32
  # The tag head starts every tag at the prior, the period at the uniform distribution.
  np.testing.assert_allclose(jax.nn.sigmoid(outputs['tags']), classifier_lib.TAG_PRIOR, rtol=1e-5)
  np.testing.assert_allclose(outputs['period'], 0.0)
  for reserved in ('tags', 'period', 'style_family'):
    with pytest.raises(ValueError, match='its own head'):
      classifier_lib.ArtClassifier(_model_config(), {**NUM_CLASSES, reserved: 3},
                                   rngs=nnx.Rngs(0))


def test_bf16_backbone_gives_f32_logits_and_params():
  model = classifier_lib.ArtClassifier(_model_config(dtype='bfloat16'), NUM_CLASSES,
                                       rngs=nnx.Rngs(0))
  outputs, aux = model(_images())
  assert aux['tokens'].dtype == jnp.bfloat16
  assert all(v.dtype == jnp.float32 for v in outputs.values())
  assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(nnx.state(model, nnx.Param)))


def test_parameter_paths_split_backbone_and_heads():
  model = classifier_lib.ArtClassifier(_model_config(head_hidden=8), NUM_CLASSES,
                                       rngs=nnx.Rngs(0))
  paths = {'/'.join(map(str, p)) for p, _ in nnx.to_flat_state(nnx.state(model, nnx.Param))}
  assert 'backbone/embeddings/cls_token' in paths
  assert 'backbone/layers/0/attention/query/kernel' in paths
  for task in NUM_CLASSES:
    assert {f'heads/{task}/hidden/kernel', f'heads/{task}/output/kernel'} <= paths
  assert all(p.startswith(('backbone/', 'heads/')) for p in paths)


def test_head_dropout_and_extras():
  model = classifier_lib.ArtClassifier(_model_config(head_hidden=8, head_dropout=0.5),
                                       NUM_CLASSES, rngs=nnx.Rngs(0))
  _randomize(model.heads)
  images = _images()
  eval_out, aux = model(images, return_hidden_states=True, return_attention=True)
  assert len(aux['hidden_states']) == 2 and aux['attention'][0].shape == (3, 4, 17, 17)
  a, _ = model(images, deterministic=False, rngs=jax.random.key(1))
  b, _ = model(images, deterministic=False, rngs=jax.random.key(2))
  assert not np.allclose(a['artist'], b['artist'])
  assert not np.allclose(a['artist'], eval_out['artist'])
  with pytest.raises(ValueError, match='needs rngs'):
    model(images, deterministic=False)


# --- hierarchical style head ---------------------------------------------------------

def _numpy_hierarchical(style_logits, family_logits, style_to_family):
  """log P(family) + log P(style | family), written out with loops in float64."""
  style_logits = np.asarray(style_logits, np.float64)
  family_logits = np.asarray(family_logits, np.float64)
  out = np.zeros_like(style_logits)
  for b in range(style_logits.shape[0]):
    p_family = np.exp(family_logits[b]) / np.exp(family_logits[b]).sum()
    for s, f in enumerate(style_to_family):
      members = [i for i, g in enumerate(style_to_family) if g == f]
      p_cond = np.exp(style_logits[b, s]) / np.exp(style_logits[b, members]).sum()
      out[b, s] = np.log(p_family[f] * p_cond)
  return out


def test_family_index_maps_the_vocabulary_order():
  families, style_to_family = heads_lib.style_family_index(
      STYLE_NAMES, common.STYLE_FAMILIES)
  assert families == list(common.STYLE_FAMILIES)
  for name, f in zip(STYLE_NAMES, style_to_family):
    assert name in common.STYLE_FAMILIES[families[f]]


@pytest.mark.parametrize('families, match', [
    ({'a': ['x', 'y'], 'b': ['z', 'nope']}, "'nope' of family 'b' is not in"),
    ({'a': ['x', 'y'], 'b': ['y', 'z']}, "'y' is in two families"),
    ({'a': ['x', 'y']}, r"in no family.*\['z'\]"),
    ({'a': ['x', 'y', 'z'], 'b': []}, "'b' has no style"),
])
def test_family_index_errors(families, match):
  with pytest.raises(ValueError, match=match):
    heads_lib.style_family_index(['x', 'y', 'z'], families)


def test_hierarchical_style_log_probs():
  model = classifier_lib.ArtClassifier(
      _model_config(hierarchical_style=True), NUM_CLASSES, style_names=STYLE_NAMES,
      rngs=nnx.Rngs(0))
  _randomize(model.heads)
  outputs, aux = model(_images())
  assert outputs['style'].shape == (3, 27)
  assert outputs['style_family'].shape == (3, len(common.STYLE_FAMILIES))
  np.testing.assert_allclose(np.exp(np.asarray(outputs['style'])).sum(-1), 1.0, rtol=1e-5)

  head = model.heads['style']
  pooled = aux['pooled']
  np.testing.assert_allclose(np.asarray(outputs['style_family']),
                             np.asarray(head.family(pooled)), rtol=1e-6)
  expected = _numpy_hierarchical(head.style(pooled), head.family(pooled),
                                 model.style_to_family)
  np.testing.assert_allclose(np.asarray(outputs['style']), expected, atol=1e-5)


def test_hierarchical_gradients_are_finite():
  head = heads_lib.HierarchicalStyleHead(8, STYLE_NAMES, common.STYLE_FAMILIES,
                                         rngs=nnx.Rngs(0))
  _randomize(head, scale=30.0)  # saturated softmaxes
  x = jax.random.normal(jax.random.key(1), (4, 8))
  grads = nnx.grad(lambda h: h(x)[0][:, 3].sum())(head)
  assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))


def test_hierarchical_needs_style_names():
  with pytest.raises(ValueError, match='style_names'):
    classifier_lib.ArtClassifier(_model_config(hierarchical_style=True), NUM_CLASSES,
                                 rngs=nnx.Rngs(0))
  with pytest.raises(ValueError, match='style_names'):
    classifier_lib.ArtClassifier(_model_config(hierarchical_style=True), NUM_CLASSES,
                                 style_names=STYLE_NAMES[:5], rngs=nnx.Rngs(0))


def test_pooled_tag_head_is_a_log_sum_exp_over_the_tokens():
  head = heads_lib.PooledTagHead(8, 3, bias_init=-1.0, sharpness=5.0, rngs=nnx.Rngs(0))
  _randomize(head.scores)
  tokens = jax.random.normal(jax.random.key(2), (2, 6, 8))
  scores = np.asarray(head.scores(tokens), np.float64)  # [2, 6, 3]
  want = np.log(np.mean(np.exp(5.0 * scores), axis=1)) / 5.0 - 1.0
  np.testing.assert_allclose(head(tokens), want, rtol=1e-5, atol=1e-6)
  # One token that sees a tag strongly raises it, as a maximum would.
  tokens = jnp.zeros((1, 6, 8)).at[0, 3].set(10.0 * head.scores.output.kernel[...][:, 0])
  logits = head(tokens)
  assert logits[0, 0] > logits[0, 1] + 1.0
