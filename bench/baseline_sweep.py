"""Baseline sweep: several CRNN variants trained side by side for the same wall time, then scored.

    .venv/bin/python bench/baseline_sweep.py --variants current,strided --minutes 10
        [--cores-per-run 2] [--first-core 0] [--reference-rate R] [--json FILE] [--output-dir D]

Each variant runs the real trainer (`python -m vin_ocr train examples/baseline.yaml`) pinned to
its own cores (CPU affinity), so on a many-core machine a whole sweep takes one run's time; the
trainer sizes its torch threads and render workers from the cores it is given. With
`--reference-rate` (the `--calibrate` figure of the machine the target is set on), the time is
scaled so that every run gets the model-step budget it would get there in `--minutes`.
Each best checkpoint is then scored on the held-out synthetic set (from its own metrics.json),
renders in typefaces held out of training, the robustness set (drawn unlike the renderer) and
examples/data.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "trainer"))
# Imported by name, not by an import statement: the path above must come first.
crnn = importlib.import_module("vin_ocr.models.crnn")
CRNN, NUM_CLASSES = crnn.CRNN, crnn.NUM_CLASSES
_conv, _separable = crnn._conv, crnn._separable


# ---- variants ------------------------------------------------------------------------------------


def _bn_relu(channels: int) -> list[nn.Module]:
    return [nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]


class Variant(nn.Module):
    """Stem → features → row collapse → BiLSTM → classifier, with `subframes` CTC frames per step."""

    def __init__(
        self,
        features: nn.Sequential,
        channels: int,
        hidden: int,
        subframes: int,
        width: int,
    ) -> None:
        super().__init__()
        self.features, self.subframes, self.width = features, subframes, width
        collapse = nn.Conv2d(channels, channels, (2, 1), bias=False)
        self.collapse = nn.Sequential(collapse, *_bn_relu(channels))
        self.rnn = nn.LSTM(channels, hidden, bidirectional=True, batch_first=True)
        self.classifier = nn.Linear(2 * hidden, NUM_CLASSES * subframes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images - 0.5
        if x.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.collapse(self.features(x)).squeeze(2).transpose(1, 2)
        x, _ = self.rnn(x)
        y = self.classifier(x)
        return y.reshape(y.shape[0], -1, NUM_CLASSES).log_softmax(-1)


def _stem() -> list[nn.Module]:
    return [nn.Conv2d(1, 32, 3, stride=2, padding=1, bias=False), *_bn_relu(32)]


def _early(c: int = 192) -> nn.Sequential:
    """The 3×3 full convolution at quarter resolution."""
    return nn.Sequential(
        *_stem(),
        _conv(32, 64, 2),
        _separable(64, 128),
        _separable(128, 128),
        _separable(128, c, (2, 1)),
        _separable(c, c, (2, 1)),
    )


def _strided() -> nn.Sequential:
    """Max pools replaced by strided depthwise convolutions."""
    return nn.Sequential(
        *_stem(),
        _conv(32, 64),
        _separable(64, 128, 2),
        _separable(128, 128),
        _separable(128, 192, (2, 1)),
        _separable(192, 192, (2, 1)),
    )


VARIANTS: dict[str, Callable[[Any], nn.Module]] = {
    "current": lambda m: CRNN(m.height, m.width, m.hidden_size),
    "strided": lambda m: Variant(_strided(), 192, m.hidden_size, 1, m.width),
    "early": lambda m: Variant(_early(), 192, m.hidden_size, 1, m.width),
    "strided-sub2": lambda m: Variant(_strided(), 192, m.hidden_size, 2, m.width),
    "early-sub2": lambda m: Variant(_early(), 192, m.hidden_size, 2, m.width),
    "early-sub2-h128": lambda m: Variant(_early(), 192, 128, 2, m.width),
    "early-sub2-c256": lambda m: Variant(_early(256), 256, m.hidden_size, 2, m.width),
}


def install(variant: str) -> None:
    """Make the trainer build `variant` wherever it builds a baseline model: the training run
    and the reader of its checkpoints (`evaluate`/`predict`)."""
    from vin_ocr.families.baseline import reader, run

    build = VARIANTS[variant]
    run.build_model = build  # type: ignore[assignment]
    reader.build_model = build  # type: ignore[assignment]


# ---- measuring -----------------------------------------------------------------------------------


def step_rate(
    model: nn.Module,
    device: str,
    batch: int,
    dtype: torch.dtype | None,
    seconds: float,
) -> float:
    """Training steps of `model` on made-up tensors (AdamW, CTC in fp32): images/s after warm-up."""
    model = model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), 1e-3)
    ctc = nn.CTCLoss(zero_infinity=True)
    images = torch.rand(batch, 1, 32, 160, device=device)
    targets = torch.randint(1, 34, (batch, 17), device=device)
    lengths = torch.full((batch,), 17, device=device)
    autocast = dtype is not None

    def step() -> None:
        with torch.autocast(device, dtype=dtype or torch.float32, enabled=autocast):
            log_probs = model(images)
        log_probs = log_probs.float().transpose(0, 1)
        frames = torch.full((batch,), log_probs.shape[0], device=device)
        loss = ctc(log_probs, targets, frames, lengths)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    for _ in range(5):
        step()
    sync()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        count += 1
    sync()
    return batch * count / (time.perf_counter() - start)


def calibrate(seconds: float = 4.0) -> float:
    """Images/s of the current baseline's fp32 training step, one thread, batch 16 (made-up tensors)."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return step_rate(CRNN(), "cpu", 16, None, seconds)


