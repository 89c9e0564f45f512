"""`config.mode=bench`: the speed of the real train step, no dataset involved.

Builds the real classifier (`factory.build_model`) and the run's own trainer
(`train.trainer.Trainer`: the optimizer and jitted step of the stage
`bench.stage` of `train.stages`, so frozen parameters stay frozen), feeds one
random device-resident batch of `data.batch_size` images over and over, and
reports images/s, achieved TFLOP/s, MFU and peak device memory. Where torch and
timm import, the same-size timm ViT is trained first on the same batch (same
three heads and losses, AdamW, bf16 autocast) and the ratio is printed. Each
step is timed on its own (`step_times_ms`); the figures use the median step.
The two sides run one after the other, not interleaved: JAX keeps the GPU memory
it reserves, and both models' states may not fit beside each other on one GPU
(benchmarks/train_step.py reports the spread and the load around the run). The
last line printed is one JSON object, for scripts.

Nothing here imports TensorFlow (absent on the GPU machines): no data pipeline.

FLOPs are counted two ways: XLA's `cost_analysis()` of the compiled step (every
op; the compiled program is one device's share, so it is multiplied by the
device count) and the analytic ViT count (matmuls only, forward x3 for training,
as in the MFU definition of PaLM, Chowdhery et al. 2022); MFU uses the analytic
count. XLA counts a loop body once (checked on CPU: 4 micro-batches report ~1/4
of the FLOPs), so with `grad_accum_steps` > 1 its figure is left out (None).
"""

import copy
import json
import os
import re
import statistics
import tempfile
import time

import jax
import jax.numpy as jnp
import ml_collections
from flax import nnx

from wikiart_jax import factory
from wikiart_jax.core import PERIOD, TASKS
from wikiart_jax.data import metadata
from wikiart_jax.metrics import period as period_lib
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.models import vit as vit_lib
from wikiart_jax.parallel import sharding
from wikiart_jax.train import trainer as trainer_lib

NUM_ARTISTS = 1119  # all WikiArt artists (ArtGAN refined split)
# Dense bf16 tensor-core peak per device, from the vendors' datasheets (NVIDIA
# H100, H200, A100, L4 datasheets; Ada Lovelace whitepaper for the RTX 4090, FP32
# accumulate); the sparsity figures there are twice these. First match wins.
PEAK_BF16_FLOPS = (
    (r'H200', 989e12),
    (r'H100.*PCIe', 756e12),
    (r'H100(?!.*NVL)', 989e12),  # SXM; the NVL card differs
    (r'A100', 312e12),
    (r'\bL4\b', 121e12),  # not the L40 / L40S
    (r'RTX 4090', 165e12),
)


def peak_flops(device_kind: str) -> float | None:
  """Dense bf16 FLOP/s of one device of this kind, None when not in the table."""
  for pattern, flops in PEAK_BF16_FLOPS:
    if re.search(pattern, device_kind):
      return flops
  return None


def check_settings(config: ml_collections.ConfigDict) -> None:
  """Refuses a `config.bench` / batch combination that cannot be timed (one line)."""
  bench = config.bench
  if bench.steps < 1 or bench.warmup_steps < 0:
    raise ValueError('config.bench.steps must be >= 1 and warmup_steps >= 0')
  if config.data.batch_size % max(1, config.train.grad_accum_steps):
    raise ValueError(f'data.batch_size={config.data.batch_size} is not divisible by '
                     f'train.grad_accum_steps={config.train.grad_accum_steps}')


def bench_vocab() -> metadata.Vocabularies:
  """Vocabularies with the real class counts (27 styles, 1,119 artists, 10 genres)."""
  return metadata.Vocabularies.build([(f'artist-{i:04d}', None) for i in range(NUM_ARTISTS)])


def analytic_flops(cfg: vit_lib.ViTConfig, head_kernel_sizes) -> tuple[float, float]:
  """(forward, train step) matmul FLOPs per image of the backbone and heads.

  A multiply-add is 2 FLOPs. Backward costs twice the forward, except for the
  patch embedding, whose input (the image) needs no gradient.
  """
  n, d, m = cfg.sequence_length, cfg.hidden_size, cfg.mlp_dim
  patch = 2 * cfg.num_patches * cfg.patch_size**2 * 3 * d
  layer = 2 * n * d * d * 4 + 2 * 2 * n * n * d + 2 * 2 * n * d * m  # qkvo, attn, mlp
  rest = cfg.num_layers * layer + 2 * sum(head_kernel_sizes)
  if cfg.pooler == 'tanh':
    rest += 2 * d * d
  return float(patch + rest), float(2 * patch + 3 * rest)


def _peak_memory() -> int | None:
  stats = [d.memory_stats() for d in jax.local_devices()]
  peaks = [s['peak_bytes_in_use'] for s in stats if s and 'peak_bytes_in_use' in s]
  return max(peaks) if peaks else None


