"""The same training run from two versions of the trainer, side by side: did a change cost speed or accuracy?

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/code_before_after.py --before /tmp/before [--minutes 10] [--config examples/baseline.yaml]

Both runs start at once, each pinned to its own core (`taskset`), so load from other processes hits
both alike (alternating runs on a shared 2-core machine drift with whatever else runs). Each run is
`python -m vin_ocr train CONFIG --max-minutes M` with `PYTHONPATH` pointing at that tree's
`trainer/`, in the same interpreter. Printed per tree: the median images/s of its progress events
after the first minute, the steps it trained, and its held-out metrics (the run's own last
evaluation of its val split: for examples/baseline.yaml, 1,000 synthetic VINs no run trains on).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WARM_UP_SECONDS = 60.0


def start_run(tree: Path, core: int, config: Path, minutes: float, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(tree / "trainer")}
    command = [
        "taskset",
        "-c",
        str(core),
        sys.executable,
        "-m",
        "vin_ocr",
        "train",
        str(config),
    ]
    command += [
        "--max-minutes",
        str(minutes),
        "--output-dir",
        str(out / "runs"),
        "--events",
        str(out / "events.jsonl"),
    ]
    # The child keeps its own copy of the log's descriptor.
    with open(out / "train.log", "wb") as log:
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)


def summarise(events_file: Path) -> dict[str, Any]:
    events = [json.loads(line) for line in events_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    rates = [e["samples_per_sec"] for e in events if e["event"] == "progress" and e.get("elapsed_seconds", 0) >= WARM_UP_SECONDS]
    held_out = [e for e in events if e["event"] == "eval" and e["split"] == "val"]
    finished = [e for e in events if e["event"] == "run_finished"]
    steps = max((e["step"] for e in events if e["event"] == "progress"), default=0)
    metrics = held_out[-1]["metrics"] if held_out else {}
    return {
        "status": finished[-1]["status"] if finished else "no run_finished",
        "images_per_sec": statistics.median(rates) if rates else None,
        "steps": steps,
        "exact_match": metrics.get("exact_match"),
        "cer": metrics.get("cer"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--before",
        required=True,
        type=Path,
        help="the other tree (e.g. a git worktree of an older commit)",
    )
    parser.add_argument("--after", type=Path, default=ROOT, help="this tree by default")
    parser.add_argument("--config", type=Path, default=ROOT / "examples" / "baseline.yaml")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", type=Path, help="keep both runs (events, logs, checkpoints) in this folder")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        print("needs two cores: one per run", file=sys.stderr)
        return 2
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="vin-ocr-before-after-") as temporary:
        scratch = str(args.keep or temporary)
        outs = {name: Path(scratch) / name for name in ("before", "after")}
        runs = {}
        for (name, tree), core in zip((("before", args.before), ("after", args.after)), cores):
            outs[name].mkdir(parents=True)
            runs[name] = start_run(tree.resolve(), core, args.config.resolve(), args.minutes, outs[name])
        codes = {name: run.wait() for name, run in runs.items()}
        results = {name: {"exit": codes[name], **summarise(outs[name] / "events.jsonl")} for name in runs}
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    print(f"{'tree':8} {'exit':>4} {'status':10} {'images/s':>9} {'steps':>7} {'exact':>10} {'CER':>9}")
    for name, result in results.items():
        rate = f"{result['images_per_sec']:.1f}" if result["images_per_sec"] is not None else "-"
        exact = f"{100 * result['exact_match']:.1f}%" if result["exact_match"] is not None else "-"
        cer = f"{100 * result['cer']:.2f}%" if result["cer"] is not None else "-"
        print(f"{name:8} {result['exit']:>4} {result['status']:10} {rate:>9} {result['steps']:>7} {exact:>10} {cer:>9}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"minutes": args.minutes, "config": str(args.config), **results},
                indent=2,
            )
            + "\n"
        )
    return 0 if all(code == 0 for code in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
