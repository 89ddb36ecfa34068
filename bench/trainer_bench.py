"""Trainer benchmark: renderer vs model vs the full training loop, and peak memory.

    .venv/bin/python bench/trainer_bench.py [--steps 60] [--config examples/baseline.yaml]
                                            [--checkpoint RUN_OR_PT [--heldout 500]]

1. renderer: synthetic VIN images/s (render + preprocess) in one process;
2. bare loop: a plain PyTorch loop (same CRNN, same batch shape and precision, AdamW + CTC,
   tensors made up front) with the thread count the trainer uses for the model;
3. trainer: `python -m vin_ocr train` itself (data stream with its render worker, schedule,
   events, progress), steady-state images/s read from its progress events, and its peak
   memory (main process and largest worker); then the trainer's own step (the baseline
   family's run: real data stream and render worker) and the bare step timed in alternating
   blocks, which load hits alike;
4. with --checkpoint (a baseline run or .pt file): exact match with check-digit-aware decoding
   off and on, on the held-out synthetic set, on renders in typefaces held out of training, and
   on examples/data.
The machine's load average is printed too: other processes on the same cores skew every figure.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "trainer"))
# The trainer's modules are imported inside the functions: the path above must come first.

WARMUP_STEPS = 20  # the render pool is full and caches warm by then


def renderer_rate(seconds: float, height: int, width: int) -> float:
    from vin_ocr.data.preprocess import to_model_input
    from vin_ocr.data.synthetic import render_vin
    from vin_ocr.vin import random_vin

    rng = random.Random(1)
    # The first render discovers the fonts and fills caches.
    to_model_input(render_vin(random_vin(rng, True), rng), height, width)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        vin = random_vin(rng, rng.random() < 0.6)
        to_model_input(render_vin(vin, rng), height, width)
        count += 1
    return count / (time.perf_counter() - start)


def _autocast() -> torch.autocast:
    """The precision the trainer picks on this CPU (bf16 autocast where bf16 is native), so that
    the bare loop and the trainer compare the same arithmetic."""
    from vin_ocr.training.device import place

    dtype = place("cpu", "auto").autocast_dtype
    enabled = dtype is not None
    return torch.autocast("cpu", dtype=dtype or torch.float32, enabled=enabled)


def bare_loop(config: Any) -> Any:
    """The bare loop's step function: the trainer's model, batch shape and precision on one fixed
    batch of made-up tensors, with nothing around it."""
    from vin_ocr.models import BLANK, build_model

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
        input_lengths = torch.full((batch,), log_probs.shape[0])
        loss = ctc(log_probs, targets, input_lengths, target_lengths)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()

    return step


def bare_loop_rate(config: Any, steps: int, threads: int) -> float:
    torch.set_num_threads(threads)
    step = bare_loop(config)
    warmup = 5
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * config.training.batch_size / (time.perf_counter() - start)


Rates = tuple[float, float, float]


def interleaved_ratio(config: Any, rounds: int, block: int) -> Rates:
    """Trainer steps (the baseline family's run: real data stream with its render worker,
    schedule, clipping) and bare-loop steps (one fixed tensor batch) timed in alternating blocks
    in one process, so that load from other processes hits both alike; returns (trainer
    images/s, bare images/s, ratio of medians). The run sizes its torch threads and render
    workers as in training; no validation set is rendered (it is not timed)."""
    from vin_ocr.families.baseline.run import BaselineRun
    from vin_ocr.families.protocol import Clock, RunContext
    from vin_ocr.human_log import HumanLog

    data = dataclasses.replace(config.data, val=None, test=None)
    config = dataclasses.replace(config, data=data)
    max_steps = config.training.max_steps
    batch = config.training.batch_size

    def ignore(*_args: Any, **_fields: Any) -> None:
        pass

    with tempfile.TemporaryDirectory() as folder, open(os.devnull, "w") as quiet:
        log = HumanLog(quiet)
        context = RunContext(config, "cpu", Path(folder), log, notice=ignore)
        run = BaselineRun(context)
        batches = run.batches(0)
        bare_step = bare_loop(config)
        step = 0

        def trainer_step() -> None:
            nonlocal step
            run.train_step(next(batches), Clock(step, max_steps, step / max_steps))
            step += 1

        for _ in range(10):  # fill the render pool, warm caches
            trainer_step()
            bare_step()
        trainer_times, bare_times = [], []
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(block):
                trainer_step()
            trainer_times.append((time.perf_counter() - start) / block)
            start = time.perf_counter()
            for _ in range(block):
                bare_step()
            bare_times.append((time.perf_counter() - start) / block)
        batches.close()
        run.close()
    trainer_rate_ = batch / statistics.median(trainer_times)
    bare_rate = batch / statistics.median(bare_times)
    return trainer_rate_, bare_rate, trainer_rate_ / bare_rate


def _steady_rate(progress: list[dict[str, Any]], batch: int) -> float:
    """Images/s between the first progress event after warm-up and the last one (from the first
    event when a short run reported none in between)."""
    steady = [p for p in progress if p["step"] >= WARMUP_STEPS]
    if len(steady) < 2:
        steady = progress
    first, last = steady[0], steady[-1]
    seconds = last["elapsed_seconds"] - first["elapsed_seconds"]
    if seconds <= 0:
        return float("nan")
    return (last["step"] - first["step"]) * batch / seconds


def trainer_rate(config_path: Path, steps: int, output: Path) -> Rates:
    """Steady-state images/s of the real trainer (after warm-up), and peak RSS in MB (main, children)."""
    import yaml

    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    schedule = {"max_steps": steps + WARMUP_STEPS, "max_minutes": None}
    raw.setdefault("training", {}).update({**schedule, "eval_every": 10**9})
    raw.setdefault("data", {})["val"] = None
    raw["output_dir"] = str(output)
    bench_config = output / "bench.yaml"
    bench_config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    events = output / "events.jsonl"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "trainer"))
    script = (
        "import resource, subprocess, sys, json\n"
        "code = subprocess.call(sys.argv[1:])\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'code': code, 'children_kb': peak}))\n"
    )
    train = [sys.executable, "-m", "vin_ocr", "train", str(bench_config)]
    result = subprocess.run(
        [sys.executable, "-c", script, *train, "--events", str(events)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if report["code"] != 0:
        raise SystemExit(f"the trainer failed:\n{result.stderr[-2000:]}")
    lines = events.read_text().splitlines()
    progress = [json.loads(line) for line in lines if '"progress"' in line]
    rate = _steady_rate(progress, raw["training"].get("batch_size", 64))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return rate, report["children_kb"] / 1024, children


def decoding_report(checkpoint: str, heldout: int) -> dict[str, Any]:
    from vin_ocr.data.heldout import held_out_families, typeface_set
    from vin_ocr.data.synthetic import synthetic_split
    from vin_ocr.reading import evaluate_labels, load_reader
    from vin_ocr.training.evaluate import read_images, score

    # A baseline checkpoint's reader has .model, .placement and .config.
    loaded: Any = load_reader(checkpoint, "cpu")
    config = loaded.config
    synthetic, height, width = (
        config.data.synthetic,
        config.model.height,
        config.model.width,
    )
    ratio = synthetic.north_american_ratio
    val = synthetic_split(synthetic.seed, synthetic.val_size, height, width, ratio)
    held = held_out_families()
    unseen = typeface_set(heldout, height, width, held)
    sets: dict[str, dict[str, Any]] = {}
    for name, pairs in (
        ("synthetic held-out set", val),
        (f"held-out typefaces {held}", unseen),
    ):
        images = [image for image, _ in pairs]
        reads = read_images(loaded.model, images, loaded.placement)
        metrics, _ = score(reads, [vin for _, vin in pairs], False)
        sets[name] = {
            "size": len(pairs),
            "exact_match_off": metrics["exact_match_greedy"],
            "exact_match_on": metrics["exact_match_check_digit"],
            "cer": metrics["cer"],
            "corrections": metrics["check_digit_corrections"],
        }
    labels = str(ROOT / "examples" / "data" / "labels.txt")
    for flag in (False, True):
        result = evaluate_labels(loaded, labels, check_digit=flag)
        figures = sets.setdefault("examples/data", {"size": result["size"]})
        exact = result["metrics"]["exact_match"]
        figures["exact_match_" + ("on" if flag else "off")] = exact
    return sets


def main() -> None:
    from vin_ocr.config import load_config
    from vin_ocr.training.data import auto_workers, fresh_share
    from vin_ocr.training.device import usable_cores

    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", default=str(ROOT / "examples" / "baseline.yaml"))
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--checkpoint")
    parser.add_argument("--heldout", type=int, default=500)
    args = parser.parse_args()
    config, _ = load_config(args.config)
    load, cores = os.getloadavg()[0], usable_cores()
    print(
        f"load average before: {load:.2f} on {cores} usable cores; torch",
        torch.__version__,
    )
    setting = config.training.num_workers
    workers = auto_workers("cpu") if setting == "auto" else int(setting)
    threads = max(1, cores - workers)
    batch = config.training.batch_size
    render = renderer_rate(10.0, config.model.height, config.model.width)
    print(f"renderer        {render:8.1f} images/s (one process)")
    bare = bare_loop_rate(config, args.steps, threads)
    shape = f"{threads} torch thread(s), batch {batch}"
    print(f"bare loop       {bare:8.1f} images/s ({shape})")
    with tempfile.TemporaryDirectory() as folder:
        rate, children_mb, _ = trainer_rate(Path(args.config), args.steps, Path(folder))
    reuse = 1 - fresh_share(config.data.synthetic.fresh_ratio, "cpu")
    how = f"{workers} render worker(s), pool re-use {reuse:.0%}"
    versus = f"{rate / bare:.2f}x the bare loop ({how}; timed apart, so load skews it)"
    print(f"trainer (CLI)   {rate:8.1f} images/s = {versus}")
    rounds = max(3, args.steps // 10)
    trainer, bare_alongside, ratio = interleaved_ratio(config, rounds, block=5)
    both = f"trainer {trainer:.1f} vs bare {bare_alongside:.1f} images/s"
    figures = f"{both} = {ratio:.2f}x"
    print(f"interleaved     {figures} (alternating blocks, median)")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak = f"{children_mb:8.1f} MB (largest trainer process); bench itself {own:.1f} MB"
    print(f"peak memory     {peak}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.checkpoint:
        for name, numbers in decoding_report(args.checkpoint, args.heldout).items():
            print(f"{name}: {json.dumps(numbers)}")


if __name__ == "__main__":
    main()
