"""bench: the FLOP count, the peak table, the timm baseline's loss, and a CPU run."""

import json
import os
import subprocess
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import common
import demo
from wikiart_jax import factory
from wikiart_jax.apps import bench
from wikiart_jax.models import vit as vit_lib
from wikiart_jax.train import losses

from conftest import ROOT


@pytest.mark.parametrize('kind, flops', [
    ('NVIDIA H100 80GB HBM3', 989e12),
    ('NVIDIA H100 PCIe', 756e12),
    ('NVIDIA H200', 989e12),
    ('NVIDIA A100-SXM4-80GB', 312e12),
    ('NVIDIA L4', 121e12),
    ('NVIDIA L40S', None),  # not an L4
    ('NVIDIA GeForce RTX 4090', 165e12),
    ('cpu', None),
])
def test_peak_flops_table(kind, flops):
  assert bench.peak_flops(kind) == flops


def test_analytic_forward_flops_match_the_published_vit_b16_count():
  # DeiT (Touvron et al. 2021), Table 1: ViT-B/16 at 224 px, 17.6 G multiply-adds.
  forward, train = bench.analytic_flops(vit_lib.ViTConfig(), [768 * 1000])
  np.testing.assert_allclose(forward, 2 * 17.6e9, rtol=0.01)
  assert 2.9 * forward < train < 3 * forward  # backward = 2x, minus the image gradient


def test_torch_loss_is_our_multitask_loss():
  torch = pytest.importorskip('torch')
  rng = np.random.default_rng(0)
  logits = {t: rng.normal(size=(8, n)).astype(np.float32) * 3
            for t, n in (('style', 27), ('artist', 40), ('genre', 10))}
  labels = {t: rng.integers(0, v.shape[1], 8) for t, v in logits.items()}
  train_config = common.get_config().train
  expected, _ = losses.multitask_loss(
      {t: jnp.asarray(v) for t, v in logits.items()},
      {t: jnp.asarray(v, jnp.int32) for t, v in labels.items()}, train_config)
  got = bench.torch_multitask_loss(
      {t: torch.from_numpy(v) for t, v in logits.items()},
      {t: torch.from_numpy(v) for t, v in labels.items()}, train_config)
  np.testing.assert_allclose(float(got), float(expected), rtol=1e-5)


def test_timm_model_has_our_backbone_size():
  import vit_b16_multitask  # pylint: disable=g-import-not-at-top
  import vit_l14_clip_multitask  # pylint: disable=g-import-not-at-top
  assert bench.timm_spec(vit_b16_multitask.get_config()) == (
      'vit_base_patch16_224', {'img_size': 224})
  assert bench.timm_spec(vit_l14_clip_multitask.get_config()) == (
      'vit_large_patch14_clip_224', {'img_size': 224})
  assert bench.timm_spec(demo.get_config()) == ('vit_base_patch16_224', dict(
      img_size=32, patch_size=4, embed_dim=64, depth=4, num_heads=4, mlp_ratio=2.0))


def _tiny_config(**bench_fields):
  config = demo.get_config('tiny')
  config.model.num_layers = 1  # a fast compile: the figures, not the model, are tested
  config.model.captioner = 'none'  # the analytic FLOP count covers the ViT and heads
  config.bench.update(dict(dict(steps=2, warmup_steps=1, torch=False, torch_compile=False),
                           **bench_fields))
  return config


def test_torch_baseline_is_skipped_without_timm(monkeypatch):
  monkeypatch.setitem(sys.modules, 'timm', None)  # makes `import timm` fail
  assert 'skipped' in bench.time_torch(_tiny_config())


def test_torch_baseline_trains_what_timm_builds(monkeypatch):
  """The loop itself, on a stand-in for timm (not installable beside torch+cpu here)."""
  torch = pytest.importorskip('torch')
  requested = {}

  class PatchMean(torch.nn.Module):
    """The timm ViT interface bench uses: forward_features, forward_head, head."""

    def __init__(self, num_classes, img_size, patch_size, embed_dim, **unused):
      super().__init__()
      self.num_features = embed_dim
      self.proj = torch.nn.Conv2d(3, embed_dim, patch_size, patch_size)
      self.head = torch.nn.Linear(embed_dim, num_classes)

    def forward_features(self, x):
      return self.proj(x).flatten(2).transpose(1, 2)

    def forward_head(self, x, pre_logits=False):
      x = x.mean(1)
      return x if pre_logits else self.head(x)

  def create_model(name, pretrained, **kwargs):
    requested.update(name=name, pretrained=pretrained, **kwargs)
    return PatchMean(**kwargs)

  monkeypatch.setitem(sys.modules, 'timm', types.SimpleNamespace(create_model=create_model))
  result = bench.time_torch(_tiny_config(steps=2, warmup_steps=0, torch_compile=False))
  assert requested['pretrained'] is False and requested['num_classes'] == 27
  assert requested['name'] == 'vit_base_patch16_224' and requested['embed_dim'] == 64
  assert result['images_per_s'] > 0 and np.isfinite(result['final_loss'])


