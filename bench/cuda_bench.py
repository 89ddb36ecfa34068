"""CUDA benchmark of the baseline, and recorded hardware outputs from a real GPU machine.

    python bench/cuda_bench.py --out DIR [--seconds 45] [--only SECTION…] [--dry-run]

1. records what the extension and the trainer read on this machine (for test fixtures): nvidia-smi
   with the extension's exact query (with and without compute_cap), nvidia-smi's plain table, and
   `python -m vin_ocr hardware --json`;
2. the CRNN's training step in images/s with made-up tensors: CUDA fp32 and bf16 autocast at
   several batch sizes, against this machine's CPU (one thread, and every core), so the speed-up
   is the model's own; the sweep's variants are timed too (bf16, batch 256);
3. the real trainer end to end on CUDA (`python -m vin_ocr train`, precision auto = bf16 on
   compute capability >= 8.0, batch 256), images/s from its progress events: renderer included.
`--dry-run` runs every section on the CPU with tiny durations, to check the script without a GPU.
Each section reports its own failure and the others still run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "trainer"))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402

NVIDIA_QUERY = ["name", "memory.total", "driver_version", "compute_cap"]  # src/core/hardware/nvidia-smi.ts


def record_outputs() -> dict[str, Any]:
    recorded: dict[str, Any] = {}
    commands = {
        "nvidia-smi-query": ["nvidia-smi", f"--query-gpu={','.join(NVIDIA_QUERY)}", "--format=csv,noheader,nounits"],
        "nvidia-smi-query-no-cc": ["nvidia-smi", f"--query-gpu={','.join(NVIDIA_QUERY[:3])}", "--format=csv,noheader,nounits"],
        "nvidia-smi-table": ["nvidia-smi"],
        "probe": [sys.executable, "-m", "vin_ocr", "hardware", "--json"],
    }
    env = dict(os.environ, PYTHONPATH=str(ROOT / "trainer"))
    for name, command in commands.items():
        if shutil.which(command[0]) is None:
            recorded[name] = "not found"
            continue
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
        recorded[name] = {"exit": done.returncode, "ms": round((time.perf_counter() - started) * 1000),
                          "stdout": done.stdout, "stderr": done.stderr[-4000:]}
    return recorded


def model_section(device: str, seconds: float) -> list[dict[str, Any]]:
    from baseline_sweep import VARIANTS, step_rate

    from vin_ocr.config import ModelConfig
    from vin_ocr.models import build_model

    rows = []
    cpu_threads = torch.get_num_threads()
    for threads in sorted({1, cpu_threads}):
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        rows.append({"device": "cpu", "threads": threads, "dtype": "fp32", "batch": 16,
                     "img_s": round(step_rate(build_model(ModelConfig()), "cpu", 16, None, seconds), 1)})
    torch.set_num_threads(cpu_threads)
    for batch in (64, 256, 1024):
        for dtype, name in ((None, "fp32"), (torch.bfloat16, "bf16")):
            torch.manual_seed(0)
            rows.append({"device": device, "dtype": name, "batch": batch,
                         "img_s": round(step_rate(build_model(ModelConfig()), device, batch, dtype, seconds), 1)})
    for variant, build in VARIANTS.items():
        torch.manual_seed(0)
        rows.append({"device": device, "variant": variant, "dtype": "bf16", "batch": 256,
                     "img_s": round(step_rate(build(ModelConfig()), device, 256, torch.bfloat16, seconds), 1)})
    return rows


def trainer_section(device: str, seconds: float) -> dict[str, Any]:
    import yaml

    raw = yaml.safe_load((ROOT / "examples" / "baseline.yaml").read_text(encoding="utf-8"))
    raw["training"].update({"batch_size": 256, "max_minutes": seconds / 60, "eval_every": 10**9, "device": device})
    raw["data"]["val"] = None
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "cuda.yaml"
        raw["output_dir"] = str(Path(folder) / "runs")
        config.write_text(yaml.safe_dump(raw), encoding="utf-8")
        events = Path(folder) / "events.jsonl"
        env = dict(os.environ, PYTHONPATH=str(ROOT / "trainer"))
        done = subprocess.run([sys.executable, "-m", "vin_ocr", "train", str(config), "--events", str(events)],
                              capture_output=True, text=True, env=env, timeout=seconds + 240)
        lines = [json.loads(line) for line in events.read_text().splitlines() if line.strip()] if events.exists() else []
    started = next((e for e in lines if e.get("event") == "run_started"), {})
    progress = [e for e in lines if e.get("event") == "progress"]
    steady = [e for e in progress if e["elapsed_seconds"] >= min(15.0, seconds / 3)]
    rate = None
    if len(steady) >= 2:
        rate = (steady[-1]["step"] - steady[0]["step"]) * 256 / (steady[-1]["elapsed_seconds"] - steady[0]["elapsed_seconds"])
    return {"exit": done.returncode, "device": started.get("device"), "dtype": started.get("dtype"),
            "batch": 256, "steps": progress[-1]["step"] if progress else 0,
            "img_s_steady": None if rate is None else round(rate, 1),
            "workers_line": next((line for line in done.stderr.splitlines() if "render worker" in line), None),
            "stderr_tail": done.stderr[-3000:]}


def _cpu_bf16_flags() -> list[str]:
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return []
    return sorted({flag for flag in flags if "bf16" in flag or flag.startswith("amx")})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=float, default=45.0, help="end-to-end trainer run")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--only", nargs="+", choices=("recorded", "model", "trainer"), help="run only these sections")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = "cpu" if args.dry_run else "cuda"
    step_seconds = 0.5 if args.dry_run else 3.0
    report: dict[str, Any] = {"torch": torch.__version__, "cpu_flags_bf16": _cpu_bf16_flags(), "cuda": torch.version.cuda,
                              "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                              "cpu_cores": os.cpu_count()}
    sections: dict[str, Callable[[], Any]] = {
        "recorded": record_outputs,
        "model": lambda: model_section(device, step_seconds),
        "trainer": lambda: trainer_section(device, 20.0 if args.dry_run else args.seconds),
    }
    for name, run in sections.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        try:
            report[name] = run()
        except Exception:  # noqa: BLE001 - one broken section must not hide the others' figures
            report[name] = {"error": traceback.format_exc()[-3000:]}
        print(f"[{name}] {time.perf_counter() - started:.1f} s: {json.dumps(report[name])[:3000]}", flush=True)
    (out / "cuda-bench.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
