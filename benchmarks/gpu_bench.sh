#!/usr/bin/env bash
# The GPU figures (issue 18) in one run on a lent GPU machine, which has jax (CUDA),
# flax, optax, orbax, torch, timm, transformers and pytest but not ml_collections,
# clu, grain nor TensorFlow (nothing run here imports it).
#
# Here, once, from the project root:   bash ../shared/gpu/fetch_wheels.sh   (fills .whl/)
# There, from the project root:        bash benchmarks/gpu_bench.sh [--config.bench.steps=50]
# Arguments are passed to every `launch.py --config.mode=bench` run. Each part runs even
# when an earlier one failed (its figures are kept); the exit status says if any failed.
#   1. train step against timm: ViT-B/16 batch 128 vs timm torch.compile, CLIP L/14
#      batch 64 vs timm eager (bf16, AdamW, 224 px): images/s, TFLOP/s, MFU, peak memory
#   2. peak memory of every 24 GB config as bench runs it (its micro-batches and stage)
#   3. the cuDNN / XLA attention agreement tests and the CUDA lowering tests, on the GPU
#   4. generation: GPT-2 small and GIT-base, batch 1 and 64, 32 new tokens, vs generate()
#   5. inference: the B/16 classifier at batch 256 vs timm under bf16 autocast
set -uo pipefail
cd "$(dirname "$0")/.."
if ! ls .whl/*.whl > /dev/null 2>&1; then
  echo 'error: no .whl/ here: run bash ../shared/gpu/fetch_wheels.sh first' >&2
  exit 1
fi
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
  --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

failed=()
part() {  # part <title> <command...>: runs it, notes a failure, carries on
  local title=$1
  shift
  echo "=== ${title}: $*"
  "$@" || failed+=("${title}")
}

part '1a. ViT-B/16 train step vs timm torch.compile' \
  python3 benchmarks/train_step.py --workdir=/tmp/bench/speed \
  --configs=configs/vit_b16_multitask.py -- --config.data.batch_size=128 \
  --config.train.grad_accum_steps=1 --config.bench.torch_compile=True "$@"
part '1b. CLIP ViT-L/14 train step vs timm eager' \
  python3 benchmarks/train_step.py --workdir=/tmp/bench/speed \
  --configs=configs/vit_l14_clip_multitask.py -- --config.data.batch_size=64 \
  --config.train.grad_accum_steps=1 --config.bench.torch_compile=False "$@"
part '2. peak memory of every 24 GB config' \
  python3 benchmarks/train_step.py --workdir=/tmp/bench/memory -- \
  --config.bench.torch=False "$@"
part '3. cuDNN / XLA attention and CUDA lowering tests' \
  python3 -m pytest -q -p no:cacheprovider tests/models/test_attention.py \
  tests/test_cuda_lowering.py
part '4. generation vs transformers generate()' \
  python3 benchmarks/generate.py --models=gpt2-small,git-base --batches=1,64 --new_tokens=32
part '5. inference vs timm bf16 autocast' \
  python3 benchmarks/predict.py --models=b16 --batches=256 --baseline=timm --dtype=bfloat16

if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo 'all parts ran'