def test_caption_config_benches_offline_at_its_vocabulary_size():
  """clip_l14_git_caption names hub weights and a tokenizer trained on the data's
  descriptions (a cased BPE, issue 14); bench needs neither."""
  import clip_l14_git_caption  # pylint: disable=g-import-not-at-top
  config = clip_l14_git_caption.get_config()
  assert config.model.caption_decoder.init_from.startswith('hf:')
  assert config.data.caption.tokenizer == '' and config.bench.caption_vocab_size > 0
  # The same config at a CPU-sized scale (the hub ids stay: nothing may resolve them).
  config.model.variant = 'tiny'
  config.model.dtype = 'float32'
  config.model.remat = 'none'
  config.data.image_size = 32
  config.data.batch_size = 4
  config.train.grad_accum_steps = 2
  config.data.caption.max_len = 8
  for field, value in dict(hidden_size=32, num_layers=1, num_heads=4, mlp_dim=64).items():
    config.model.caption_decoder[field] = value
  config.bench.caption_vocab_size = 101
  config.bench.steps = 1
  config.bench.warmup_steps = 0
  result = bench.time_jax(config)
  assert result['images_per_s'] > 0 and np.isfinite(result['final_loss'])
  # It built the decoder at the configured vocabulary: the model's count at 101 tokens.
  config.init_from = config.model.caption_decoder.init_from = ''
  model = nnx.eval_shape(lambda: factory.build_model(config, bench.bench_vocab(),
                                                   caption_vocab_size=101))
  assert result['num_params'] == sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
  assert model.captioner.vocab_size == 101


@pytest.mark.parametrize('stage, trained', [(0, 'heads'), (-1, 'heads and last block'),
                                            (5, None)])
def test_bench_times_the_staged_step(stage, trained):
  config = _tiny_config(steps=1, warmup_steps=0, stage=stage)
  config.train.stages = '0:heads, 3:last1'
  if trained is None:
    with pytest.raises(ValueError, match='config.bench.stage=5: the run has 2 stage'):
      bench.time_jax(config)
    return
  result = bench.time_jax(config)
  model = nnx.eval_shape(lambda: factory.build_model(config, bench.bench_vocab()))
  count = lambda m: sum(x.size for x in jax.tree.leaves(nnx.state(m, nnx.Param)))
  want = count(model.heads)
  if trained != 'heads':  # the last block and the final norm train too
    want += count(model.backbone.layers[-1]) + count(model.backbone.layernorm)
  # Frozen parameters get no optimizer state in bench's step, as in training.
  assert result['trained_params'] == want < result['num_params']
  assert result['stage'].startswith(f'stage {1 if stage == 0 else 2}/2')


def test_bench_refuses_what_cannot_be_timed():
  config = _tiny_config(steps=0)
  with pytest.raises(ValueError, match='bench.steps must be >= 1'):
    bench.check_settings(config)
  config = _tiny_config()
  config.train.grad_accum_steps = 3
  with pytest.raises(ValueError, match='not divisible by train.grad_accum_steps=3'):
    bench.check_settings(config)


_SCRIPT = """
import json, sys
sys.path[:0] = [{root!r}, {configs!r}]
import demo
from wikiart_jax.apps import bench
config = demo.get_config('tiny')
config.model.num_layers = 1
config.model.captioner = 'none'  # the analytic FLOP count covers the ViT and heads
config.bench.update(dict(steps=2, warmup_steps=1, torch=True, torch_compile=False))
bench.run(config, {workdir!r})
print(json.dumps({{'tf_imported': 'tensorflow' in sys.modules}}))
"""


def test_bench_runs_on_the_tiny_demo_config_without_tensorflow(tmp_path):
  script = _SCRIPT.format(root=ROOT, configs=os.path.join(ROOT, 'configs'),
                          workdir=str(tmp_path))
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  proc = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                        env=env, timeout=600, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  lines = proc.stdout.strip().splitlines()
  assert json.loads(lines[-1]) == {'tf_imported': False}
  text = '\n'.join(lines)
  for field in ('images/s', 'TFLOP/s', 'XLA cost analysis', 'analytic ViT count',
                'MFU: n/a', 'peak device memory: n/a', 'timm'):
    assert field in text, field
  result = json.loads(lines[-2])['bench']
  assert result == json.loads((tmp_path / 'bench.json').read_text())['bench']
  assert result['batch_size'] == 16 and result['images_per_s'] > 0
  assert result['mfu'] is None and result['peak_memory_bytes'] is None  # CPU
  # XLA counts every op, the analytic figure only the matmuls it must contain.
  assert result['flops_per_step_analytic'] <= result['flops_per_step_xla']
  assert result['flops_per_step_xla'] < 1.5 * result['flops_per_step_analytic']
  assert np.isfinite(result['final_loss'])
