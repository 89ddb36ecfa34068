#!/usr/bin/env bash
# Every measurement a GPU session owes, in one call (device time is scarce; see bench/README.md):
#   OUT=/some/dir bash bench/gpu_session.sh [SWEEP_VARIANTS]
# 1. bench/cuda_bench.py: recorded nvidia-smi/probe outputs, CRNN step images/s (CUDA fp32/bf16
#    vs this CPU), the real trainer end to end on CUDA;
# 2. at the same time, on disjoint cores: the LFM2.5-VL CUDA benchmark (bench/hf_bench.py) on
#    cores 0-3 and a CPU sweep of baseline variants (bench/baseline_sweep.py), two cores per run,
#    on the rest, its time scaled to this repository's reference 2-core machine (--reference-rate).
set -u
OUT=${OUT:-/tmp/gpu-session}
PY=${PYTHON:-python3}
VARIANTS=${1:-current,strided,early,strided-sub2,early-sub2,early-sub2-c256}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
pin() {
  local cores=$1; shift
  "$PY" -c 'import os, sys; os.sched_setaffinity(0, eval(sys.argv[1])); os.execvp(sys.argv[2], sys.argv[2:])' "$cores" "$@"
}
{
  echo "== machine"; nproc; grep -m1 'model name' /proc/cpuinfo; date -u
  "$PY" -c 'import torch, transformers, peft
print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)'
  echo "== cuda_bench"; "$PY" bench/cuda_bench.py --out "$OUT" --seconds 40
  cores=$(nproc); runs=$(( (cores - 4) / 2 )); (( runs > 6 )) && runs=6
  echo "== sweep ($runs runs) + hf_bench"
  "$PY" bench/baseline_sweep.py --variants "$(echo "$VARIANTS" | cut -d, -f1-"$runs")" --first-core 4 --cores-per-run 2 \
    --reference-rate "${REFERENCE_RATE:-223}" --minutes 10 --max-minutes "${SWEEP_MAX_MINUTES:-5}" \
    --json "$OUT/sweep.json" --output-dir /tmp/sweep &
  pin 'range(4)' "$PY" bench/hf_bench.py --cuda --steps 8 --json "$OUT/hf.json"
  wait
  echo "== done"; date -u
} 2>&1 | tee "$OUT/run.log"
