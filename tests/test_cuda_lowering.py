"""The GPU path, checked without a GPU: train steps and generation loops lowered for CUDA.

`jax.export` with platforms=['cuda'] lowers our jitted functions to StableHLO for
a GPU on this CPU-only machine, from abstract shapes (no memory, no GPU). A tiny
config runs in `make test`; every config in configs/ at its real size, and every
captioner's generation loop, in `make test-slow`.

What 'auto' attention picks on a GPU (cuDNN for bf16) is resolved for the 'gpu'
platform here, and the lowered module must contain cuDNN's fused-attention
custom calls exactly where it does (forward and backward in a train step).

cuDNN attention is the one piece JAX cannot lower without its CUDA plugin: while
lowering it asks the plugin for cuDNN's version
(`jax._src.cudnn.fused_attention_stablehlo.check_cudnn_version`) and raises
'cuDNN is not detected' without it. Where the plugin is absent, the tests say so
(`test_cudnn_attention_needs_the_cuda_plugin_to_lower`), lower the XLA attention
path for CUDA instead (the next best check), and also lower the cuDNN path with
that one query answered by `PINNED_CUDNN`, so that cuDNN's own shape and dtype
checks and the custom calls still appear. On a machine with the plugin nothing is
pinned.
"""

import glob
import importlib
import os
import re

import jax
import jax.numpy as jnp
import pytest
from jax import export
from jax._src.cudnn import fused_attention_stablehlo as _cudnn_lowering  # the pinned query
from flax import nnx

from conftest import ROOT
from wikiart_jax import factory
from wikiart_jax.apps import bench
from wikiart_jax.inference import generate as gen
from wikiart_jax.models import attention as attention_lib
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.models import vit as vit_lib
from wikiart_jax.parallel import sharding
from wikiart_jax.train import state as state_lib
from wikiart_jax.train import trainer as trainer_lib

HAVE_CUDA_PLUGIN = _cudnn_lowering.cuda_versions is not None
PINNED_CUDNN = 91000  # cuDNN 9.10, the 9.x of the lent GPU machine's image
CUDNN_FORWARD, CUDNN_BACKWARD = '__cudnn$fmhaSoftmax', '__cudnn$fmhaSoftmaxBackward'
# Custom calls without JAX's compatibility guarantee must be named to be exported.
ALLOWED = [export.DisabledSafetyCheck.custom_call(t) for t in (CUDNN_FORWARD, CUDNN_BACKWARD)]
CONFIGS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, 'configs', '*.py'))
                 if not p.endswith('common.py'))


def custom_calls(module_text: str) -> set[str]:
  return set(re.findall(r'custom_call @([\w$.]+)', module_text))


def lower_for_cuda(fn, *args, **kwargs) -> str:
  """The StableHLO text of jitted `fn` exported for CUDA."""
  exported = export.export(fn, platforms=['cuda'], disabled_checks=ALLOWED)(*args, **kwargs)
  assert exported.platforms == ('cuda',)
  return exported.mlir_module()


@pytest.fixture
def cudnn_version(monkeypatch):
  """Pins cuDNN's version where no CUDA plugin can report it; says which was used."""
  if HAVE_CUDA_PLUGIN:
    return 'the CUDA plugin'
  monkeypatch.setattr(_cudnn_lowering, 'check_cudnn_version', lambda: PINNED_CUDNN)
  return f'pinned {PINNED_CUDNN}'


