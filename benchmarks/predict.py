"""Classifier inference speed: our jitted forward against a PyTorch ViT, images/s.

Ours is what `predict` and `serve` run (`inference.forward.make_forward`: numpy
images in, the three heads' probabilities out as numpy). The baseline is, on a
CPU, transformers' `ViTForImageClassification` (PyTorch, eager) on the same
weights: built at our sizes with random weights and 27 + 1,119 + 10 labels,
saved, and converted into our classifier (its label rows split into our three
heads), checked to give the same probabilities on the same inputs. On a GPU
(`--baseline=timm --dtype=bfloat16`) it is timm's ViT of the same size under
bf16 autocast (random weights of its own: speed only). Timed by
benchmarks/harness.py (interleaved, medians, load):

    python benchmarks/predict.py [--models=b16,demo] [--batches=1,32] [--repeats=5] \
        [--dtype=float32] [--baseline=transformers]

`b16` is configs/vit_b16_multitask.py's model (ViT-B/16, 224 px); `demo` is
configs/demo.py's classifier (the tiny ViT, patch 4, 32 px; its captioner off).
"""

import importlib
import os
import sys
import tempfile

from absl import app
from absl import flags
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'configs'))

from benchmarks import harness  # pylint: disable=g-import-not-at-top,wrong-import-position

MODELS = {'b16': 'vit_b16_multitask', 'demo': 'demo'}

_MODELS = flags.DEFINE_list('models', ['b16', 'demo'], f'any of {sorted(MODELS)}')
_BATCHES = flags.DEFINE_list('batches', ['1', '32'], 'batch sizes')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'timed calls of each side')
_DTYPE = flags.DEFINE_enum('dtype', 'float32', ['float32', 'bfloat16'],
                           'compute dtype of both sides (bf16: autocast on the torch side)')
_BASELINE = flags.DEFINE_enum('baseline', 'transformers', ['transformers', 'timm'],
                              'transformers (same weights, checked) or timm (speed only)')
_PROFILE = flags.DEFINE_bool('profile', False, 'also print the FLOPs of a forward and the '
                             "speed of each library's matmul at the MLP's shape")
_TOLERANCE = 1e-4  # max |probability difference| of the same weights in float32


def model_config(name: str, dtype: str):
  """The config of `name` with its captioner off and the compute dtype set."""
  config = importlib.import_module(MODELS[name]).get_config()
  config.model.captioner = 'none'
  config.model.dtype = dtype
  return config


def hf_vit_config(vit_cfg, num_labels: int):
  """transformers' ViTConfig with our backbone's sizes."""
  import transformers  # pylint: disable=g-import-not-at-top
  return transformers.ViTConfig(
      hidden_size=vit_cfg.hidden_size, num_hidden_layers=vit_cfg.num_layers,
      num_attention_heads=vit_cfg.num_heads, intermediate_size=vit_cfg.mlp_dim,
      image_size=vit_cfg.image_size, patch_size=vit_cfg.patch_size,
      layer_norm_eps=vit_cfg.layer_norm_eps, hidden_act='gelu', num_labels=num_labels)


def build_pair(name: str, device: str):
  """(our forward over numpy images, the baseline's, the image size)."""
  import jax  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top
  import transformers  # pylint: disable=g-import-not-at-top
  from wikiart_jax import factory  # pylint: disable=g-import-not-at-top
  from wikiart_jax.apps import bench  # pylint: disable=g-import-not-at-top
  from wikiart_jax.core import TASKS  # pylint: disable=g-import-not-at-top
  from wikiart_jax.inference import forward as forward_lib  # pylint: disable=g-import-not-at-top
  from wikiart_jax.models import parts as parts_lib  # pylint: disable=g-import-not-at-top
  from wikiart_jax.models import vit as vit_lib  # pylint: disable=g-import-not-at-top
  from wikiart_jax.parallel import sharding  # pylint: disable=g-import-not-at-top

  config = model_config(name, _DTYPE.value)
  vocab = bench.bench_vocab()
  sizes = [vocab.num_classes[t] for t in TASKS]
  vit_cfg = vit_lib.ViTConfig.from_config(config.model)
  torch.manual_seed(0)
  if _BASELINE.value == 'transformers':
    ref = transformers.ViTForImageClassification(hf_vit_config(vit_cfg, sum(sizes))).eval()
    with tempfile.TemporaryDirectory() as folder:
      ref.save_pretrained(folder)
      config.init_from = folder
      model = factory.build_model(config, vocab)
    # The checkpoint's label rows, in TASKS order, become our three heads.
    weight = ref.classifier.weight.detach().numpy()
    bias = ref.classifier.bias.detach().numpy()
    start = 0
    for task, size in zip(TASKS, sizes):
      out = model.heads[task].output
      out.kernel.value = jax.numpy.asarray(weight[start:start + size].T)
      out.bias.value = jax.numpy.asarray(bias[start:start + size])
      start += size
  else:
    import timm  # pylint: disable=g-import-not-at-top
    config.init_from = ''
    model = factory.build_model(config, vocab)
    timm_name, overrides = bench.timm_spec(config)
    ref = timm.create_model(timm_name, pretrained=False, num_classes=sum(sizes),
                            **overrides).eval()
  ref = ref.to(device)
  parts = parts_lib.split(model)
  forward = forward_lib.make_forward(parts, sharding.make_mesh())
  bf16 = _DTYPE.value == 'bfloat16'
  hf = _BASELINE.value == 'transformers'

  def theirs(images_torch):
    with torch.inference_mode(), torch.autocast(device, torch.bfloat16, enabled=bf16):
      logits = ref(pixel_values=images_torch).logits if hf else ref(images_torch)
      probs = [p.float().softmax(-1).cpu().numpy() for p in logits.split(sizes, dim=-1)]
    return dict(zip(TASKS, probs))

  return forward, theirs, vit_cfg


