"""Sharding: the FSDP layout rule, and 8 fake CPU devices training like one device."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

import sharded_train_worker as worker
from wikiart_jax.parallel import sharding

WORKER = os.path.abspath(worker.__file__)


@pytest.mark.parametrize('shape, fsdp, min_size, expected', [
    ((64, 128), 4, 0, P(None, 'fsdp')),  # the bigger dimension
    ((3072, 768), 4, 0, P('fsdp')),
    ((768, 768), 4, 0, P(None, 'fsdp')),  # a tie goes to the later dimension
    ((16, 16, 3, 768), 8, 0, P(None, None, None, 'fsdp')),  # conv kernel
    ((6, 10), 4, 0, P()),  # no dimension divisible by 4
    ((12, 10), 4, 0, P('fsdp')),  # the biggest *divisible* one
    ((768,), 4, 1024, P()),  # small leaves stay replicated
    ((), 4, 0, P()),  # scalars (step, Adam's count)
    ((64, 128), 1, 0, P()),  # no fsdp axis to split over
])
def test_fsdp_spec(shape, fsdp, min_size, expected):
  assert sharding.fsdp_spec(shape, fsdp, min_size) == expected


def test_default_threshold_splits_vit_b_kernels_not_biases():
  assert sharding.fsdp_spec((768, 3072), 8) == P(None, 'fsdp')
  assert sharding.fsdp_spec((768,), 8) == P()


def test_make_mesh_rejects_an_fsdp_size_that_does_not_divide_the_devices():
  with pytest.raises(ValueError, match='train.fsdp=3'):
    sharding.make_mesh(3, devices=jax.devices()[:1] * 4)


def test_one_device_mesh_replicates_everything():
  mesh = sharding.make_mesh(1, devices=jax.devices()[:1])
  shardings = sharding.state_shardings({'w': np.zeros((512, 1024))}, mesh)
  assert shardings['w'].spec == P()


@pytest.fixture(scope='module')
def one_device():
  """The reference: the same few steps on a single device, in this process."""
  return worker.train_losses(fsdp=1, devices=jax.devices()[:1])


@pytest.mark.slow  # two compilations on 8 fake devices: ~30 s of CPU
def test_eight_fake_devices_train_like_one_device(one_device):
  env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=8',
             JAX_PLATFORMS='cpu')
  proc = subprocess.run([sys.executable, WORKER, '--fsdp', '1,4'], env=env,
                        capture_output=True, text=True, timeout=600, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  out = json.loads(proc.stdout.strip().splitlines()[-1])
  assert out['devices'] == 8
  replicated, fsdp = out['runs']['1'], out['runs']['4']
  for run in (replicated, fsdp):
    np.testing.assert_allclose(run['losses'], one_device['losses'], rtol=1e-5)
    np.testing.assert_allclose(run['param_norm'], one_device['param_norm'], rtol=1e-5)
  # Data parallel: nothing split. FSDP on a 2x4 mesh: the MLP kernel [64, 128] is
  # split 4 ways on its output side and kept so by the step's out_shardings.
  assert replicated['split_leaves'] == {'params': 0, 'state': 0}
  assert (fsdp['fc1_spec'], fsdp['fc1_local_shape']) == ("P(None, 'fsdp')", [64, 32])
  # Adam's mu and nu follow their parameter: three split leaves per split parameter.
  assert fsdp['split_leaves']['params'] > 0
  assert fsdp['split_leaves']['state'] == 3 * fsdp['split_leaves']['params']
