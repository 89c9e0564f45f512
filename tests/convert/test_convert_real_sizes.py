"""Real-size architectures (configs written out, random weights): ours equals transformers.

vit-base-patch16-224-in21k, clip-vit-base-patch32, gpt2 and git-base, each built
from its published config.json (as a dict: nothing is downloaded), saved, converted
and compared in float32; BLIP-2 (OPT-2.7B and Flan-T5-XL) at its released widths
with two layers per part. Minutes on a CPU, hence `slow`.
"""

import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers
from flax import nnx

from wikiart_jax import convert

pytestmark = pytest.mark.slow

# One compiled program per test instead of op-by-op dispatch: several times less CPU.
_run = nnx.jit(lambda model, *args, **kwargs: model(*args, **kwargs))


@pytest.fixture(autouse=True)
def _only_when_asked(request):
  # pyproject's addopts does not deselect `slow`; keep the default run fast regardless.
  if 'slow' not in (request.config.getoption('markexpr') or ''):
    pytest.skip('real sizes take minutes: run with -m slow')

VIT_B16_IN21K = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                     intermediate_size=3072, hidden_act='gelu', layer_norm_eps=1e-12,
                     image_size=224, patch_size=16, num_channels=3, qkv_bias=True)
CLIP_B32 = dict(
    text_config=dict(vocab_size=49408, hidden_size=512, num_hidden_layers=12,
                     num_attention_heads=8, intermediate_size=2048, max_position_embeddings=77,
                     hidden_act='quick_gelu', layer_norm_eps=1e-5, bos_token_id=0,
                     eos_token_id=2, pad_token_id=1),
    vision_config=dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                       intermediate_size=3072, image_size=224, patch_size=32,
                       hidden_act='quick_gelu', layer_norm_eps=1e-5),
    projection_dim=512, logit_scale_init_value=2.6592)
GPT2 = dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12,
            activation_function='gelu_new', layer_norm_epsilon=1e-5)
GIT_BASE = dict(
    vision_config=dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                       intermediate_size=3072, image_size=224, patch_size=16,
                       hidden_act='quick_gelu', layer_norm_eps=1e-5),
    vocab_size=30522, hidden_size=768, num_hidden_layers=6, num_attention_heads=12,
    intermediate_size=3072, hidden_act='gelu', max_position_embeddings=1024,
    layer_norm_eps=1e-12, tie_word_embeddings=False, bos_token_id=101, eos_token_id=102,
    pad_token_id=0)


def _save(model, path):
  model.eval().save_pretrained(path)
  return model


def _image(seed=0):
  return np.random.default_rng(seed).normal(size=(1, 3, 224, 224)).astype(np.float32)


def _nhwc(x):
  return jnp.asarray(x.transpose(0, 2, 3, 1))


def test_vit_base_in21k(tmp_path):
  torch.manual_seed(0)
  ref = _save(transformers.ViTModel(transformers.ViTConfig(**VIT_B16_IN21K)), tmp_path)
  ours, _ = convert.load_vit(str(tmp_path), pooler='tanh')
  with torch.no_grad():
    want = ref(torch.tensor(_image()))
  out = _run(ours, _nhwc(_image()))
  pooled, tokens = out.pooled, out.tokens
  np.testing.assert_allclose(tokens, want.last_hidden_state.numpy(), atol=1e-4, rtol=0)
  np.testing.assert_allclose(pooled, want.pooler_output.numpy(), atol=1e-4, rtol=0)


def test_clip_vit_base_patch32(tmp_path):
  torch.manual_seed(0)
  ref = _save(transformers.CLIPModel(transformers.CLIPConfig(**CLIP_B32)), tmp_path)
  ours = convert.load_clip(str(tmp_path))
  ids = np.array([[49406, 320, 2867, 539, 1125, 49407, 49407, 49407]])
  mask = np.array([[1, 1, 1, 1, 1, 1, 0, 0]])
  with torch.no_grad():
    img = ref.get_image_features(pixel_values=torch.tensor(_image())).pooler_output.numpy()
    txt = ref.get_text_features(input_ids=torch.tensor(ids),
                                attention_mask=torch.tensor(mask)).pooler_output.numpy()
  np.testing.assert_allclose(ours.get_image_features(_nhwc(_image())), img, atol=1e-4, rtol=0)
  np.testing.assert_allclose(ours.get_text_features(jnp.asarray(ids), jnp.asarray(mask)), txt,
                             atol=1e-4, rtol=0)


