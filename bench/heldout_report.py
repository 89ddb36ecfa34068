"""Scores baseline checkpoints on every held-out set, side by side (the pretrained model's card).

    .venv/bin/python bench/heldout_report.py CHECKPOINT [CHECKPOINT …] [--size 500] [--json FILE]

CHECKPOINT: a .pt file, a run folder (its best checkpoint) or ``pretrained``. The sets
(``vin_ocr/data/heldout.py``), each with check-digit decoding on (as the baseline reads by default):

* synthetic:  the held-out synthetic set every run validates on (seed 1234, 1,000 renders);
* typefaces:  ``--size`` renders in the families ``split_font_families()`` holds out of training;
* robustness: the robustness suite (drawn unlike the renderer, held-out families), ``--size`` / 8 per condition;
* examples/data: the labelled photos shipped in ``examples/data``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "trainer"))


def score_checkpoint(target: str, size: int) -> dict[str, Any]:
    from vin_ocr.data.heldout import held_out_sets
    from vin_ocr.reading import evaluate_labels, load_reader
    from vin_ocr.training.evaluate import read_images, score

    reader: Any = load_reader(target, "cpu")  # a baseline reader: .model, .placement, .config
    model = reader.config.model
    figures: dict[str, Any] = {
        "checkpoint": str(reader.checkpoint),
        "step": reader.step,
    }
    for name, pairs in held_out_sets(size, model.height, model.width).items():
        reads = read_images(reader.model, [image for image, _ in pairs], reader.placement)
        metrics, _ = score(reads, [vin for _, vin in pairs], True)
        figures[name] = {
            "size": len(pairs),
            "exact_match": metrics["exact_match"],
            "cer": metrics["cer"],
        }
    labels = evaluate_labels(reader, str(ROOT / "examples" / "data" / "labels.txt"), check_digit=True)
    figures["examples/data"] = {
        "size": labels["size"],
        "exact_match": labels["metrics"]["exact_match"],
        "cer": labels["metrics"]["cer"],
    }
    return figures


HELD_OUT_SETS = ("synthetic", "typefaces", "robustness", "examples/data")


def print_table(results: dict[str, dict[str, Any]]) -> None:
    """One row per checkpoint (labelled), one column per held-out set: exact match, set sizes in the header."""
    first = next(iter(results.values()))
    width = max([22] + [len(label) + 2 for label in results])
    headers = [f"{name} (n={first[name]['size']})" for name in HELD_OUT_SETS]
    print(f"{'':<{width}}" + "".join(f"{header:>24}" for header in headers))
    for label, scores in results.items():
        print(f"{label:<{width}}" + "".join(f"{scores[name]['exact_match']:>24.1%}" for name in HELD_OUT_SETS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument(
        "--size",
        type=int,
        default=500,
        help="renders in the typefaces set (robustness: size / 8 per condition)",
    )
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    started = time.perf_counter()
    results = [score_checkpoint(target, args.size) for target in args.checkpoints]
    print_table({f"{target} (step {r['step']})": r for target, r in zip(args.checkpoints, results)})
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
