"""ViT backbone: configs, shapes, precision, dropout, and equality with transformers."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import common  # configs/common.py (conftest puts configs/ on the path)
from wikiart_jax.models import vit as vit_lib

torch = pytest.importorskip('torch')
transformers = pytest.importorskip('transformers')

TINY = dict(image_size=32, num_layers=2)


def _images(batch=2, size=32, seed=0):
  return jax.random.normal(jax.random.key(seed), (batch, size, size, 3), jnp.float32)


def _model(dtype='float32', seed=0, **overrides):
  cfg = vit_lib.ViTConfig.from_variant('tiny', **{**TINY, 'dtype': dtype, **overrides})
  return vit_lib.ViT(cfg, rngs=nnx.Rngs(seed))


# --- configs -------------------------------------------------------------------------

@pytest.mark.parametrize('variant, sizes', [
    ('tiny', (4, 64, 4, 4, 128)),
    ('Ti/16', (16, 192, 12, 3, 768)),
    ('S/16', (16, 384, 12, 6, 1536)),
    ('B/16', (16, 768, 12, 12, 3072)),
    ('L/14', (14, 1024, 24, 16, 4096)),
    ('L/16', (16, 1024, 24, 16, 4096)),
])
def test_variants_resolve_from_the_experiment_config(variant, sizes):
  model_config = common.get_config().model
  model_config.variant = variant
  if variant == 'L/14':
    model_config.image_size = 224  # a multiple of 14
  cfg = vit_lib.ViTConfig.from_config(model_config)
  assert (cfg.patch_size, cfg.hidden_size, cfg.num_layers, cfg.num_heads,
          cfg.mlp_dim) == sizes
  assert cfg.dtype == model_config.dtype and cfg.layer_norm_eps == model_config.layer_norm_eps


def test_explicit_sizes_override_the_variant():
  model_config = common.get_config().model
  model_config.variant = 'B/16'
  model_config.num_layers = 3
  model_config.hidden_size = 96
  cfg = vit_lib.ViTConfig.from_config(model_config)
  assert (cfg.patch_size, cfg.hidden_size, cfg.num_layers, cfg.num_heads) == (16, 96, 3, 12)


@pytest.mark.parametrize('variant, overrides, match', [
    ('X/16', {}, 'unknown model.variant'),
    ('B', {}, 'unknown model.variant'),
    ('tiny', {'activation': 'relu'}, 'model.activation'),
    ('tiny', {'final_norm': 'mean'}, 'model.final_norm'),
    ('tiny', {'pooler': 'map'}, 'model.pooler'),
    ('tiny', {'hidden_size': 66}, 'divisible by model.num_heads'),
    ('tiny', {'image_size': 30}, 'divisible by model.patch_size'),
    ('tiny', {'dtype': 'float33'}, 'model.dtype is not a dtype'),
])
def test_bad_configs_give_one_line_errors(variant, overrides, match):
  with pytest.raises(ValueError, match=match):
    vit_lib.ViTConfig.from_variant(variant, **overrides)


def test_wrong_image_size_is_an_error():
  with pytest.raises(ValueError, match=r'\[B,32,32,3\]'):
    _model()(_images(size=48))


# --- shapes and precision ------------------------------------------------------------

@pytest.mark.parametrize('image_size, patch_size, pooler, final_norm', [
    (32, 4, 'none', 'all'), (16, 4, 'tanh', 'all'), (24, 8, 'none', 'cls')])
def test_tiny_output_shapes(image_size, patch_size, pooler, final_norm):
  model = _model(image_size=image_size, patch_size=patch_size, pooler=pooler,
                 final_norm=final_norm, num_layers=1)
  out = model(_images(3, image_size))
  pooled, tokens = out.pooled, out.tokens
  n = (image_size // patch_size) ** 2 + 1
  assert pooled.shape == (3, 64) and tokens.shape == (3, n, 64)
  assert model.config.num_tokens == n


def test_b16_shapes_and_parameter_count_match_transformers():
  cfg = vit_lib.ViTConfig.from_variant('B/16', pooler='tanh', dtype='bfloat16')
  abstract = nnx.eval_shape(lambda: vit_lib.ViT(cfg, rngs=nnx.Rngs(0)))
  graphdef, state = nnx.split(abstract)
  ours = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(state))
  with torch.device('meta'):
    hf = transformers.ViTModel(transformers.ViTConfig(), add_pooling_layer=True)
  assert ours == sum(p.numel() for p in hf.parameters())

  images = jax.ShapeDtypeStruct((2, 224, 224, 3), jnp.float32)
  out = jax.eval_shape(lambda s, x: nnx.merge(graphdef, s)(x), state, images)
  pooled, tokens = out.pooled, out.tokens
  assert pooled.shape == (2, 768) and tokens.shape == (2, 197, 768)
  assert tokens.dtype == jnp.bfloat16


def test_bf16_compute_keeps_f32_params_and_tracks_f32():
  f32 = _model('float32')
  bf16 = _model('bfloat16', seed=1)
  nnx.update(bf16, nnx.state(f32, nnx.Param))
  params = jax.tree.leaves(nnx.state(bf16, nnx.Param))
  assert params and all(p.dtype == jnp.float32 for p in params)
  images = _images()
  t32 = f32(images).tokens
  out16 = bf16(images)
  p16, t16 = out16.pooled, out16.tokens
  assert p16.dtype == t16.dtype == jnp.bfloat16
  np.testing.assert_allclose(np.asarray(t16, np.float32), np.asarray(t32), atol=0.1, rtol=0.05)
  assert not np.allclose(np.asarray(t16, np.float32), np.asarray(t32), atol=1e-6)


def test_hidden_states_and_attention_extras():
  model = _model(num_layers=3)
  plain = model(_images())
  assert plain.hidden_states is None and plain.attention is None
  out = model(_images(), return_hidden_states=True, return_attention=True)
  hidden, attention = out.hidden_states, out.attention
  assert len(hidden) == 4 and all(h.shape == (2, 65, 64) for h in hidden)
  assert len(attention) == 3 and all(a.shape == (2, 4, 65, 65) for a in attention)
  assert all(a.dtype == jnp.float32 for a in attention)
  np.testing.assert_allclose(np.asarray(attention[0]).sum(-1), 1.0, rtol=1e-5)
  # The weights path and the fused path compute the same function.
  np.testing.assert_allclose(np.asarray(out.tokens), np.asarray(plain.tokens), atol=1e-5)
  np.testing.assert_allclose(np.asarray(out.pooled), np.asarray(plain.pooled), atol=1e-5)
  only_hidden = model(_images(), return_hidden_states=True)
  assert only_hidden.attention is None and len(only_hidden.hidden_states) == 4


# --- dropout -------------------------------------------------------------------------

def test_dropout_only_when_not_deterministic():
  model = _model(dropout=0.2)
  images = _images()
  eval_tokens = model(images).tokens
  eval_again = model(images, deterministic=True, rngs=jax.random.key(3)).tokens
  np.testing.assert_array_equal(eval_tokens, eval_again)
  a = model(images, deterministic=False, rngs=jax.random.key(1)).tokens
  a_again = model(images, deterministic=False, rngs=nnx.Rngs(dropout=jax.random.key(1))).tokens
  b = model(images, deterministic=False, rngs=jax.random.key(2)).tokens
  np.testing.assert_array_equal(a, a_again)
  assert not np.allclose(a, b) and not np.allclose(a, eval_tokens)
  with pytest.raises(ValueError, match='needs rngs'):
    model(images, deterministic=False)


def test_no_dropout_rate_means_no_randomness():
  model = _model(dropout=0.0)
  a = model(_images(), deterministic=False).tokens
  b = model(_images()).tokens
  np.testing.assert_array_equal(a, b)


def test_modules_hold_no_rng_state():
  model = _model(dropout=0.1)
  assert not jax.tree.leaves(nnx.state(model, nnx.RngState))


# --- equality with transformers ------------------------------------------------------

_VIT_RULES = [
    (r'^embeddings/patch_embeddings/', 'embeddings/patch_embeddings/projection/'),
    (r'/attention/query/', '/attention/q_proj/'), (r'/attention/key/', '/attention/k_proj/'),
    (r'/attention/value/', '/attention/v_proj/'), (r'/attention/output/', '/attention/o_proj/'),
    (r'^pooler/', 'pooler/dense/'),
]
_CLIP_RULES = [
    (r'^embeddings/cls_token$', 'embeddings/class_embedding'),
    (r'^embeddings/position_embeddings$', 'embeddings/position_embedding/weight'),
    (r'^embeddings/patch_embeddings/', 'embeddings/patch_embedding/'),
    (r'^pre_layernorm/', 'pre_layrnorm/'), (r'^layernorm/', 'post_layernorm/'),
    (r'^layers/', 'encoder/layers/'), (r'/layernorm_before/', '/layer_norm1/'),
    (r'/layernorm_after/', '/layer_norm2/'), (r'/attention/query/', '/self_attn/q_proj/'),
    (r'/attention/key/', '/self_attn/k_proj/'), (r'/attention/value/', '/self_attn/v_proj/'),
    (r'/attention/output/', '/self_attn/out_proj/'),
]


def _load_torch_weights(model, torch_model, rules):
  """Copies a transformers state dict into `model` by rename + transpose."""
  torch_state = {k: v.detach().numpy() for k, v in torch_model.state_dict().items()}
  flat = nnx.to_flat_state(nnx.state(model, nnx.Param))
  used = set()
  for path, variable in flat:
    name = '/'.join(str(p) for p in path)
    for pattern, repl in rules:
      name = re.sub(pattern, repl, name)
    is_kernel = name.endswith('/kernel')
    name = re.sub(r'/(kernel|scale)$', '/weight', name).replace('/', '.')
    value = torch_state[name]
    used.add(name)
    if is_kernel:  # Conv [O,I,kh,kw] -> [kh,kw,I,O]; Linear [out,in] -> [in,out]
      value = value.transpose(2, 3, 1, 0) if value.ndim == 4 else value.T
    variable.set_value(jnp.asarray(value.reshape(variable.shape)))
  nnx.update(model, nnx.from_flat_state(flat))
  unused = {k for k in torch_state if k not in used and 'position_ids' not in k}
  assert not unused, unused


def _hf_size_kwargs():
  return dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
              intermediate_size=128, image_size=32, patch_size=4,
              attn_implementation='eager')


def _assert_matches(ours, hf, images, *, atol=2e-5):
  """Runs both models on NHWC `images`: outputs, hidden states and attentions agree."""
  with torch.no_grad():
    hf_out = hf(torch.from_numpy(images.transpose(0, 3, 1, 2).copy()), output_hidden_states=True,
                output_attentions=True)
  out = ours(jnp.asarray(images), return_hidden_states=True, return_attention=True)
  np.testing.assert_allclose(np.asarray(out.tokens), hf_out.last_hidden_state.numpy(), atol=atol)
  np.testing.assert_allclose(np.asarray(out.pooled), hf_out.pooler_output.numpy(), atol=atol)
  assert len(out.hidden_states) == len(hf_out.hidden_states)
  for a, b in zip(out.hidden_states, hf_out.hidden_states):
    np.testing.assert_allclose(np.asarray(a), b.numpy(), atol=atol)
  for a, b in zip(out.attention, hf_out.attentions):
    np.testing.assert_allclose(np.asarray(a), b.numpy(), atol=atol)


@pytest.mark.parametrize('activation', ['gelu', 'gelu_pytorch_tanh'])
def test_matches_transformers_vit(activation):
  torch.manual_seed(0)
  hf = transformers.ViTModel(
      transformers.ViTConfig(**_hf_size_kwargs(), hidden_act=activation),
      add_pooling_layer=True).eval()
  ours = _model(num_layers=2, pooler='tanh',
                activation='gelu' if activation == 'gelu' else 'gelu_tanh')
  _load_torch_weights(ours, hf, _VIT_RULES)
  _assert_matches(ours, hf, np.asarray(_images(seed=5)))


def test_matches_transformers_clip_vision():
  torch.manual_seed(0)
  hf = transformers.CLIPVisionModel(transformers.CLIPVisionConfig(**_hf_size_kwargs())).eval()
  ours = _model(num_layers=2, activation='quick_gelu', pre_layernorm=True,
                patch_bias=False, final_norm='cls', layer_norm_eps=1e-5)
  _load_torch_weights(ours, hf, _CLIP_RULES)
  _assert_matches(ours, hf, np.asarray(_images(seed=6)))


# --- rematerialisation ---------------------------------------------------------------

@pytest.mark.parametrize('remat', ['full', 'dots'])
def test_remat_recomputes_blocks_with_the_same_gradients(remat):
  images = _images()

  def grads(model):
    graphdef, params = nnx.split(model)

    def loss(params):
      out = nnx.merge(graphdef, params)(images)
      pooled, tokens = out.pooled, out.tokens
      return (pooled ** 2).sum() + (tokens ** 3).mean()
    return jax.grad(loss)(params), jax.make_jaxpr(jax.grad(loss))(params)

  want, plain = grads(_model())
  got, checkpointed = grads(_model(remat=remat))
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6), got, want)
  # The backward pass recomputes each block: one checkpoint per block in the program.
  assert str(checkpointed).count('checkpoint[') + str(checkpointed).count('remat') >= 2
  assert 'checkpoint[' not in str(plain) and 'remat' not in str(plain)
