"""Synthetic VIN renderer throughput: images per second on one core, and through a DataLoader with workers.

Run from the repository root:  .venv/bin/python bench/render_bench.py [--seconds 10] [--height 32] [--width 256]
The model trains at 100–300 images/s on a 2-core CPU, so the renderer must stay well above that.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "trainer"))
# The trainer's modules are imported in main(): the path above must come first.


def _rate(work: Callable[[], object], seconds: float) -> float:
    """Calls of `work` per second over about `seconds` of wall time."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> int:
    from vin_ocr.data.fonts import all_faces, font_families
    from vin_ocr.data.preprocess import to_model_input
    from vin_ocr.data.synthetic import SyntheticStream, render_vin
    from vin_ocr.vin import random_vin

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    seconds_help = "measuring time per figure"
    parser.add_argument("--seconds", type=float, default=8.0, help=seconds_help)
    parser.add_argument("--height", type=int, default=32)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    started = time.perf_counter()
    faces = all_faces()
    families = len(font_families())
    took = (time.perf_counter() - started) * 1000
    print(f"font discovery: {len(faces)} faces in {families} families, {took:.0f} ms")

    rng = random.Random(1)

    def render() -> None:
        render_vin(random_vin(rng, rng.random() < 0.6), rng)

    def sample() -> None:
        to_model_input(render_vin(random_vin(rng, True), rng), args.height, args.width)

    # The glyph cache fills during this first pass.
    cold = _rate(render, min(2.0, args.seconds))
    for _ in range(3000):
        render()  # warm the glyph cache as a long training run would
    warm = _rate(render, args.seconds)
    with_input = _rate(sample, args.seconds)
    print(f"render_vin, 1 process, cold glyph cache: {cold:7.0f} images/s")
    per_image = f"({1000 / warm:.2f} ms/image)"
    print(f"render_vin, 1 process, warm:             {warm:7.0f} images/s {per_image}")
    print(f"render + to_model_input, 1 process:      {with_input:7.0f} images/s")

    import torch
    from torch.utils.data import DataLoader

    stream = SyntheticStream(seed=1, height=args.height, width=args.width)
    loader = DataLoader(
        stream,
        batch_size=64,
        num_workers=args.workers,
        persistent_workers=False,
    )
    batches = iter(loader)
    for _ in range(3):
        next(batches)  # workers started
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        images, _ = next(batches)
        count += images.shape[0]
    rate = count / (time.perf_counter() - start)
    del batches
    how = f"{args.workers} workers, batch 64"
    torch_is = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    print(f"SyntheticStream via DataLoader, {how}: {rate:7.0f} images/s ({torch_is})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