def load_config(name: str, attention: str | None = None, dtype: str | None = None):
  """A config from configs/, random init, its 'auto' attention resolved for a GPU."""
  module, _, arg = name.partition(':')
  config = importlib.import_module(module).get_config(*([arg] if arg else []))
  config.init_from = ''
  config.model.caption_decoder.init_from = ''
  if dtype:
    config.model.dtype = dtype
  head_dim = (vit_lib.ViTConfig.from_config(config.model).hidden_size
              // vit_lib.ViTConfig.from_config(config.model).num_heads)
  config.model.attention = attention_lib.resolve_implementation(
      attention or config.model.attention, config.model.dtype, head_dim, platform='gpu')
  return config


def abstract_model(config, workdir):
  return nnx.eval_shape(lambda: factory.build_model(
      config, bench.bench_vocab(), str(workdir),
      caption_vocab_size=int(config.bench.caption_vocab_size)))


def lower_train_step(config, workdir) -> str:
  """The run's train step of its last stage (as bench times it), lowered for CUDA."""
  model = abstract_model(config, workdir)
  caption_vocab = model.captioner.vocab_size if model.captioner is not None else 0
  parts = parts_lib.split(model)
  trainer = trainer_lib.Trainer(config, parts, sharding.make_mesh(config.train.fsdp),
                                num_layers=model.backbone.config.num_layers,
                                style_to_family=model.style_to_family)
  trainer.enter(len(trainer.stages) - 1)
  state = jax.eval_shape(lambda p: state_lib.create(p, trainer.tx), parts.params)
  batch = jax.eval_shape(bench.batch_maker(config, bench.bench_vocab().num_classes,
                                           caption_vocab), jax.random.key(0))
  return lower_for_cuda(trainer.step_fn, state, batch)


def check_attention_calls(text: str, implementation: str) -> None:
  calls = custom_calls(text)
  if implementation == 'cudnn':
    assert {CUDNN_FORWARD, CUDNN_BACKWARD} <= calls, calls
  else:
    assert not any('cudnn' in c for c in calls), calls


def lower_generation(config, workdir, method: str, batch: int = 2) -> str:
  """The captioner's whole decoding loop (prefill + while_loop), lowered for CUDA."""
  model = abstract_model(config, workdir)
  graphdef, state = nnx.split(model.captioner)
  backbone = model.backbone.config
  tokens = jax.ShapeDtypeStruct((batch, backbone.num_tokens, backbone.hidden_size),
                                jnp.dtype(config.model.dtype))
  outputs = {t: jax.ShapeDtypeStruct((batch, n), jnp.float32)
             for t, n in bench.bench_vocab().num_classes.items()}
  label_tokens = getattr(model.captioner, 'label_tokens', None)
  if label_tokens is not None:  # every head they read (tags and period too), at its width
    outputs.update({t: jax.ShapeDtypeStruct((batch, table.shape[0]), jnp.float32)
                    for t, table in label_tokens.tables.items()})
  context = jax.eval_shape(lambda s, x, o: nnx.merge(graphdef, s).condition(x, o),
                           state, tokens, outputs)
  prompt = jax.ShapeDtypeStruct((batch, 2), jnp.int32)  # BOS and the language tag
  rng = jax.eval_shape(lambda: jax.random.key(0))
  text = lower_for_cuda(
      gen._generate, graphdef, state, prompt, None, context, None, rng, None,  # pylint: disable=protected-access
      max_new_tokens=config.data.caption.max_len - 2, eos_id=2, pad_id=0, method=method,
      num_beams=4, length_penalty=1.0, early_stopping=False, top_p=0.9, temperature=1.0)
  assert 'stablehlo.while' in text  # one loop on the device, no host round trips
  return text


def test_cudnn_attention_needs_the_cuda_plugin_to_lower():
  q = jax.ShapeDtypeStruct((2, 208, 4, 64), jnp.bfloat16)
  fn = jax.jit(lambda q, k, v: attention_lib.dot_product_attention(q, k, v,
                                                                   implementation='cudnn'))
  if HAVE_CUDA_PLUGIN:
    assert CUDNN_FORWARD in custom_calls(lower_for_cuda(fn, q, q, q))
  else:
    with pytest.raises(RuntimeError, match='cuDNN is not detected'):
      lower_for_cuda(fn, q, q, q)


@pytest.mark.parametrize('attention', ['xla', 'cudnn'])
def test_tiny_train_step_lowers_for_cuda(attention, cudnn_version, tmp_path):
  config = load_config('demo:tiny', attention, dtype='bfloat16')
  assert config.model.attention == attention
  text = lower_train_step(config, tmp_path)
  check_attention_calls(text, attention)
  print(f'demo:tiny bf16 train step, {attention} attention, cuDNN version: {cudnn_version}')


@pytest.mark.parametrize('kind', ['git', 'prefix'])
def test_tiny_captioner_generation_lowers_for_cuda(kind, tmp_path):
  config = load_config('demo:tiny_caption')
  config.model.captioner = kind
  config.bench.caption_vocab_size = 96  # no demo tokenizer to build
  if kind == 'prefix':  # its positions hold the context tokens too, GIT's only the text
    config.model.caption_decoder.max_positions = 96
  lower_generation(config, tmp_path, 'greedy')


@pytest.mark.slow
@pytest.mark.parametrize('name', CONFIGS)
def test_every_config_train_step_lowers_for_cuda(name, cudnn_version, tmp_path):
  config = load_config(name)
  chosen = config.model.attention  # what 'auto' runs on a GPU: cuDNN where bf16
  check_attention_calls(lower_train_step(config, tmp_path), chosen)
  if chosen == 'cudnn' and not HAVE_CUDA_PLUGIN:
    # The next best check without the plugin: the XLA attention path for CUDA.
    check_attention_calls(lower_train_step(load_config(name, 'xla'), tmp_path), 'xla')
  print(f'{name}: {chosen} attention; cuDNN version: {cudnn_version}')


def _prefix_gpt2_small(config):
  """The GPT-2 prefix captioner at GPT-2 small's size (no config uses it yet)."""
  config.model.captioner = 'prefix'
  decoder = config.model.caption_decoder
  decoder.hidden_size, decoder.num_layers, decoder.num_heads, decoder.mlp_dim = 768, 12, 12, 3072
  decoder.max_positions = 1024
  config.bench.caption_vocab_size = 50257
  return config


@pytest.mark.slow
@pytest.mark.parametrize('name', CONFIGS + ['gpt2-prefix'])
@pytest.mark.parametrize('method', ['greedy', 'beam'])
def test_every_captioner_generation_lowers_for_cuda(name, method, tmp_path):
  config = (_prefix_gpt2_small(load_config('vit_b16_multitask')) if name == 'gpt2-prefix'
            else load_config(name))
  if config.model.captioner == 'none':
    pytest.skip(f'{name} has no captioner')
  lower_generation(config, tmp_path, method)
