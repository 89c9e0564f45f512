"""A few train steps of a tiny classifier on a device mesh; shared by the sharding tests.

Imported by the tests for the one-device reference, and run as a script in
subprocesses with 8 fake CPU devices or as one of several `jax.distributed`
processes. Prints one JSON line: the losses of each step per requested mesh.

  python sharded_train_worker.py --fsdp 1,4 [--num_processes 2 --process_id 0 --port N]
"""

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'configs'))

import jax  # pylint: disable=g-import-not-at-top
import ml_collections
import numpy as np
import optax

import demo
from wikiart_jax import factory
from wikiart_jax.data import metadata
from wikiart_jax.models import parts as parts_lib
from wikiart_jax.parallel import distributed
from wikiart_jax.parallel import sharding
from wikiart_jax.train import optimizer
from wikiart_jax.train import state as state_lib
from wikiart_jax.train import step as step_lib

BATCH = 16
NUM_STEPS = 3
MIN_SHARD_SIZE = 1024  # small enough that the tiny model's kernels are split


def tiny_config(grad_accum_steps: int = 1) -> ml_collections.ConfigDict:
  """demo.py:tiny in float32 without dropout: runs must agree to rounding."""
  config = demo.get_config('tiny')
  config.model.dtype = 'float32'
  config.model.dropout = 0.0
  config.model.num_layers = 1  # compile time dominates these tests
  config.data.image_size = 16
  config.data.batch_size = BATCH
  config.train.num_steps = 10
  config.train.warmup_steps = 0  # optax's warm-up starts at 0: step 0 would not move
  config.train.grad_accum_steps = grad_accum_steps
  return config


def vocab(num_artists: int = 7) -> metadata.Vocabularies:
  return metadata.Vocabularies.build([(f'artist-{i}', None) for i in range(num_artists)])


def batches(config: ml_collections.ConfigDict, num_steps: int, num_artists: int = 7,
            seed: int = 0) -> list[dict]:
  """Global numpy batches; some genre labels missing (-1), as in WikiArt."""
  rng = np.random.default_rng(seed)
  size = config.data.image_size
  out = []
  for _ in range(num_steps):
    genre = rng.integers(0, 10, BATCH).astype(np.int32)
    genre[rng.random(BATCH) < 0.3] = -1
    out.append({
        'image': rng.normal(size=(BATCH, size, size, 3)).astype(np.float32),
        'style': rng.integers(0, 27, BATCH).astype(np.int32),
        'artist': rng.integers(0, num_artists, BATCH).astype(np.int32),
        'genre': genre,
        'year': np.full(BATCH, 1900, np.int32),
        'period': np.full(BATCH, 20, np.int32),  # 1900's bin, as the pipeline adds it
    })
  return out


def train_losses(fsdp: int = 1, devices=None, num_steps: int = NUM_STEPS) -> dict:
  """Trains from the same init on the same batches on a (data, fsdp) mesh.

  Each process feeds only its own rows of the global batch. Returns the loss of
  every step, the final parameter norm, how many parameter / state leaves are
  split over devices, and the layout of an MLP kernel after training (spec and
  this process's shard shape).
  """
  config = tiny_config()
  mesh = sharding.make_mesh(fsdp, devices)
  model = factory.build_model(config, vocab())
  parts = parts_lib.split(model)
  tx = optimizer.make_optimizer(config.train, parts.params)
  state = state_lib.create(parts.params, tx)
  state_sharding = sharding.state_shardings(state, mesh, MIN_SHARD_SIZE)
  state = sharding.shard_state(state, mesh, MIN_SHARD_SIZE)
  train_step = step_lib.make_train_step(
      parts, tx, config.train, optimizer.make_schedule(config.train),
      dropout_key=jax.random.key(1), state_sharding=state_sharding, mesh=mesh)
  rows = BATCH // jax.process_count()
  mine = slice(jax.process_index() * rows, (jax.process_index() + 1) * rows)
  losses = []
  for batch in batches(config, num_steps):
    local = {k: v[mine] for k, v in batch.items()}
    state, metrics = train_step(state, {
        k: jax.make_array_from_process_local_data(sharding.batch_sharding(mesh), v)
        for k, v in local.items()})
    losses.append(float(metrics.compute()['loss']))
  norm = jax.jit(optax.tree.norm, out_shardings=sharding.replicated(mesh))(state.params)
  kernel = state.params['backbone']['layers'][0]['mlp']['fc1']['kernel'].get_value()
  split = lambda tree: sum(not x.sharding.is_fully_replicated for x in jax.tree.leaves(tree))
  return {'losses': losses, 'param_norm': float(norm),
          'split_leaves': {'params': split(state.params), 'state': split(state)},
          'fc1_spec': str(kernel.sharding.spec),
          'fc1_local_shape': list(kernel.addressable_shards[0].data.shape)}


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument('--fsdp', default='1', help='comma-separated fsdp sizes, one run each')
  parser.add_argument('--num_processes', type=int, default=1)
  parser.add_argument('--process_id', type=int, default=0)
  parser.add_argument('--port', type=int, default=0)
  args = parser.parse_args()
  config = ml_collections.ConfigDict({'distributed': {
      'coordinator_address': f'127.0.0.1:{args.port}' if args.port else '',
      'num_processes': args.num_processes, 'process_id': args.process_id}})
  distributed.initialize(config)
  results = {f: train_losses(int(f)) for f in args.fsdp.split(',')}
  print(json.dumps({'process_index': jax.process_index(),
                    'devices': jax.device_count(), 'runs': results}), flush=True)


if __name__ == '__main__':
  main()