def extra_sets(size: int) -> dict[str, list]:
    from vin_ocr.data.heldout import robustness_set, typeface_set

    return {"typefaces": typeface_set(size, 32, 160), "robustness": robustness_set(size, 32, 160)}


def score_run(variant: str, run_dir: Path, size: int) -> dict[str, Any]:
    from vin_ocr.reading import evaluate_labels, load_reader
    from vin_ocr.training.evaluate import read_images, score

    install(variant)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    # A baseline run's reader has .model and .placement.
    loaded = load_reader(run_dir, "cpu")
    seconds = max(1e-9, metrics["elapsed_seconds"])
    result = {
        "variant": variant,
        "steps": metrics["step"],
        "samples": metrics["samples_seen"],
        "img_s": round(metrics["samples_seen"] / seconds, 1),
        "val": metrics["val"]["exact_match"],
        "val_cer": round(metrics["val"]["cer"], 4),
        "params": sum(p.numel() for p in loaded.model.parameters()),
    }
    for name, pairs in extra_sets(size).items():
        images = [image for image, _ in pairs]
        reads = read_images(loaded.model, images, loaded.placement)
        result[name] = score(reads, [vin for _, vin in pairs], True)[0]["exact_match"]
    labels = str(ROOT / "examples" / "data" / "labels.txt")
    result["examples"] = evaluate_labels(loaded, labels)["metrics"]["exact_match"]
    return result


def _pin(cores: str) -> None:
    """In a run's or a scorer's own process, first thing: the trainer then sizes its threads and
    render workers to these cores (a comma list)."""
    os.sched_setaffinity(0, [int(core) for core in cores.split(",")])


COLUMNS = [
    "variant",
    "params",
    "steps",
    "img/s",
    "val",
    "val CER",
    "typefaces",
    "robustness",
    "examples",
]