def _xla_flops(compiled) -> float | None:
  cost = compiled.cost_analysis()
  if isinstance(cost, (list, tuple)):  # older JAX: one dict per program
    cost = cost[0] if cost else None
  return float(cost['flops']) if cost and cost.get('flops', 0) > 0 else None


def batch_maker(config, num_classes: dict, caption_vocab: int = 0):
  """key -> a random training batch of the run's shapes (jit it, or `eval_shape` it).

  With a captioner (`caption_vocab` > 0) it also holds full-length caption
  targets, the captioner's worst case.
  """
  b, s = config.data.batch_size, config.data.image_size

  def make(key):
    keys = jax.random.split(key, 5)
    batch = {'image': jax.random.normal(keys[0], (b, s, s, 3), jnp.float32),
             'year': jnp.full((b,), 1900, jnp.int32)}
    for k, task in zip(keys[1:4], TASKS):
      batch[task] = jax.random.randint(k, (b,), 0, num_classes[task], jnp.int32)
    # The year's bin, as the pipeline adds it (the bench vocabulary has no tag targets).
    batch[PERIOD] = jnp.full((b,), int(period_lib.bin_of(1900)), jnp.int32)
    if caption_vocab:
      length = config.data.caption.max_len
      batch['caption_tokens'] = jax.random.randint(keys[4], (b, length), 0, caption_vocab,
                                                   jnp.int32)
      batch['caption_mask'] = jnp.ones((b, length), jnp.int32).at[:, :2].set(0)
    return batch

  return make


def _random_batch(config, num_classes: dict, mesh, seed: int, caption_vocab: int = 0) -> dict:
  """A batch made on the devices, already laid out as the train step wants it."""
  make = batch_maker(config, num_classes, caption_vocab)
  return jax.jit(make, out_shardings=sharding.batch_sharding(mesh))(jax.random.key(seed))


def time_jax(config: ml_collections.ConfigDict, workdir: str | None = None) -> dict:
  """Compiles and times the run's train step; returns the measured figures."""
  bench = config.bench
  config = copy.deepcopy(config)  # our copy: the caller's config is not written
  config.init_from = ''  # random weights: speed does not depend on them
  config.model.caption_decoder.init_from = ''  # its sizes are spelt out in the config
  vocab = bench_vocab()
  mesh = sharding.make_mesh(config.train.fsdp)
  with tempfile.TemporaryDirectory() as scratch:
    # The demo caption tokenizer, when one is needed, is built here.
    model = factory.build_model(config, vocab, workdir or scratch,
                                caption_vocab_size=int(bench.caption_vocab_size))
  caption_vocab = model.captioner.vocab_size if model.captioner is not None else 0
  # Every head matrix multiplies once per image (biases are the 1-D leaves).
  head_kernels = [x.size for x in jax.tree.leaves(nnx.state(model.heads, nnx.Param))
                  if x.ndim == 2]
  parts = parts_lib.split(model)
  num_params = sum(x.size for x in jax.tree.leaves(parts.params))
  trainer = trainer_lib.Trainer(config, parts, mesh, num_layers=model.backbone.config.num_layers,
                                style_to_family=model.style_to_family)
  stage = bench.stage if bench.stage >= 0 else len(trainer.stages) + bench.stage
  if not 0 <= stage < len(trainer.stages):
    raise ValueError(f'config.bench.stage={bench.stage}: the run has '
                     f'{len(trainer.stages)} stage(s) (train.stages)')
  trainer.enter(stage)
  state = trainer.init_state(parts.params)
  backbone_cfg = model.backbone.config
  del model, parts
  batch = _random_batch(config, vocab.num_classes, mesh, config.seed, caption_vocab)

  start = time.perf_counter()
  compiled = trainer.step_fn.lower(state, batch).compile()
  compile_s = time.perf_counter() - start
  for _ in range(bench.warmup_steps):
    state, metrics = compiled(state, batch)
  jax.block_until_ready(state)
  times = []
  for _ in range(bench.steps):
    start = time.perf_counter()
    state, metrics = compiled(state, batch)
    jax.block_until_ready((state, metrics))
    times.append(time.perf_counter() - start)
  step_s = statistics.median(times)

  devices = jax.devices()
  xla = _xla_flops(compiled) if config.train.grad_accum_steps == 1 else None
  xla = xla * len(devices) if xla else None
  analytic = analytic_flops(backbone_cfg, head_kernels)[1] * config.data.batch_size
  peak = peak_flops(devices[0].device_kind)
  return {
      'device': devices[0].device_kind, 'platform': devices[0].platform,
      'num_devices': len(devices), 'num_params': int(num_params),
      'stage': trainer.describe(), 'trained_params': _trained_params(state),
      'compile_s': compile_s, 'step_ms': step_s * 1e3,
      'step_times_ms': [t * 1e3 for t in times],
      'images_per_s': config.data.batch_size / step_s,
      'flops_per_step_xla': xla, 'flops_per_step_analytic': analytic,
      'tflops_xla': xla / step_s / 1e12 if xla else None,
      'tflops_analytic': analytic / step_s / 1e12,
      'peak_flops_per_device': peak,
      'mfu': analytic / step_s / (peak * len(devices)) if peak else None,
      'peak_memory_bytes': _peak_memory(),
      'final_loss': float(metrics.compute()['loss']),
  }


