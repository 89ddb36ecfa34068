"""Fine-tuning from the shipped reader, measured (issue 12's targets), side by side in one run.

    .venv/bin/python bench/finetune_report.py [--minutes 10] [--rates 0.003,0.0005] [--style-minutes 5]
                                              [--work DIR] [--json FILE] [--size 500]

1. **The default config**: ``examples/baseline.yaml`` as shipped (``init_from: pretrained``) for
   ``--minutes`` at each learning rate of ``--rates``, every best checkpoint scored on every held-out set
   (``vin_ocr/data/heldout.py``) beside the shipped reader itself.
2. **A new style**: the held-out typeface family the shipped reader reads worst (of those
   ``split_font_families()`` keeps out of pretraining, 100 renders each) plays "the user's photos": 300
   labelled renders, of which ``--style-val`` validate (choose the best checkpoint) and the rest train, and 200
   more as the test set (full-resolution PNGs and labels.txt files, as a user's folder would be).
   ``--style-minutes`` of ``examples/finetune.yaml`` from the shipped reader vs the same from scratch
   (``init_from: none``, the from-scratch learning rate 0.003); exact match on the 200.

Each run is a real ``python -m vin_ocr train`` on this machine; keep the machine otherwise idle.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "trainer"))
sys.path.insert(0, str(ROOT / "bench"))

STYLE_PHOTOS, STYLE_TEST, STYLE_SCREEN = 300, 200, 100
SCRATCH_LEARNING_RATE = 0.003


def train(config: dict[str, Any], name: str, work: Path) -> Path:
    """Trains ``config`` (written to work/name.yaml) and returns the run directory."""
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    output = work / name
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "vin_ocr", "train", str(path), "--output-dir", str(output)],
        cwd=ROOT,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "trainer")},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (run_dir,) = [folder for folder in output.iterdir() if folder.is_dir()]
    print(f"  {name}: {time.perf_counter() - started:.0f} s → {run_dir}", flush=True)
    return run_dir


def load_example(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "examples" / name).read_text(encoding="utf-8"))


def default_config(rates: list[float], minutes: float, work: Path, size: int) -> dict[str, Any]:
    from heldout_report import score_checkpoint

    results = {"shipped reader": score_checkpoint("pretrained", size)}
    for rate in rates:
        config = load_example("baseline.yaml")
        config["training"].update(learning_rate=rate, max_minutes=minutes)
        run_dir = train(config, f"default-lr{rate:g}", work)
        results[f"{minutes:g} min, lr {rate:g}"] = score_checkpoint(str(run_dir), size) | {"run": str(run_dir)}
    return results


def worst_held_out_family() -> tuple[str, dict[str, float]]:
    from vin_ocr.data.heldout import held_out_families, typeface_set
    from vin_ocr.reading import load_reader
    from vin_ocr.training.evaluate import read_images, score

    reader: Any = load_reader("pretrained", "cpu")
    model = reader.config.model
    scores: dict[str, float] = {}
    for family in held_out_families():
        pairs = typeface_set(STYLE_SCREEN, model.height, model.width, [family])
        reads = read_images(reader.model, [image for image, _ in pairs], reader.placement)
        scores[family] = score(reads, [vin for _, vin in pairs], True)[0]["exact_match"]
    return min(scores, key=lambda family: scores[family]), scores


def write_photos(folder: Path, family: str, indices: range, seed: str) -> Path:
    """Full-resolution renders in ``family`` with a labels.txt, as a user's photo folder."""
    from vin_ocr.data.synthetic import render_vin
    from vin_ocr.vin import random_vin

    (folder / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for index in indices:
        rng = random.Random(f"finetune-report/{seed}/{index}")
        vin = random_vin(rng, north_american=rng.random() < 0.6)
        render_vin(vin, rng, [family]).save(folder / "images" / f"{index:04d}.png")
        lines.append(f"images/{index:04d}.png\t{vin}")
    (folder / "labels.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "labels.txt"


def new_style(minutes: float, work: Path, val: int, scratch: bool) -> dict[str, Any]:
    family, screen = worst_held_out_family()
    print(f"  new style: {family} (shipped reader on {STYLE_SCREEN} renders each: {screen})", flush=True)
    train_labels = write_photos(work / "style-train", family, range(val, STYLE_PHOTOS), "photos")
    val_labels = write_photos(work / "style-val", family, range(val), "photos") if val else None
    test_labels = write_photos(work / "style-test", family, range(STYLE_TEST), "test")
    results: dict[str, Any] = {"family": family, "screen": screen, "train": STYLE_PHOTOS - val, "val": val}
    runs = [("from shipped reader", "pretrained", None), ("from scratch", "none", SCRATCH_LEARNING_RATE)]
    for name, init_from, rate in runs if scratch else runs[:1]:
        config = load_example("finetune.yaml")
        config["model"]["init_from"] = init_from
        config["data"].update(train=str(train_labels), test=str(test_labels))
        if val_labels is not None:
            config["data"]["val"] = str(val_labels)
        config["training"].update(max_minutes=minutes, max_steps=100000)
        if rate is not None:
            config["training"]["learning_rate"] = rate
        run_dir = train(config, f"style-{init_from}", work)
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        results[name] = {
            "test_exact_match": metrics["test"]["exact_match"],
            "val_exact_match": metrics["val"]["exact_match"],
            "run": str(run_dir),
        }
    return results


def main() -> None:
    from heldout_report import print_table

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rates", default="0.003,0.0005", help="learning rates for the default config, comma-separated")
    parser.add_argument("--style-minutes", type=float, default=5.0)
    parser.add_argument("--style-val", type=int, default=50, help="of the 300 photos, how many validate (0: the synthetic set)")
    parser.add_argument("--only", choices=("default", "style"), help="run one of the two parts")
    parser.add_argument("--no-scratch", action="store_true", help="skip the from-scratch run of the new style")
    parser.add_argument("--size", type=int, default=500, help="renders in the typefaces and robustness sets")
    parser.add_argument("--work", default="/tmp/vin-ocr-finetune-report")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    figures: dict[str, Any] = {}
    if args.only in (None, "default"):
        print("1. the default config from the shipped reader", flush=True)
        default = figures["default"] = default_config([float(rate) for rate in args.rates.split(",")], args.minutes, work, args.size)
        print_table(default)
    if args.only in (None, "style"):
        print("2. a new style: 300 photos of a held-out typeface, 200 to test", flush=True)
        style = figures["new_style"] = new_style(args.style_minutes, work, args.style_val, not args.no_scratch)
        for name in ("from shipped reader", "from scratch"):
            if name in style:
                scores = style[name]
                print(f"  {name:<22} exact match on the 200: {scores['test_exact_match']:.1%} (val {scores['val_exact_match']:.1%})")
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
