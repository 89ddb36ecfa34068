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
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "trainer"))
sys.path.insert(0, str(ROOT / "bench"))
# The trainer's modules and baseline_sweep are imported inside the functions, after the paths.

# The extension's query (src/core/hardware/nvidia-smi.ts).
NVIDIA_QUERY = ["name", "memory.total", "driver_version", "compute_cap"]
CSV = "--format=csv,noheader,nounits"


def record_outputs() -> dict[str, Any]:
    recorded: dict[str, Any] = {}
    query, query_no_cc = ",".join(NVIDIA_QUERY), ",".join(NVIDIA_QUERY[:3])
    commands = {
        "nvidia-smi-query": ["nvidia-smi", f"--query-gpu={query}", CSV],
        "nvidia-smi-query-no-cc": ["nvidia-smi", f"--query-gpu={query_no_cc}", CSV],
        "nvidia-smi-table": ["nvidia-smi"],
        "probe": [sys.executable, "-m", "vin_ocr", "hardware", "--json"],
    }
    env = dict(os.environ, PYTHONPATH=str(ROOT / "trainer"))
    for name, command in commands.items():
        if shutil.which(command[0]) is None:
            recorded[name] = "not found"
            continue
        started = time.perf_counter()
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        recorded[name] = {
            "exit": done.returncode,
            "ms": round((time.perf_counter() - started) * 1000),
            "stdout": done.stdout,
            "stderr": done.stderr[-4000:],
        }
    return recorded


def model_section(device: str, seconds: float) -> list[dict[str, Any]]:
    from vin_ocr.families.baseline import BaselineModel
    from vin_ocr.models import build_model

    # bench/baseline_sweep.py, by name: not the trainer's package.
    sweep = importlib.import_module("baseline_sweep")
    cpu_threads = torch.get_num_threads()
    rows: list[dict[str, Any]] = []

    def add(row: dict[str, Any], model: torch.nn.Module, dtype: Any) -> None:
        torch.manual_seed(0)
        rate = sweep.step_rate(model, row["device"], row["batch"], dtype, seconds)
        rows.append({**row, "img_s": round(rate, 1)})

    for threads in sorted({1, cpu_threads}):
        torch.set_num_threads(threads)
        row = {"device": "cpu", "threads": threads, "dtype": "fp32", "batch": 16}
        add(row, build_model(BaselineModel()), None)
    torch.set_num_threads(cpu_threads)
    for batch in (64, 256, 1024):
        for dtype, name in ((None, "fp32"), (torch.bfloat16, "bf16")):
            row = {"device": device, "dtype": name, "batch": batch}
            add(row, build_model(BaselineModel()), dtype)
    for variant, build in sweep.VARIANTS.items():
        row = {"device": device, "variant": variant, "dtype": "bf16", "batch": 256}
        add(row, build(BaselineModel()), torch.bfloat16)
    return rows


def trainer_section(device: str, seconds: float) -> dict[str, Any]:
    import yaml

    example = ROOT / "examples" / "baseline.yaml"
    raw = yaml.safe_load(example.read_text(encoding="utf-8"))
    schedule = {"batch_size": 256, "max_minutes": seconds / 60, "eval_every": 10**9}
    raw["training"].update({**schedule, "device": device})
    raw["data"]["val"] = None
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "cuda.yaml"
        raw["output_dir"] = str(Path(folder) / "runs")
        config.write_text(yaml.safe_dump(raw), encoding="utf-8")
        events = Path(folder) / "events.jsonl"
        env = dict(os.environ, PYTHONPATH=str(ROOT / "trainer"))
        train = [sys.executable, "-m", "vin_ocr", "train", str(config)]
        done = subprocess.run(
            [*train, "--events", str(events)],
            capture_output=True,
            text=True,
            env=env,
            timeout=seconds + 240,
            check=False,
        )
        text = events.read_text() if events.exists() else ""
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    started = next((e for e in lines if e.get("event") == "run_started"), {})
    progress = [e for e in lines if e.get("event") == "progress"]
    warm = min(15.0, seconds / 3)
    steady = [e for e in progress if e["elapsed_seconds"] >= warm]
    rate = None
    if len(steady) >= 2:
        first, last = steady[0], steady[-1]
        elapsed = last["elapsed_seconds"] - first["elapsed_seconds"]
        rate = (last["step"] - first["step"]) * 256 / elapsed
    workers = [line for line in done.stderr.splitlines() if "render worker" in line]
    return {
        "exit": done.returncode,
        "device": started.get("device"),
        "dtype": started.get("dtype"),
        "batch": 256,
        "steps": progress[-1]["step"] if progress else 0,
        "img_s_steady": None if rate is None else round(rate, 1),
        "workers_line": workers[0] if workers else None,
        "stderr_tail": done.stderr[-3000:],
    }


def _cpu_bf16_flags() -> list[str]:
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return []
    return sorted({flag for flag in flags if "bf16" in flag or flag.startswith("amx")})


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True)
    seconds_help = "end-to-end trainer run"
    parser.add_argument("--seconds", type=float, default=45.0, help=seconds_help)
    parser.add_argument("--dry-run", action="store_true")
    names = ("recorded", "model", "trainer")
    parser.add_argument("--only", nargs="+", choices=names, help="run only these")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = "cpu" if args.dry_run else "cuda"
    step_seconds = 0.5 if args.dry_run else 3.0
    trainer_seconds = 20.0 if args.dry_run else args.seconds
    cuda = torch.cuda.is_available()
    report: dict[str, Any] = {
        "torch": torch.__version__,
        "cpu_flags_bf16": _cpu_bf16_flags(),
        "cuda": torch.version.cuda,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
        "cpu_cores": os.cpu_count(),
    }
    sections: dict[str, Callable[[], Any]] = {
        "recorded": record_outputs,
        "model": lambda: model_section(device, step_seconds),
        "trainer": lambda: trainer_section(device, trainer_seconds),
    }
    for name, run in sections.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        try:
            report[name] = run()
        except Exception:  # noqa: BLE001 - one broken section must not hide the others
            report[name] = {"error": traceback.format_exc()[-3000:]}
        took = time.perf_counter() - started
        print(f"[{name}] {took:.1f} s: {json.dumps(report[name])[:3000]}", flush=True)
    (out / "cuda-bench.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
