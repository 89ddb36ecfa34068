"""The training data path alone (no model), live rendering vs the render cache; and the 10-minute baseline
with the cache on vs off.

    .venv/bin/python bench/data_path_bench.py [--seconds 60] [--batch 16] [--device cpu] [--json FILE]
    .venv/bin/python bench/data_path_bench.py --ten-minutes [--from-scratch] [--minutes 10] [--cache-images N] [--json FILE]
    python bench/data_path_bench.py --trainer --device cuda --batch 256 [--seconds 60] [--json FILE]

1. images/s the trainer's own streams (``build_train_stream``) yield with nothing consuming them:
   * live: renders in DataLoader workers (``auto_workers``) plus the pool's re-augmentation, on the device;
   * cache build: renders/s of the cache's worker pool (``cache_workers``) filling a new cache;
   * cache: batches read from that (warm) cache and augmented on the device, its background refresh
     (``data.synthetic.cache.refresh``) running at the same time, as in training.
   The cache lives in a temporary folder, deleted at the end.
2. ``--ten-minutes``: ``examples/baseline.yaml`` (fine-tuning the shipped reader, 10 minutes) trained
   twice, cache off then on (the cache built beforehand, as a later run finds it), each scored by exact
   match on the held-out synthetic set (the set every run validates on: seed 1234, 1,000 renders;
   ``vin_ocr/data/heldout.py``) with check-digit decoding; ``--from-scratch`` trains random weights instead
   (lr 0.003), where what the data path feeds shows most. Run it on a quiet machine: the two runs share
   it one after the other, so the load average is printed before each.
3. ``--trainer`` (for a lent GPU; bench/gpu_session.sh): the model alone (the CRNN's step on made-up
   tensors, the trainer's precision) against ``python -m vin_ocr train`` end to end for ``--seconds``
   each: live rendering, then the cache cold (the run renders it), then warm (the next run finds it);
   steady images/s from the progress events, and the share of the model-alone rate (target ≥ 80 %).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "trainer"))
# The trainer's modules are imported inside the functions, after the path above.


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def base_config(cache: dict[str, Any], batch: int, device: str, folder: Path) -> Any:
    from vin_ocr.config import parse_config

    raw = yaml.safe_load((ROOT / "examples" / "baseline.yaml").read_text())
    raw["data"]["synthetic"]["cache"] = {"dir": str(folder), **cache}
    raw["training"].update({"batch_size": batch, "device": device})
    config, _ = parse_config(raw, ROOT / "examples")
    return config


def trainer_threads(workers: int) -> int:
    """Torch threads as the trainer sets them (baseline/run.py): the cores its render workers leave."""
    from vin_ocr.training.device import usable_cores

    torch.set_num_threads(max(1, usable_cores() - workers))
    return torch.get_num_threads()


def stream_rate(stream: Any, seconds: float, warmup: int) -> float:
    """Images/s the stream yields over about ``seconds``, after ``warmup`` batches."""
    batches = stream.batches(0)
    try:
        for _ in range(warmup):
            next(batches)
        images, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            images += len(next(batches).vins)
        return images / (time.perf_counter() - started)
    finally:
        batches.close()


def live_rate(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from vin_ocr.training.data import auto_workers, build_train_stream

    config = base_config({"mode": "off"}, args.batch, args.device, folder)
    workers = auto_workers(args.device)
    threads = trainer_threads(workers)
    stream, *_ = build_train_stream(config, workers, args.batch, args.device)
    rate = stream_rate(stream, args.seconds, warmup=8)
    return {
        "workers": workers,
        "threads": threads,
        "img_s": round(rate, 1),
        "load": load(),
    }


def cache_rates(args: argparse.Namespace, folder: Path, workers: int = 0) -> Any:
    """The cache's build rate, then its read rate; ``workers``: render processes (0: the trainer's)."""
    from vin_ocr.training.data import build_train_stream, cache_workers

    workers = workers or cache_workers(args.device)
    threads = trainer_threads(workers)
    settings = {"mode": "on", "images": args.cache_images, "refresh": args.refresh}
    config = base_config(settings, args.batch, args.device, folder)
    stream, *_ = build_train_stream(
        config,
        workers,
        args.batch,
        args.device,
        warn=print,
        cache_workers_count=workers,
    )
    schedule = stream.cache.schedule
    started = time.perf_counter()
    stream.cache.start(0)  # the first pass: every shard rendered before it is read
    for block in range(len(schedule.mine)):
        stream.cache.shard(block)
    build = len(schedule.mine) * schedule.shard_size / (time.perf_counter() - started)
    stream.cache.close()
    rate = stream_rate(stream, args.seconds, warmup=8)
    return {
        "workers": workers,
        "threads": threads,
        "images": len(schedule.mine) * schedule.shard_size,
        "refresh": args.refresh,
        "build_img_s": round(build, 1),
        "img_s": round(rate, 1),
        "load": load(),
    }


def data_path(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"torch": torch.__version__, "cores": os.cpu_count()}
    results["device"], results["batch"] = args.device, args.batch
    with tempfile.TemporaryDirectory() as folder:
        print(f"live rendering, {args.seconds:g} s (load {load()}) …", flush=True)
        results["live"] = live_rate(args, Path(folder))
        print(f"  {results['live']}", flush=True)
        print(f"render cache, build + {args.seconds:g} s (load {load()}) …", flush=True)
        results["cache"] = cache_rates(args, Path(folder))
        print(f"  {results['cache']}", flush=True)
    ratio = results["cache"]["img_s"] / results["live"]["img_s"]
    print(f"cache / live: {ratio:.1f}×")
    return results


def ten_minutes(args: argparse.Namespace) -> dict[str, Any]:
    from vin_ocr.training.device import usable_cores

    results: dict[str, Any] = {"minutes": args.minutes}
    with tempfile.TemporaryDirectory() as folder:
        cache_dir = Path(folder) / "cache"
        # Built first, as a later run finds it: the comparison is of training, not of rendering.
        build = argparse.Namespace(**{**vars(args), "seconds": 0.1})
        print(f"building the cache first (load {load()}) …", flush=True)
        workers = usable_cores()  # every core: the build is not what is compared
        results["cache_build"] = cache_rates(build, cache_dir, workers)
        for mode in ("off", "on"):
            raw = yaml.safe_load((ROOT / "examples" / "baseline.yaml").read_text())
            raw["training"]["max_minutes"] = args.minutes
            if args.from_scratch:  # what the data path feeds decides more here than when fine-tuning a trained reader
                raw["model"]["init_from"] = "none"
                raw["training"]["learning_rate"] = 0.003
            cache = {"mode": mode, "dir": str(cache_dir), "refresh": args.refresh}
            raw["data"]["synthetic"]["cache"] = {**cache, "images": args.cache_images}
            raw["output_dir"] = str(Path(folder) / f"runs-{mode}")
            config = Path(folder) / f"cache-{mode}.yaml"
            config.write_text(yaml.safe_dump(raw), encoding="utf-8")
            print(f"10-minute baseline, cache {mode} (load {load()}) …", flush=True)
            results[f"cache_{mode}"] = train_and_score(config, Path(raw["output_dir"]))
            print(f"  {results[f'cache_{mode}']}", flush=True)
    return results


def run_trainer(config: Path, events_file: Path, timeout: float | None = None) -> tuple[Any, list[dict[str, Any]]]:
    """``python -m vin_ocr train CONFIG --events FILE``: the finished process and the events it wrote."""
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(ROOT / "trainer"))
    command = [sys.executable, "-m", "vin_ocr", "train", str(config), "--events", str(events_file)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    text = events_file.read_text() if events_file.exists() else ""
    return done, [json.loads(line) for line in text.splitlines() if line.strip()]


def train_and_score(config: Path, output: Path) -> dict[str, Any]:
    from vin_ocr.data.heldout import synthetic_set
    from vin_ocr.reading import load_reader
    from vin_ocr.training.evaluate import read_images, score

    output.mkdir(parents=True)
    done, events = run_trainer(config, output / "events.jsonl")
    started = next(e for e in events if e["event"] == "run_started")
    progress = [e for e in events if e["event"] == "progress"]
    run = Path(started["run_dir"])
    reader: Any = load_reader(str(run), "cpu")
    model = reader.config.model
    pairs = synthetic_set(model.height, model.width)
    reads = read_images(reader.model, [image for image, _ in pairs], reader.placement)
    metrics, _ = score(reads, [vin for _, vin in pairs], True)
    return {
        "exit": done.returncode,
        "input_path": started.get("input_path"),
        "steps": progress[-1]["step"] if progress else 0,
        "img_s": progress[-1]["samples_per_sec"] if progress else None,
        "heldout_synthetic_exact_match": metrics["exact_match"],
        "heldout_size": len(pairs),
        "stderr_tail": done.stderr[-1500:] if done.returncode else "",
    }


def model_alone(device: str, batch: int, seconds: float) -> dict[str, Any]:
    """The CRNN's training step on made-up tensors (bench/baseline_sweep.py), in the trainer's precision."""
    import importlib

    from vin_ocr.families.baseline import BaselineModel
    from vin_ocr.models import build_model
    from vin_ocr.training.data import auto_workers
    from vin_ocr.training.device import place

    sys.path.insert(0, str(ROOT / "bench"))
    sweep = importlib.import_module("baseline_sweep")
    placement = place(device, "auto")
    trainer_threads(auto_workers(device))  # the threads the trainer gives the model
    torch.manual_seed(0)
    model = build_model(BaselineModel())
    rate = sweep.step_rate(model, device, batch, placement.autocast_dtype, seconds)
    return {"dtype": placement.dtype, "batch": batch, "img_s": round(rate, 1)}


def trainer_run(args: argparse.Namespace, cache: dict[str, Any], folder: Path) -> Any:
    """`python -m vin_ocr train` for ``--seconds`` on the device (no evaluation): steady images/s."""

    raw = yaml.safe_load((ROOT / "examples" / "baseline.yaml").read_text())
    schedule = {"batch_size": args.batch, "max_minutes": args.seconds / 60}
    raw["training"].update({**schedule, "eval_every": 10**9, "device": args.device})
    raw["data"]["val"] = None
    size = {"images": args.cache_images} if args.cache_images else {}
    raw["data"]["synthetic"]["cache"] = {"dir": str(folder / "cache"), **cache, **size}
    name = f"run-{len(list(folder.glob('run-*')))}"
    raw["output_dir"] = str(folder / name)
    config = folder / f"{name}.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    events_file = folder / f"{name}.jsonl"
    done, events = run_trainer(config, events_file, timeout=args.seconds + 300)
    started = next((e for e in events if e["event"] == "run_started"), {})
    progress = [e for e in events if e["event"] == "progress"]
    warm = min(15.0, args.seconds / 3)
    steady = [e for e in progress if e["elapsed_seconds"] >= warm]
    rate = None
    if len(steady) >= 2:
        seconds = steady[-1]["elapsed_seconds"] - steady[0]["elapsed_seconds"]
        rate = (steady[-1]["step"] - steady[0]["step"]) * args.batch / seconds
    warnings = [e["message"] for e in events if e["event"] == "warning"]
    feed = [line for line in done.stderr.splitlines() if "on synthetic" in line]
    return {
        "exit": done.returncode,
        "input_path": started.get("input_path"),
        "expected_img_s": started.get("input_images_per_sec"),
        "dtype": started.get("dtype"),
        "steps": progress[-1]["step"] if progress else 0,
        "img_s_steady": None if rate is None else round(rate, 1),
        "warnings": warnings,
        "feed_line": feed[0] if feed else None,
        "stderr_tail": done.stderr[-2000:] if done.returncode else "",
    }


def trainer_feed(args: argparse.Namespace) -> dict[str, Any]:
    """Trainer end to end vs the model alone: live rendering, then the cache cold (its first run renders
    it), then warm (a later run finds it)."""
    results: dict[str, Any] = {"torch": torch.__version__, "cores": os.cpu_count()}
    print(f"model alone, {args.device} (load {load()}) …", flush=True)
    results["model"] = model_alone(args.device, args.batch, min(30.0, args.seconds))
    print(f"  {results['model']}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        runs = {
            "live": {"mode": "off"},
            "cache_cold": {"mode": "on", "refresh": args.refresh},
            "cache_warm": {"mode": "on", "refresh": args.refresh},
        }
        for name, cache in runs.items():
            print(f"trainer, {name}, {args.seconds:g} s (load {load()}) …", flush=True)
            results[name] = trainer_run(args, cache, Path(folder))
            run = results[name]
            share = (run["img_s_steady"] or 0) / results["model"]["img_s"]
            run["share_of_model_alone"] = round(share, 3)
            print(
                f"  {run['img_s_steady']} img/s, {share:.0%} of the model alone",
                flush=True,
            )
    return results


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--seconds", type=float, default=60.0, help="time per path")
    parser.add_argument("--batch", type=int, default=16, help="images per batch")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | mps")
    images = "renders in the cache (8,192; --ten-minutes: the config's 100,000)"
    parser.add_argument("--cache-images", type=int, help=images)
    refresh = "share re-rendered per pass"
    parser.add_argument("--refresh", type=float, default=0.05, help=refresh)
    parser.add_argument(
        "--ten-minutes",
        action="store_true",
        help="the 10-minute baseline, cache off vs on",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=10.0,
        help="with --ten-minutes: each run's budget",
    )
    scratch = "with --ten-minutes: random weights (lr 0.003), not the shipped reader"
    parser.add_argument("--from-scratch", action="store_true", help=scratch)
    parser.add_argument(
        "--trainer",
        action="store_true",
        help="the trainer end to end vs the model alone",
    )
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    if args.ten_minutes:
        args.cache_images = args.cache_images or 100_000
        results = ten_minutes(args)
    elif args.trainer:
        results = trainer_feed(args)
    else:
        args.cache_images = args.cache_images or 8192
        results = data_path(args)
    if args.json:
        text = json.dumps(results, indent=1) + "\n"
        Path(args.json).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
