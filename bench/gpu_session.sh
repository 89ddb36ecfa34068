#!/usr/bin/env bash
# Every measurement a GPU session owes, in one call (device time is scarce; see bench/README.md):
#   OUT=/some/dir bash bench/gpu_session.sh [SWEEP_VARIANTS]
# 1. bench/cuda_bench.py: recorded nvidia-smi/probe outputs, CRNN step images/s (CUDA fp32/bf16
#    vs this CPU), the real trainer end to end on CUDA;
# 2. at the same time, on disjoint cores: the LFM2.5-VL CUDA benchmark (bench/hf_bench.py) on
#    cores 0-3 and a CPU sweep of baseline variants (bench/baseline_sweep.py), two cores per run,
#    on the rest, its time scaled to this repository's reference 2-core machine (--reference-rate).
# 3. bench/data_path_bench.py --trainer (issue 16, feeding the GPU): the CRNN alone vs the trainer end to
#    end, images/s, with live rendering and with the render cache (cold, then warm), alone on the machine
#    because rendering takes every core. ~5 minutes with the default FEED_SECONDS=60.
# 4. (ONLY=pretrain) a 5-minute burst of pretraining for the shipped reader (issue 12): examples/pretrain-gpu.yaml
#    into $OUT (the run folder comes back; publish it here if bench/heldout_report.py says it beats the shipped one).
# One part alone (when device time is short):  ONLY=feed|pretrain|feed,pretrain OUT=DIR bash bench/gpu_session.sh
#   (one command may run 10 minutes: ONLY=feed,pretrain FEED_SECONDS=30 PRETRAIN_MINUTES=4 takes ~9 with the cache's
#   build; 8 files come back at most, so the run keeps config, events, log, metrics and best.pt only)
# Record its output as the earlier H200 runs were: $OUT/feed.json → bench/results/<gpu>-<date>-feed.json,
# with an "_about" line giving the command and the machine.
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
feed() {
  echo "== data path (trainer vs model alone; live, cache cold, cache warm)"
  "$PY" bench/data_path_bench.py --trainer --device cuda --batch 256 --seconds "${FEED_SECONDS:-60}" \
    --json "$OUT/feed.json"
}
pretrain() {
  echo "== pretraining burst (examples/pretrain-gpu.yaml, ${PRETRAIN_MINUTES:-5} min)"
  PYTHONPATH=trainer XDG_CACHE_HOME="$OUT/.cache" "$PY" -m vin_ocr train examples/pretrain-gpu.yaml \
    --output-dir "$OUT" --max-minutes "${PRETRAIN_MINUTES:-5}" --device cuda
  rm -rf "$OUT/.cache"  # the render cache stays on the machine: only the run folder comes back,
  rm -f "$OUT"/*/events.out.tfevents.* "$OUT"/*/checkpoints/last.pt  # and within the 8 files a run may bring back
}
if [[ ${ONLY:-all} != all ]]; then
  {
    echo "== machine"; nproc; grep -m1 'model name' /proc/cpuinfo; date -u
    [[ ,$ONLY, == *,feed,* ]] && feed
    [[ ,$ONLY, == *,pretrain,* ]] && pretrain
    echo "== done"; date -u
  } 2>&1 | tee "$OUT/run.log"
  exit 0
fi
{
  echo "== machine"; nproc; grep -m1 'model name' /proc/cpuinfo; date -u
  "$PY" -c 'import torch, transformers, peft
print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)'
  echo "== cuda_bench"; "$PY" bench/cuda_bench.py --out "$OUT" --seconds 40
  feed
  cores=$(nproc); runs=$(( (cores - 4) / 2 )); (( runs > 6 )) && runs=6
  echo "== sweep ($runs runs) + hf_bench"
  "$PY" bench/baseline_sweep.py --variants "$(echo "$VARIANTS" | cut -d, -f1-"$runs")" --first-core 4 --cores-per-run 2 \
    --reference-rate "${REFERENCE_RATE:-223}" --minutes 10 --max-minutes "${SWEEP_MAX_MINUTES:-5}" \
    --json "$OUT/sweep.json" --output-dir /tmp/sweep &
  pin 'range(4)' "$PY" bench/hf_bench.py --cuda --steps 8 --json "$OUT/hf.json"
  wait
  echo "== done"; date -u
} 2>&1 | tee "$OUT/run.log"