def _trained_params(state) -> int:
  """Parameters with optimizer state (Adam's first moment): what the stage trains."""
  return int(sum(x.size for path, x in jax.tree_util.tree_leaves_with_path(state.opt_state)
                 if any(getattr(k, 'name', None) == 'mu' for k in path)))


def timm_spec(config: ml_collections.ConfigDict) -> tuple[str, dict]:
  """(timm model name, create_model overrides) of the same size as our backbone."""
  size = config.data.image_size
  if config.bench.timm_model:
    return config.bench.timm_model, {'img_size': size}
  known = {'B/16': 'vit_base_patch16_224', 'L/14': 'vit_large_patch14_clip_224'}
  cfg = vit_lib.ViTConfig.from_config(config.model)
  dims = (cfg.patch_size, cfg.hidden_size, cfg.num_layers, cfg.num_heads, cfg.mlp_dim)
  if config.model.variant in known and dims == vit_lib.variant_sizes(config.model.variant):
    return known[config.model.variant], {'img_size': size}
  # Any other size: timm's generic ViT with our dimensions.
  return 'vit_base_patch16_224', dict(
      img_size=size, patch_size=cfg.patch_size, embed_dim=cfg.hidden_size,
      depth=cfg.num_layers, num_heads=cfg.num_heads,
      mlp_ratio=cfg.mlp_dim / cfg.hidden_size)


def torch_multitask_loss(logits: dict, labels: dict, train_config):
  """losses.multitask_loss in torch (all labels valid): style CE with smoothing,
  artist focal loss, genre CE, weighted by config.train's lambdas."""
  import torch.nn.functional as F  # pylint: disable=g-import-not-at-top
  logits = {t: v.float() for t, v in logits.items()}
  style = F.cross_entropy(logits['style'], labels['style'],
                          label_smoothing=train_config.label_smoothing)
  log_pt = F.log_softmax(logits['artist'], -1).gather(1, labels['artist'][:, None])[:, 0]
  artist = (-(-log_pt.expm1()) ** train_config.focal_gamma * log_pt).mean()
  genre = F.cross_entropy(logits['genre'], labels['genre'])
  return (style + train_config.lambda_artist * artist
          + train_config.lambda_genre * genre)


