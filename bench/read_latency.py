"""Read latency on this CPU: PyTorch vs ONNX Runtime, one image and a batch of 64.

    .venv/bin/python bench/read_latency.py [--checkpoint RUN_OR_PT] [--runs 50] [--json]

The checkpoint (a baseline run or .pt file; without one, a freshly initialised CRNN of --config:
latency does not depend on the weights) is exported with `python -m vin_ocr export`'s own code
into a temporary folder, parity check included. Then, side by side in one process and in
alternating order (so that load on the machine hits every backend alike), the median of --runs
warm runs of:

* read: the readers `predict` uses, from PIL images to VIN reads (preprocessing, network,
  decoding): PyTorch as `predict --backend torch` runs it (fp32 on a CPU) and ONNX Runtime
  (`predict --backend onnx`);
* network: the model alone on prepared inputs (what the engines themselves differ in).

The machine's load average is printed: other processes on the same cores skew every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "trainer"))
# The trainer's modules are imported inside the functions: the path above must come first.

BATCH = 64
WARMUP = 5


def fresh_checkpoint(config_file: Path, folder: Path) -> Path:
    """A freshly initialised baseline of the config's size, saved like a trained one."""
    from vin_ocr.config import load_config
    from vin_ocr.models import build_model
    from vin_ocr.training.checkpoints import save_atomically

    config, _ = load_config(config_file)
    torch.manual_seed(0)
    model = build_model(config.model)
    path = folder / "fresh.pt"
    state = {"config": config.to_dict(), "model": model.state_dict(), "step": 0}
    save_atomically(state, path)
    return path


def renders(count: int) -> list[Any]:
    from vin_ocr.data.synthetic import render_vin
    from vin_ocr.vin import random_vin

    rng = random.Random(5)
    return [render_vin(random_vin(rng, rng.random() < 0.6), rng) for _ in range(count)]


def measure(cases: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median milliseconds per call of each case, after warm-up; the cases take turns."""
    for work in cases.values():
        for _ in range(WARMUP):
            work()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, work in cases.items():
            start = time.perf_counter()
            work()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    from vin_ocr.export.onnx_export import export_onnx
    from vin_ocr.families.baseline.reader import BaselineReader
    from vin_ocr.onnx_reader import load_onnx_reader
    from vin_ocr.reading import load_reader

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="a baseline run directory or .pt file")
    parser.add_argument("--config", default=str(ROOT / "examples" / "pretrain.yaml"))
    parser.add_argument("--runs", type=int, default=50, help="warm runs per figure")
    parser.add_argument("--parity-size", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="also print JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        checkpoint = args.checkpoint or str(fresh_checkpoint(Path(args.config), folder))
        exported = export_onnx(checkpoint, folder / "onnx", args.parity_size)
        print(f"checkpoint {exported.checkpoint} (step {exported.step})")
        print(exported.parity.summary())

        as_predict = load_reader(checkpoint, "cpu")
        assert isinstance(as_predict, BaselineReader)
        onnx = load_onnx_reader(folder / "onnx", "cpu")
        images = renders(BATCH)
        prepared = np.stack([onnx.prepare(image) for image in images])
        model = as_predict.model

        def network(count: int) -> Callable[[], object]:
            inputs = torch.from_numpy(prepared[:count]).unsqueeze(1)

            @torch.no_grad()
            def run() -> object:
                return model(inputs)

            return run

        backends = {
            f"PyTorch {as_predict.placement.dtype}": (as_predict, network(1), network(BATCH)),
            "ONNX Runtime": (
                onnx,
                lambda: onnx.log_probs(prepared[:1]),
                lambda: onnx.log_probs(prepared),
            ),
        }
        cases: dict[str, Callable[[], object]] = {}
        for name, (reader, one, many) in backends.items():
            cases[f"{name}|read 1"] = lambda r=reader: r.read(images[:1])
            cases[f"{name}|read 64"] = lambda r=reader: r.read(images)
            cases[f"{name}|network 1"] = one
            cases[f"{name}|network 64"] = many
        medians = measure(cases, args.runs)

    columns = ("read 1", "read 64", "network 1", "network 64")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nmedian ms of {args.runs} warm runs; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; onnxruntime {onnxruntime.__version__}; "
        f"{os.cpu_count()} CPUs, load average {load:.2f}"
    )
    print(f"{'backend':28}" + "".join(f"{c:>12}" for c in columns))
    for name in backends:
        figures = (medians[f"{name}|{c}"] for c in columns)
        print(f"{name:28}" + "".join(f"{ms:12.2f}" for ms in figures))
    onnx_ms = [medians[f"ONNX Runtime|{c}"] for c in columns]
    for name in list(backends)[:2]:  # how many times faster ONNX Runtime is
        ratios = (medians[f"{name}|{c}"] / ms for c, ms in zip(columns, onnx_ms))
        label = f"speed-up vs {name.removeprefix('PyTorch').strip(', ')}"
        print(f"{label:28}" + "".join(f"{r:11.2f}x" for r in ratios))
    if args.json:
        figures = {key: round(value, 4) for key, value in medians.items()}
        print(json.dumps({"runs": args.runs, "load": load, "median_ms": figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