def _line(cells: list[Any]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _row(r: dict[str, Any]) -> str:
    cells = [r["variant"], r["params"], r["steps"], r["img_s"], f"{r['val']:.3f}"]
    cells.append(r["val_cer"])
    cells += [f"{r[name]:.3f}" for name in ("typefaces", "robustness", "examples")]
    return _line(cells)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--variants", default="current")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--max-minutes", type=float, help="cap on the scaled time")
    parser.add_argument(
        "--reference-rate",
        type=float,
        help="--calibrate figure of the reference machine",
    )
    parser.add_argument("--cores-per-run", type=int, default=2)
    parser.add_argument("--first-core", type=int, default=0)
    parser.add_argument("--config", default=str(ROOT / "examples" / "baseline.yaml"))
    parser.add_argument("--output-dir")
    parser.add_argument("--score-size", type=int, default=400)
    parser.add_argument("--json")
    parser.add_argument("--calibrate", action="store_true")
    hide = argparse.SUPPRESS
    parser.add_argument("--pin", help=hide)
    parser.add_argument("--run", nargs=3, metavar=("VARIANT", "OUT", "MIN"), help=hide)
    parser.add_argument("--score", nargs=2, metavar=("VARIANT", "RUN"), help=hide)
    args = parser.parse_args()

    if args.pin:
        _pin(args.pin)
    if args.calibrate:
        print(f"{calibrate():.1f}")
        return 0
    if args.run:
        variant, output, minutes = args.run
        install(variant)
        from vin_ocr.__main__ import main as trainer_main

        train = ["train", args.config, "--output-dir", output, "--max-minutes", minutes]
        return trainer_main([*train, "--device", "cpu"])
    if args.score:
        run_dir = Path(args.score[1])
        print(json.dumps(score_run(args.score[0], run_dir, args.score_size)))
        return 0

    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; known: {sorted(VARIANTS)}")
    minutes = args.minutes
    if args.reference_rate:
        here = calibrate()
        minutes = args.minutes * args.reference_rate / here
        reference = f"{args.reference_rate:.1f} reference → {minutes:.2f} min"
        print(f"calibration: {here:.1f} img/s here vs {reference}", flush=True)
    if args.max_minutes:
        minutes = min(minutes, args.max_minutes)
    output = Path(args.output_dir or tempfile.mkdtemp(prefix="sweep-"))
    output.mkdir(parents=True, exist_ok=True)
    # The sweep measures CPU training: a GPU on the machine must not be picked up.
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT / "trainer"),
        PYTHONUNBUFFERED="1",
        CUDA_VISIBLE_DEVICES="",
    )
    processes = []
    for index, variant in enumerate(variants):
        first = args.first_core + index * args.cores_per_run
        cores = ",".join(str(core) for core in range(first, first + args.cores_per_run))
        run = ["--run", variant, str(output / variant), f"{minutes:.3f}"]
        pinned = [sys.executable, __file__, "--pin", cores]
        command = [*pinned, "--config", args.config, *run]
        # The child keeps its own copy of the log's descriptor.
        with open(output / f"{variant}.log", "w") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        processes.append((variant, cores, process))
    for *_, process in processes:
        process.wait()
    scorers = []
    for variant, cores, process in processes:
        runs = sorted((output / variant).glob("*/metrics.json"))
        if process.returncode != 0 or not runs:
            log = output / f"{variant}.log"
            print(f"{variant}: failed (exit {process.returncode}); see {log}")
            continue
        size = str(args.score_size)
        score = ["--score-size", size, "--score", variant, str(runs[-1].parent)]
        command = [sys.executable, __file__, "--pin", cores, *score]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        scorers.append((variant, process))
    rows = []
    for variant, process in scorers:
        out, _ = process.communicate()
        if process.returncode == 0:
            rows.append(json.loads(out.strip().splitlines()[-1]))
        else:
            print(f"{variant}: scoring failed", flush=True)
    each = f"{args.cores_per_run} cores each"
    print(f"\n{minutes:.2f} min per run, {each}; exact match (check-digit decoding on)")
    print(_line(COLUMNS))
    print(_line(["---"] * len(COLUMNS)).replace(" ", ""))
    for row in rows:
        print(_row(row))
    if args.json:
        summary = {"minutes": minutes, "rows": rows}
        Path(args.json).write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