def time_torch(config: ml_collections.ConfigDict) -> dict:
  """Trains the same-size timm ViT on one random batch; same loss, AdamW, autocast.

  Returns {'skipped': reason} when torch or timm does not import.
  """
  try:
    import timm  # pylint: disable=g-import-not-at-top
    import torch  # pylint: disable=g-import-not-at-top
  except (ImportError, RuntimeError) as e:  # absent, or built for another torch
    return {'skipped': f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'}
  train = config.train
  name, overrides = timm_spec(config)
  bench = config.bench
  device = 'cuda' if torch.cuda.is_available() else 'cpu'
  num_classes = bench_vocab().num_classes
  torch.manual_seed(config.seed)
  model = timm.create_model(name, pretrained=False, num_classes=num_classes['style'],
                            **overrides).to(device)
  # timm's head is the style head; two more linear heads as ours.
  extra = torch.nn.ModuleDict({t: torch.nn.Linear(model.num_features, num_classes[t])
                               for t in ('artist', 'genre')}).to(device)
  params = list(model.parameters()) + list(extra.parameters())
  opt = torch.optim.AdamW(params, lr=train.learning_rate, weight_decay=train.weight_decay,
                          fused=device == 'cuda')
  b, s, accum = config.data.batch_size, config.data.image_size, train.grad_accum_steps
  images = torch.randn(b, 3, s, s, device=device)
  labels = {t: torch.randint(0, n, (b,), device=device) for t, n in num_classes.items()}
  bf16 = config.model.dtype == 'bfloat16'

  def loss_fn(x, y):
    with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
      pooled = model.forward_head(model.forward_features(x), pre_logits=True)
      logits = {'style': model.head(pooled), 'artist': extra['artist'](pooled),
                'genre': extra['genre'](pooled)}
    return torch_multitask_loss(logits, y, train)

  compiled_loss = torch.compile(loss_fn) if bench.torch_compile else loss_fn

  def step():
    opt.zero_grad(set_to_none=True)
    for i in range(accum):
      rows = slice(i * b // accum, (i + 1) * b // accum)
      loss = compiled_loss(images[rows], {t: v[rows] for t, v in labels.items()})
      (loss / accum).backward()
    if train.grad_clip_norm:
      torch.nn.utils.clip_grad_norm_(params, train.grad_clip_norm)
    opt.step()
    return loss

  sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
  start = time.perf_counter()
  step()  # compiles when torch_compile
  sync()
  first_s = time.perf_counter() - start
  for _ in range(bench.warmup_steps):
    step()
  sync()
  times = []
  for _ in range(bench.steps):
    start = time.perf_counter()
    loss = step()
    sync()
    times.append(time.perf_counter() - start)
  step_s = statistics.median(times)
  result = {'timm_model': name, 'device': device, 'compiled': bench.torch_compile,
            'first_step_s': first_s, 'step_ms': step_s * 1e3,
            'step_times_ms': [t * 1e3 for t in times], 'images_per_s': b / step_s,
            'peak_memory_bytes': (torch.cuda.max_memory_allocated()
                                  if device == 'cuda' else None),
            'final_loss': float(loss.detach())}
  del model, extra, opt, params, images
  if device == 'cuda':
    torch.cuda.empty_cache()  # hand the memory back before JAX allocates its pool
  return result


def _fmt(value, spec: str = ',.1f', scale: float = 1.0, unit: str = '') -> str:
  return 'n/a' if value is None else f'{value / scale:{spec}}{unit}'


def summary_lines(result: dict) -> list[str]:
  """The human-readable report of `run`'s figures ('n/a' where not measurable)."""
  r, baseline = result, result['torch']
  loop = ', a loop counted once' if r['grad_accum_steps'] > 1 else ''
  lines = [
      f"bench: ViT {r['variant']} {r['dtype']}, batch {r['batch_size']} x "
      f"{r['image_size']}px (grad_accum {r['grad_accum_steps']}, fsdp {r['fsdp']}), "
      f"{r['num_params'] / 1e6:.1f}M parameters, on {r['num_devices']} x {r['device']}",
      f"  {r['stage']} ({r['trained_params'] / 1e6:.1f}M parameters trained)",
      f"  compile {r['compile_s']:.1f} s, step {r['step_ms']:.1f} ms, "
      f"{r['images_per_s']:,.1f} images/s",
      f"  TFLOP/s: {_fmt(r['tflops_xla'], '.3g')} (XLA cost analysis{loop}), "
      f"{_fmt(r['tflops_analytic'], '.3g')} (analytic ViT count)",
      f"  MFU: {_fmt(r['mfu'], '.1%')} of "
      f"{_fmt(r['peak_flops_per_device'], ',.0f', 1e12, ' TFLOP/s')} dense bf16 per device",
      f"  peak device memory: {_fmt(r['peak_memory_bytes'], '.2f', 2**30, ' GiB')}",
  ]
  if 'skipped' in baseline:
    lines.append(f"  timm baseline: skipped ({baseline['skipped']})")
  else:
    lines.append(
        f"  timm {baseline['timm_model']} (torch, compile={baseline['compiled']}): "
        f"{baseline['images_per_s']:,.1f} images/s, peak memory "
        f"{_fmt(baseline['peak_memory_bytes'], '.2f', 2**30, ' GiB')}; "
        f"JAX / torch per device = {r['jax_over_torch']:.2f}x")
  return lines


def run(config: ml_collections.ConfigDict, workdir: str | None = None) -> dict:
  """Runs the benchmark, prints a summary and a final JSON line; returns the figures.

  The torch baseline runs first: JAX reserves most of the GPU memory the first
  time it uses the device, and would leave timm too little.
  """
  check_settings(config)
  baseline = (time_torch(config) if config.bench.torch
              else {'skipped': 'config.bench.torch is False'})
  result = time_jax(config, workdir)
  result.update(variant=config.model.variant, batch_size=config.data.batch_size,
                image_size=config.data.image_size, dtype=config.model.dtype,
                grad_accum_steps=config.train.grad_accum_steps,
                fsdp=config.train.fsdp, torch=baseline)
  # timm trains on one device: compare per device when JAX ran on several.
  ratio = (result['images_per_s'] / result['num_devices'] / baseline['images_per_s']
           if 'images_per_s' in baseline else None)
  result['jax_over_torch'] = ratio

  if jax.process_index() == 0:
    print('\n'.join(summary_lines(result)))
    line = json.dumps({'bench': result})
    if workdir:
      os.makedirs(workdir, exist_ok=True)
      with open(os.path.join(workdir, 'bench.json'), 'w') as f:
        f.write(line + '\n')
    print(line, flush=True)
  return result
