#!/usr/bin/env bash
# The train-step benchmark (benchmarks/train_step.py) on a lent GPU machine, which has
# jax (CUDA), flax, optax, orbax, torch and timm but not ml_collections, clu, grain,
# nor TensorFlow (bench never imports it).
#
# Here, once, from the project root:   bash ../shared/gpu/fetch_wheels.sh   (fills .whl/)
# There, from the project root:        bash benchmarks/gpu_bench.sh [--config.bench.steps=50]
# Arguments are passed to every `launch.py --config.mode=bench` run.
set -euo pipefail
cd "$(dirname "$0")/.."
ls .whl/*.whl > /dev/null  # fails early when fetch_wheels.sh was not run
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
  --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 benchmarks/train_step.py --workdir=/tmp/bench -- "$@"
