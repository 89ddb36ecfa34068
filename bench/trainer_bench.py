"""Trainer benchmark: renderer vs model vs the full training loop, and peak memory.

    .venv/bin/python bench/trainer_bench.py [--steps 60] [--config examples/baseline.yaml]
                                            [--checkpoint RUN_OR_PT [--heldout 500]]

1. renderer: synthetic VIN images/s (render + preprocess) in one process;
2. bare loop: a plain PyTorch loop (same CRNN, same batch shape and precision, AdamW + CTC,
   tensors made up front) with the thread count the trainer uses for the model;
3. trainer: `python -m vin_ocr train` itself (data stream with its render worker, schedule,
   events, progress), steady-state images/s read from its progress events, and its peak
   memory (main process and largest worker); then the trainer's own step (real data stream
   and render worker) and the bare step timed in alternating blocks, which load hits alike;
4. with --checkpoint: exact match with check-digit-aware decoding off and on, on the held-out
   synthetic set, on renders in typefaces held out of training, and on examples/data.
The machine's load average is printed too: other processes on the same cores skew every figure.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "trainer"))

import torch  # noqa: E402

from vin_ocr.config import load_config  # noqa: E402
from vin_ocr.models import BLANK, build_model  # noqa: E402
from vin_ocr.training.data import auto_workers, fresh_share  # noqa: E402
from vin_ocr.training.device import usable_cores  # noqa: E402


def renderer_rate(seconds: float, height: int, width: int) -> float:
    from vin_ocr.data.preprocess import to_model_input
    from vin_ocr.data.synthetic import render_vin
    from vin_ocr.vin import random_vin

    rng = random.Random(1)
    to_model_input(render_vin(random_vin(rng, True), rng), height, width)  # font discovery, caches
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        to_model_input(render_vin(random_vin(rng, rng.random() < 0.6), rng), height, width)
        count += 1
    return count / (time.perf_counter() - start)


def _autocast():
    """The precision the trainer picks on this CPU (bf16 autocast where bf16 is native), so that
    the bare loop and the trainer compare the same arithmetic."""
    from vin_ocr.training.device import place

    dtype = place("cpu", "auto").autocast_dtype
    return torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None)


def bare_loop(config):
    """The bare loop's step function: the trainer's model, batch shape and precision on one fixed
    batch of made-up tensors, with nothing around it."""
    torch.manual_seed(0)
    model = build_model(config.model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.training.learning_rate)
    ctc = torch.nn.CTCLoss(blank=BLANK, zero_infinity=True)
    batch = config.training.batch_size
    images = torch.rand(batch, 1, config.model.height, config.model.width)
    targets = torch.randint(1, 34, (batch, 17))
    target_lengths = torch.full((batch,), 17)

    def step() -> None:
        with _autocast():
            log_probs = model(images)
        log_probs = log_probs.float().transpose(0, 1)
        loss = ctc(log_probs, targets, torch.full((batch,), log_probs.shape[0]), target_lengths)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()

    return step


def bare_loop_rate(config, steps: int, threads: int) -> float:
    torch.set_num_threads(threads)
    step = bare_loop(config)
    warmup = 5
    for index in range(warmup + steps):
        if index == warmup:
            start = time.perf_counter()
        step()
    return steps * config.training.batch_size / (time.perf_counter() - start)


def interleaved_ratio(config, rounds: int, block: int, threads: int) -> tuple[float, float, float]:
    """Trainer steps (real data stream with its render worker, schedule, clipping) and bare-loop
    steps (one fixed tensor batch) timed in alternating blocks in one process, so that load from
    other processes hits both alike; returns (trainer images/s, bare images/s, ratio of medians)."""
    import statistics

    from vin_ocr.events import EventWriter, HumanLog
    from vin_ocr.training.data import build_train_stream
    from vin_ocr.training.device import place
    from vin_ocr.training.loop import Trainer
    from vin_ocr.training.signals import CancelFlag

    torch.set_num_threads(threads)
    workers = max(0, usable_cores() - threads)
    stream, *_ = build_train_stream(config, workers, config.training.batch_size)
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(config, place("cpu"), Path(folder), EventWriter("bench"), HumanLog(open(os.devnull, "w")), CancelFlag())
        batches = stream.batches(0)
        bare_step = bare_loop(config)
        batch = config.training.batch_size
        for _ in range(10):  # fill the render pool, warm caches
            trainer.train_step(next(batches))
            bare_step()
        trainer_times, bare_times, samples = [], [], 0
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(block):
                b = next(batches)
                samples += len(b.vins)
                trainer.train_step(b)
            trainer_times.append((time.perf_counter() - start) / block)
            start = time.perf_counter()
            for _ in range(block):
                bare_step()
            bare_times.append((time.perf_counter() - start) / block)
        batches.close()
    trainer_rate_ = batch / statistics.median(trainer_times)
    bare_rate = batch / statistics.median(bare_times)
    return trainer_rate_, bare_rate, trainer_rate_ / bare_rate


def trainer_rate(config_path: Path, steps: int, output: Path) -> tuple[float, float, float]:
    """Steady-state images/s of the real trainer (after warm-up), and peak RSS in MB (main, children)."""
    import yaml

    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    raw.setdefault("training", {}).update({"max_steps": steps + 20, "max_minutes": None, "eval_every": 10**9})
    raw.setdefault("data", {})["val"] = None
    raw["output_dir"] = str(output)
    bench_config = output / "bench.yaml"
    bench_config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    events = output / "events.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "trainer"))
    script = (
        "import resource, subprocess, sys, json\n"
        "code = subprocess.call(sys.argv[1:])\n"
        "print(json.dumps({'code': code, 'children_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, sys.executable, "-m", "vin_ocr", "train", str(bench_config), "--events", str(events)],
        capture_output=True, text=True, env=env, check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if report["code"] != 0:
        raise SystemExit(f"the trainer failed:\n{result.stderr[-2000:]}")
    progress = [json.loads(line) for line in events.read_text().splitlines() if '"progress"' in line]
    progress = [p for p in progress if p["step"] >= 20]  # the render pool is full and caches warm by then
    first, last = progress[0], progress[-1]
    rate = (last["step"] - first["step"]) * raw["training"].get("batch_size", 64) / (last["elapsed_seconds"] - first["elapsed_seconds"])
    return rate, report["children_kb"] / 1024, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def decoding_report(checkpoint: str, heldout: int) -> dict:
    from vin_ocr.data.fonts import split_font_families
    from vin_ocr.data.synthetic import synthetic_split
    from vin_ocr.training.evaluate import read_images, score
    from vin_ocr.training.predict import evaluate_labels, load_model

    loaded = load_model(checkpoint, "cpu")
    config = loaded.config
    sets = {}
    val = synthetic_split(config.data.synthetic.seed, config.data.synthetic.val_size, config.model.height, config.model.width, config.data.synthetic.north_american_ratio)
    _, held_families = split_font_families()
    unseen = synthetic_split(99991, heldout, config.model.height, config.model.width, config.data.synthetic.north_american_ratio, fonts=held_families)
    for name, pairs in (("synthetic held-out set", val), (f"held-out typefaces {held_families}", unseen)):
        reads = read_images(loaded.model, [image for image, _ in pairs], loaded.placement)
        metrics, _ = score(reads, [vin for _, vin in pairs], False)
        sets[name] = {"size": len(pairs), "exact_match_off": metrics["exact_match_greedy"], "exact_match_on": metrics["exact_match_check_digit"], "cer": metrics["cer"], "corrections": metrics["check_digit_corrections"]}
    for flag in (False, True):
        result = evaluate_labels(loaded, str(ROOT / "examples" / "data" / "labels.txt"), check_digit=flag)
        sets.setdefault("examples/data", {"size": result["size"]})["exact_match_" + ("on" if flag else "off")] = result["metrics"]["exact_match"]
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(ROOT / "examples" / "baseline.yaml"))
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--checkpoint")
    parser.add_argument("--heldout", type=int, default=500)
    args = parser.parse_args()
    config, _ = load_config(args.config)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {usable_cores()} usable cores; torch {torch.__version__}")
    workers = auto_workers("cpu") if config.training.num_workers == "auto" else int(config.training.num_workers)
    threads = max(1, usable_cores() - workers)
    render = renderer_rate(10.0, config.model.height, config.model.width)
    print(f"renderer        {render:8.1f} images/s (one process)")
    bare = bare_loop_rate(config, args.steps, threads)
    print(f"bare loop       {bare:8.1f} images/s ({threads} torch thread(s), batch {config.training.batch_size})")
    with tempfile.TemporaryDirectory() as folder:
        rate, children_mb, _ = trainer_rate(Path(args.config), args.steps, Path(folder))
    print(f"trainer (CLI)   {rate:8.1f} images/s = {rate / bare:.2f}x the bare loop ({workers} render worker(s), pool re-use {1 - fresh_share(config.data.synthetic.fresh_ratio, 'cpu'):.0%}; timed apart, so load skews it)")
    interleaved, bare_alongside, ratio = interleaved_ratio(config, rounds=max(3, args.steps // 10), block=5, threads=threads)
    print(f"interleaved     trainer {interleaved:.1f} vs bare {bare_alongside:.1f} images/s = {ratio:.2f}x (alternating blocks, median)")
    print(f"peak memory     {children_mb:8.1f} MB (largest trainer process); bench itself {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.checkpoint:
        for name, figures in decoding_report(args.checkpoint, args.heldout).items():
            print(f"{name}: {json.dumps(figures)}")


if __name__ == "__main__":
    main()
