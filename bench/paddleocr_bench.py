"""PaddleOCR as a VIN OCR family, measured (issue 13's benchmarks).

    .venv/bin/python bench/paddleocr_bench.py overhead [--steps 12] [--batch-size 8] [--rounds 2]
    .venv/bin/python bench/paddleocr_bench.py ten-minutes [--minutes 10]

Needs PaddlePaddle's environment (``scripts/setup-paddle.sh`` → ``.paddle-venv``, or ``VIN_OCR_PADDLE_PYTHON``)
and a PaddleOCR clone (``--clone``, default ``../shared/vendor/PaddleOCR``).

* ``overhead``: samples/s of the same fine-tune through ``python -m vin_ocr train`` and through
  ``tools/train.py`` run by hand with the very command our run logged (same derived config, same ``-o``),
  alternating, ``--rounds`` each; samples/s is PaddleOCR's own ``ips`` (samples over batch time), median over
  the steps after the first two.
* ``ten-minutes``: ``examples/paddleocr.yaml`` from random weights for ``--minutes`` on synthetic VINs
  (shortened epochs so that PaddleOCR saves within the budget), then exact match on the held-out synthetic
  set, read by our reader of the exported model.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CLONE = ROOT.parent / "shared" / "vendor" / "PaddleOCR"
PADDLE = Path(os.environ.get("VIN_OCR_PADDLE_PYTHON") or ROOT / ".paddle-venv" / "bin" / "python")
IPS = re.compile(r"global_step: (\d+),.*? ips: ([0-9.]+) samples/s")


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "trainer"), "VIN_OCR_PADDLE_PYTHON": str(PADDLE)}


def write_config(folder: Path, clone: Path, **changes: Any) -> Path:
    config = yaml.safe_load((ROOT / "examples" / "paddleocr.yaml").read_text(encoding="utf-8"))
    config["paddleocr"]["repo"] = str(clone)
    for section, values in changes.items():
        config.setdefault(section, {}).update(values)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def ours(config: Path) -> tuple[Path, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "vin_ocr", "train", str(config), "--events", "-"],
        capture_output=True,
        text=True,
        env=environment(),
        check=True,
    )
    run_dir = Path(json.loads(done.stdout.splitlines()[0])["run_dir"])
    return run_dir, time.perf_counter() - started


def by_hand(run_dir: Path, clone: Path, output: Path) -> tuple[Path, float]:
    """The command our run logged, with its own output folder, run the way a user runs it."""
    line = next(text for text in (run_dir / "train.log").read_text().splitlines() if "PaddleOCR: " in text)
    command = line.split("PaddleOCR: ", 1)[1].split(" ")
    command = [f"Global.save_model_dir={output}" if part.startswith("Global.save_model_dir=") else part for part in command]
    log = output.with_suffix(".log")
    started = time.perf_counter()
    with open(log, "w") as handle:
        subprocess.run(command, cwd=clone, stdout=handle, stderr=subprocess.STDOUT, env=environment(), check=True)
    return log, time.perf_counter() - started


def steady_ips(log: Path) -> float:
    rates = [float(rate) for step, rate in IPS.findall(log.read_text(errors="replace")) if int(step) > 2]
    return statistics.median(rates) if rates else float("nan")


def overhead(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="vin-ocr-paddle-bench-"))
    config = write_config(
        work,
        args.clone,
        paddleocr={"synthetic_train_size": args.steps * args.batch_size},
        data={"val": None},
        training={"max_steps": args.steps, "batch_size": args.batch_size},
    )
    raw = yaml.safe_load(config.read_text())
    raw["output_dir"] = str(work / "runs")
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    figures: dict[str, list[float]] = {"VIN OCR (python -m vin_ocr train)": [], "tools/train.py by hand": []}
    for round_ in range(args.rounds):
        run_dir, wall = ours(config)
        mine = steady_ips(run_dir / "paddleocr" / "paddleocr.log")
        log, hand_wall = by_hand(run_dir, args.clone, work / f"by-hand-{round_}")
        hand = steady_ips(log)
        figures["VIN OCR (python -m vin_ocr train)"].append(mine)
        figures["tools/train.py by hand"].append(hand)
        print(f"round {round_ + 1}: ours {mine:.2f} samples/s ({wall:.0f} s wall), by hand {hand:.2f} samples/s ({hand_wall:.0f} s)")
    ours_rate = statistics.median(figures["VIN OCR (python -m vin_ocr train)"])
    hand_rate = statistics.median(figures["tools/train.py by hand"])
    print(f"median: ours {ours_rate:.2f}, by hand {hand_rate:.2f} samples/s: wrapping costs {(1 - ours_rate / hand_rate) * 100:+.1f} %")
    print(f"load average {os.getloadavg()[0]:.2f}; batch {args.batch_size}, {args.steps} steps, image {raw['paddleocr']['image_shape']}")


def ten_minutes(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="vin-ocr-paddle-10min-"))
    config = write_config(
        work,
        args.clone,
        paddleocr={"synthetic_train_size": args.epoch_images},
        data={"synthetic": {"val_size": 1000}},
        training={"max_steps": 100000, "max_minutes": args.minutes, "eval_every": 100000},
    )
    raw = yaml.safe_load(config.read_text())
    raw["output_dir"] = str(work / "runs")
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    run_dir, wall = ours(config)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    val = metrics["val"] or {}
    print(f"{args.minutes:g} min PaddleOCR (PP-OCRv5 mobile rec, random weights): step {metrics['step']}, {metrics['samples_seen']} images")
    print(f"held-out synthetic set (1,000): exact match {val.get('exact_match', float('nan')):.1%}, CER {val.get('cer', float('nan')):.3f}")
    print(f"({wall:.0f} s wall; run {run_dir}; load average {os.getloadavg()[0]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("overhead", "ten-minutes"))
    parser.add_argument("--clone", type=Path, default=CLONE)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--epoch-images", type=int, default=320, help="synthetic renders per epoch (PaddleOCR saves at epoch ends)")
    args = parser.parse_args()
    if not PADDLE.is_file() or not args.clone.is_dir():
        sys.exit(f"needs {PADDLE} (scripts/setup-paddle.sh) and a PaddleOCR clone at {args.clone}")
    overhead(args) if args.what == "overhead" else ten_minutes(args)


if __name__ == "__main__":
    main()