def test_gpt2(tmp_path):
  torch.manual_seed(0)
  ref = _save(transformers.GPT2LMHeadModel(transformers.GPT2Config(**GPT2)), tmp_path)
  ours = convert.load_gpt2(str(tmp_path))
  ids = np.random.default_rng(0).integers(0, 50257, (1, 12))
  with torch.no_grad():
    want = ref(torch.tensor(ids)).logits.numpy()
  np.testing.assert_allclose(_run(ours, jnp.asarray(ids))[0], want, atol=1e-4, rtol=0)


def test_git_base(tmp_path):
  torch.manual_seed(0)
  ref = _save(transformers.GitForCausalLM(transformers.GitConfig(**GIT_BASE)), tmp_path)
  ours = convert.load_git(str(tmp_path))
  ids = np.array([[101, 1037, 3861, 1997, 1037, 3899]])
  with torch.no_grad():
    want = ref(input_ids=torch.tensor(ids), pixel_values=torch.tensor(_image())).logits.numpy()
  got, _ = _run(ours, jnp.asarray(ids), images=_nhwc(_image()))
  np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def _blip2_real_widths(text_config):
  """Released BLIP-2 widths (EVA ViT-g 1408, Q-Former 768, the LM's own) at 2 layers each."""
  vision = dict(hidden_size=1408, intermediate_size=6144, num_hidden_layers=2,
                num_attention_heads=16, image_size=224, patch_size=14)
  qformer = dict(hidden_size=768, num_hidden_layers=2, num_attention_heads=12,
                 intermediate_size=3072, cross_attention_frequency=2)
  return transformers.Blip2Config(vision_config=vision, qformer_config=qformer,
                                  text_config=text_config, num_query_tokens=32,
                                  image_token_index=text_config['vocab_size'] - 1)


BLIP2_TEXT = {
    'opt': dict(model_type='opt', vocab_size=50304, hidden_size=2560, num_hidden_layers=2,
                num_attention_heads=32, ffn_dim=10240, max_position_embeddings=2048,
                word_embed_proj_dim=2560, bos_token_id=2, eos_token_id=50118, pad_token_id=1),
    't5': dict(model_type='t5', vocab_size=32128, d_model=2048, d_kv=64, d_ff=5120, num_layers=2,
               num_heads=32, feed_forward_proj='gated-gelu', tie_word_embeddings=False,
               decoder_start_token_id=0, eos_token_id=1, pad_token_id=0),
}


@pytest.mark.parametrize('family', ['opt', 't5'])
def test_blip2_at_real_widths(tmp_path, family):
  """Logits within 1e-4 and greedy tokens equal to transformers' generate()."""
  from wikiart_jax.convert import blip2 as convert_blip2  # pylint: disable=g-import-not-at-top
  from wikiart_jax.inference import generate as gen  # pylint: disable=g-import-not-at-top
  torch.manual_seed(0)
  ref = transformers.Blip2ForConditionalGeneration(_blip2_real_widths(BLIP2_TEXT[family])).eval()
  with torch.no_grad():  # trained queries are not zero
    ref.query_tokens.normal_(0, 1)
  _save(ref, tmp_path)
  ours = convert_blip2.load_blip2(str(tmp_path))
  text = np.array([[2, 1037, 3861, 1997]]) if family == 'opt' else np.array([[1037, 3861, 1]])
  ids = np.concatenate([np.full((1, 32), ref.config.image_token_index), text], 1)
  kwargs = dict(pixel_values=torch.tensor(_image()), input_ids=torch.tensor(ids))
  ours_kwargs = {}
  if family == 't5':
    kwargs['decoder_input_ids'] = torch.tensor([[0, 1037, 3861]])
    ours_kwargs['decoder_input_ids'] = jnp.array([[0, 1037, 3861]])
  with torch.no_grad():
    want = ref(**kwargs).logits.numpy()
    out = ref.generate(pixel_values=torch.tensor(_image()), input_ids=torch.tensor(ids),
                       attention_mask=torch.ones(ids.shape, dtype=torch.long), max_new_tokens=6,
                       min_new_tokens=6, do_sample=False, pad_token_id=5).numpy()
  got = _run(ours, jnp.asarray(text), images=_nhwc(_image()), **ours_kwargs)
  np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
  tokens = gen.generate(ours, text, images=_nhwc(_image()), max_new_tokens=6, eos_id=-1,
                        pad_id=5)
  new = out[:, ids.shape[1]:] if family == 'opt' else out[:, 1:]
  np.testing.assert_array_equal(np.asarray(tokens), new)
