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
#   2. peak memory of every 24 GB config as bench runs it (its micro-batches and stage);
#      2b. the BLIP-2 configs' (random weights at the released sizes)
#   3. the cuDNN / XLA attention agreement tests and the CUDA lowering tests, on the GPU
#   4. generation: GPT-2 small and GIT-base, batch 1 and 64, 32 new tokens, vs generate();
#      4b. BLIP-2 with OPT-2.7B and Flan-T5-XL at their released sizes, batch 1 and 8
#   5. inference: the B/16 classifier at batch 256 vs timm under bf16 autocast
#
# Rehearsal on a CPU, before GPU time is spent (every part, tiny sizes, minutes):
#   GPU_BENCH_REHEARSAL=1 PYTHON=.venv/bin/python bash benchmarks/gpu_bench.sh
# runs the same commands with one layer, batch 2, 2 steps (no torch.compile), the
# tiny GPT-2 / GIT and the demo classifier, and the attention / lowering tests but
# the slow ones; PYTHON with the project installed skips the wheels.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [[ -z ${PYTHON:-} ]]; then
  if ! ls .whl/*.whl > /dev/null 2>&1; then
    echo 'error: no .whl/ here: run bash ../shared/gpu/fetch_wheels.sh first' >&2
    exit 1
  fi
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

# The rehearsal's sizes come after the real ones: the last value of a flag wins.
train_extra=() gen_extra=() predict_extra=() test_extra=()
if [[ ${GPU_BENCH_REHEARSAL:-0} == 1 ]]; then
  echo 'REHEARSAL: tiny sizes, the figures mean nothing'
  train_extra=(--config.data.batch_size=2 --config.train.grad_accum_steps=1
    --config.model.num_layers=1 --config.bench.steps=2 --config.bench.warmup_steps=1
    --config.bench.torch_compile=False)
  gen_extra=(--models=gpt2-tiny,git-tiny --batches=1,2 --new_tokens=4 --repeats=1)
  predict_extra=(--models=demo --batches=2 --repeats=1)
  if ! "$PY" -c 'import timm' 2> /dev/null; then  # the GPU image has it; a CPU venv may not
    echo 'REHEARSAL: no timm here: part 5 runs against transformers instead'
    predict_extra+=(--baseline=transformers)
  fi
  test_extra=(-m 'not slow')
fi

failed=()
part() {  # part <title> <command...>: runs it, notes a failure, carries on
  local title=$1
  shift
  echo "=== ${title}: $*"
  "$@" || failed+=("${title}")
}

part '1a. ViT-B/16 train step vs timm torch.compile' \
  "$PY" benchmarks/train_step.py --workdir=/tmp/bench/speed \
  --configs=configs/vit_b16_multitask.py -- --config.data.batch_size=128 \
  --config.train.grad_accum_steps=1 --config.bench.torch_compile=True "$@" "${train_extra[@]}"
part '1b. CLIP ViT-L/14 train step vs timm eager' \
  "$PY" benchmarks/train_step.py --workdir=/tmp/bench/speed \
  --configs=configs/vit_l14_clip_multitask.py -- --config.data.batch_size=64 \
  --config.train.grad_accum_steps=1 --config.bench.torch_compile=False "$@" "${train_extra[@]}"
part '2. peak memory of every 24 GB config' \
  "$PY" benchmarks/train_step.py --workdir=/tmp/bench/memory -- \
  --config.bench.torch=False "$@" "${train_extra[@]}"
if [[ ${GPU_BENCH_REHEARSAL:-0} != 1 ]]; then  # released sizes only: too big for a CPU rehearsal
  part '2b. peak memory of the BLIP-2 24 GB configs' \
    "$PY" benchmarks/train_step.py --workdir=/tmp/bench/memory \
    --configs=configs/blip2_opt27b_caption.py,configs/blip2_flant5xl_caption.py -- "$@"
fi
part '3. cuDNN / XLA attention and CUDA lowering tests' \
  "$PY" -m pytest -q -p no:cacheprovider tests/models/test_attention.py \
  tests/test_cuda_lowering.py "${test_extra[@]}"
part '4. generation vs transformers generate()' \
  "$PY" benchmarks/generate.py --models=gpt2-small,git-base --batches=1,64 --new_tokens=32 \
  "${gen_extra[@]}"
if [[ ${GPU_BENCH_REHEARSAL:-0} != 1 ]]; then  # released sizes only
  part '4b. BLIP-2 generation (OPT-2.7B, Flan-T5-XL) vs transformers generate()' \
    "$PY" benchmarks/generate.py --models=blip2-opt-2.7b,blip2-flan-t5-xl --batches=1,8 \
    --prompt=8 --new_tokens=32
fi
part '5. inference vs timm bf16 autocast' \
  "$PY" benchmarks/predict.py --models=b16 --batches=256 --baseline=timm --dtype=bfloat16 \
  "${predict_extra[@]}"

if ((${#failed[@]})); then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo 'all parts ran'