def profile(vit_cfg, batch: int, result, device: str) -> list[str]:
  """Achieved GFLOP/s of both sides, against each library's matmul at the MLP's shape."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top
  from wikiart_jax.apps import bench  # pylint: disable=g-import-not-at-top
  forward_flops = bench.analytic_flops(vit_cfg, [])[0] * batch  # heads: < 0.1%
  rows, d, m = vit_cfg.sequence_length * batch, vit_cfg.hidden_size, vit_cfg.mlp_dim
  dtype = jnp.dtype(_DTYPE.value)
  x, w = jnp.ones((rows, d), dtype), jnp.ones((d, m), dtype)
  matmul = jax.jit(jnp.matmul)
  xla_s = harness.median_seconds(lambda: jax.block_until_ready(matmul(x, w)),
                                 _REPEATS.value, warmup=1)
  tdtype = torch.bfloat16 if _DTYPE.value == 'bfloat16' else torch.float32
  tx, tw = (torch.ones(s, dtype=tdtype, device=device) for s in ((rows, d), (d, m)))
  sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)

  def torch_matmul():
    with torch.inference_mode():
      torch.matmul(tx, tw)
    sync()
  torch_s = harness.median_seconds(torch_matmul, _REPEATS.value, warmup=1)
  mm = 2 * rows * d * m
  return [
      f'  forward: {forward_flops / batch / 1e9:.2f} GFLOP per image (matmuls); ours '
      f'{forward_flops / result.first.median / 1e9:,.1f} GFLOP/s, '
      f'{_BASELINE.value} {forward_flops / result.second.median / 1e9:,.1f} GFLOP/s',
      f'  one matmul at the MLP\'s shape ({rows} x {d} x {m}): XLA '
      f'{mm / xla_s / 1e9:,.1f} GFLOP/s, torch {mm / torch_s / 1e9:,.1f} GFLOP/s']


def main(argv):
  del argv
  import jax  # pylint: disable=g-import-not-at-top
  import torch  # pylint: disable=g-import-not-at-top
  device = 'cuda' if jax.default_backend() == 'gpu' and torch.cuda.is_available() else 'cpu'
  threads = harness.match_threads()
  worst = 0.0
  for name in _MODELS.value:
    if name not in MODELS:
      raise SystemExit(f'error: --models: {name!r} is not one of {sorted(MODELS)}')
    forward, theirs, vit_cfg = build_pair(name, device)
    size = vit_cfg.image_size
    for batch in map(int, _BATCHES.value):
      images = np.random.default_rng(batch).normal(size=(batch, size, size, 3)).astype(
          np.float32)
      images_torch = torch.tensor(images.transpose(0, 3, 1, 2), device=device)
      result = harness.compare(
          lambda: forward(images).probs, lambda: theirs(images_torch),
          ('ours (jax.jit forward)', f'{_BASELINE.value} (PyTorch eager)'),
          repeats=_REPEATS.value, work=batch, unit='images', threads=threads)
      harness.report(result, f'{name} classifier, batch {batch}, {size} px, {_DTYPE.value}; '
                             f'jax {jax.__version__} on {device}, torch {torch.__version__}')
      if _PROFILE.value:
        print('\n'.join(profile(vit_cfg, batch, result, device)), flush=True)
      if _BASELINE.value == 'transformers':
        ours, ref = forward(images).probs, theirs(images_torch)
        diff = max(float(np.max(np.abs(ours[t] - ref[t]))) for t in ref)
        worst = max(worst, diff)
        print(f'  max |probability difference| on these inputs: {diff:.2e}')
  if _BASELINE.value == 'transformers' and _DTYPE.value == 'float32' and worst > _TOLERANCE:
    raise SystemExit(f'error: the two models disagree ({worst:.2e} > {_TOLERANCE}): '
                     'the conversion is wrong, the timings compare different work')


if __name__ == '__main__':
  app.run(main)
