"""Two CPU processes joined by jax.distributed (gloo) train like one device.

Each process feeds only its half of the global batch
(`jax.make_array_from_process_local_data`); replicated and FSDP (the two
processes share each large parameter) must give the single-device losses.
"""

import json
import os
import subprocess
import sys

import jax
import ml_collections
import numpy as np
import portpicker
import pytest

import sharded_train_worker as worker
from wikiart_jax.parallel import distributed

WORKER = os.path.abspath(worker.__file__)


def _config(**fields):
  return ml_collections.ConfigDict({'distributed': dict(
      dict(coordinator_address='', num_processes=0, process_id=-1), **fields)})


def test_single_process_is_a_no_op(monkeypatch):
  for name in ('JAX_NUM_PROCESSES', 'JAX_PROCESS_ID', 'SLURM_JOB_ID',
               'OMPI_COMM_WORLD_SIZE'):
    monkeypatch.delenv(name, raising=False)
  assert distributed.initialize(_config()) is False
  assert distributed.initialize(_config(num_processes=1)) is False
  assert not jax.distributed.is_initialized()


def test_settings_come_from_the_environment_when_the_config_is_unset(monkeypatch):
  monkeypatch.setenv('JAX_COORDINATOR_ADDRESS', '10.0.0.1:1234')
  monkeypatch.setenv('JAX_NUM_PROCESSES', '4')
  monkeypatch.setenv('JAX_PROCESS_ID', '3')
  assert distributed.settings(_config()) == dict(
      coordinator_address='10.0.0.1:1234', num_processes=4, process_id=3)
  # The config wins over the environment.
  assert distributed.settings(_config(num_processes=2, process_id=0)) == dict(
      coordinator_address='10.0.0.1:1234', num_processes=2, process_id=0)


@pytest.mark.parametrize('fields, env, message', [
    (dict(num_processes=2, process_id=2), {}, 'outside 0..1'),
    (dict(num_processes=-1), {}, 'must be >= 1'),
    ({}, {'JAX_NUM_PROCESSES': 'two'}, 'JAX_NUM_PROCESSES'),
    (dict(num_processes=2), {}, 'no process id'),
])
def test_bad_settings_are_one_line_errors(monkeypatch, fields, env, message):
  for name in ('JAX_NUM_PROCESSES', 'JAX_PROCESS_ID', 'SLURM_JOB_ID',
               'OMPI_COMM_WORLD_SIZE'):
    monkeypatch.delenv(name, raising=False)
  for name, value in env.items():
    monkeypatch.setenv(name, value)
  with pytest.raises(ValueError, match=message):
    distributed.initialize(_config(**fields))


@pytest.mark.slow  # two processes, four compilations: ~1 min of shared CPU
def test_two_processes_train_like_one_device():
  reference = worker.train_losses(fsdp=1, devices=jax.devices()[:1])
  port = portpicker.pick_unused_port()
  env = {k: v for k, v in os.environ.items() if k != 'XLA_FLAGS'}
  env['JAX_PLATFORMS'] = 'cpu'
  procs = [subprocess.Popen(
      [sys.executable, WORKER, '--fsdp', '1,2', '--num_processes', '2',
       '--process_id', str(i), '--port', str(port)],
      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
      for i in range(2)]
  outputs = []
  for proc in procs:
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    outputs.append(json.loads(stdout.strip().splitlines()[-1]))
  assert sorted(o['process_index'] for o in outputs) == [0, 1]
  for out in outputs:
    assert out['devices'] == 2
    for run in out['runs'].values():
      np.testing.assert_allclose(run['losses'], reference['losses'], rtol=1e-5)
      np.testing.assert_allclose(run['param_norm'], reference['param_norm'], rtol=1e-5)
    # FSDP over the two processes: each holds half of the MLP kernel.
    assert out['runs']['2']['fc1_local_shape'] == [64, 64]
