"""Data-parallel training: what the DDP path costs, and what several processes give.

    .venv/bin/python bench/distributed_bench.py [--seconds 90] [--config examples/baseline.yaml]
                                                [--rounds 1] [--agree-calls 2000] [--step-rounds 8]

The same baseline config (random initial weights, no evaluation while measuring) trained for
``--seconds`` each way (``--rounds`` times, in turn, so that load on the machine hits each alike),
images/s read from the progress events once the run is warm:

1. plain: ``python -m vin_ocr train`` in one process (no process group, no DDP);
2. torchrun's only rank: torchrun started by hand with one rank (the trainer then trains as a
   plain process: no process group, no DDP);
3. two ranks: ``python -m vin_ocr train --nproc-per-node 2`` (the global batch doubles; on a
   machine with fewer cores than it has ranks they only share the cores);

then what DDP itself would cost at world size 1 (the CRNN's training step, plain and wrapped in
DistributedDataParallel over gloo, timed in alternating blocks, which load hits alike), and the
cost of the per-step agreement (``Team.agree``: one all_reduce of two numbers) between two
ranks, timed over ``--agree-calls`` calls. The machine's load average is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "trainer"))
# The trainer's modules are imported inside the functions: the path above must come first.

WARM_SECONDS = 20.0  # the render pool is full and caches warm by then
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "trainer")}


def bench_config(config: Path, seconds: float, folder: Path) -> Path:
    import yaml

    raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    raw.setdefault("model", {})["init_from"] = "none"
    training = raw.setdefault("training", {})
    training.update(
        max_minutes=seconds / 60,
        max_steps=10**7,
        eval_every=10**7,
        device="cpu",
    )
    raw.setdefault("data", {}).setdefault("synthetic", {})["val_size"] = 32
    raw.update(output_dir=str(folder / "runs"))
    for key in ("train", "val", "test"):  # paths in the example are relative to it
        value = raw["data"].get(key)
        if value not in (None, "synthetic"):
            raw["data"][key] = str((config.parent / value).resolve())
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def measure(command: list[str]) -> dict[str, Any]:
    """Runs a train command; steady images/s and facts from its events."""
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, check=False)
    wall = time.monotonic() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    events = [json.loads(line) for line in lines]
    if not events or events[-1].get("status") != "completed":
        raise SystemExit(f"{command} failed:\n{done.stderr[-3000:]}")
    start = events[0]
    batch = start.get("global_batch_size") or start["config"]["training"]["batch_size"]
    progress = [e for e in events if e["event"] == "progress"]
    warm = [e for e in progress if e["elapsed_seconds"] >= WARM_SECONDS]
    first, last = warm[0], warm[-1]
    steps = last["step"] - first["step"]
    seconds = last["elapsed_seconds"] - first["elapsed_seconds"]
    return {
        "world_size": start.get("world_size", 1),
        "global_batch": batch,
        "steps": last["step"],
        "images_per_s": steps * batch / seconds,
        "ms_per_step": 1000 * seconds / steps,
        "wall_s": wall,
    }


def ddp_step_cost(config: Path, steps: int, rounds: int) -> tuple[float, float]:
    """Median ms per CRNN training step: plain, and through DDP at world size 1."""
    import copy
    import statistics

    from vin_ocr.config import load_config
    from vin_ocr.families.baseline.run import GRADIENT_CLIP, adamw
    from vin_ocr.models import BLANK, build_model
    from vin_ocr.training.device import place, usable_cores

    loaded, _ = load_config(config)
    model_config, training = loaded.model, loaded.training
    placement = place("cpu", training.precision)
    torch.set_num_threads(max(1, usable_cores() - 1))  # the trainer's: one core renders
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    plain = build_model(model_config)
    plain.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # as the trainer
    wrapped = DistributedDataParallel(copy.deepcopy(plain))
    nets = {"plain": plain, "ddp": wrapped}
    optimizers = {name: adamw(net, 1e-3) for name, net in nets.items()}
    batch = training.batch_size
    images = torch.rand(batch, 1, model_config.height, model_config.width)
    images = images.contiguous(memory_format=torch.channels_last)
    targets = torch.randint(1, 34, (batch, 17))
    ctc = torch.nn.CTCLoss(blank=BLANK, zero_infinity=True)
    dtype = placement.autocast_dtype

    def step(name: str) -> None:
        net, optimizer = nets[name], optimizers[name]
        with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
            log_probs = net(images)
        log_probs = log_probs.float().transpose(0, 1)
        frames = torch.full((batch,), log_probs.shape[0], dtype=torch.long)
        lengths = torch.full((batch,), 17, dtype=torch.long)
        loss = ctc(log_probs, targets, frames, lengths)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), GRADIENT_CLIP)
        optimizer.step()

    times: dict[str, list[float]] = {"plain": [], "ddp": []}
    for name in nets:  # warm-up
        for _ in range(3):
            step(name)
    for _ in range(rounds):
        for name in nets:
            started = time.perf_counter()
            for _ in range(steps):
                step(name)
            times[name].append(1000 * (time.perf_counter() - started) / steps)
    dist.destroy_process_group()
    return statistics.median(times["plain"]), statistics.median(times["ddp"])


def agree_cost(calls: int) -> float:
    """Microseconds per Team.agree between two ranks (rank 0 prints it)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc-per-node=2", __file__, "--agree-worker", str(calls)]
    env = {**ENV, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return float(done.stdout.split()[-1])


def agree_worker(calls: int) -> None:
    from vin_ocr.config import DistributedConfig
    from vin_ocr.training.distributed import Team

    team = Team.join(DistributedConfig(), "cpu")
    for _ in range(50):  # connections up, caches warm
        team.agree(False, 1.0)
    started = time.perf_counter()
    for step in range(calls):
        team.agree(False, float(step))
    microseconds = (time.perf_counter() - started) / calls * 1e6
    if team.is_main:
        print(f"{microseconds:.1f}")
    team.close(failed=False)


def report(name: str, result: dict[str, Any]) -> None:
    print(
        f"{name:18} world {result['world_size']}, global batch "
        f"{result['global_batch']:4}: {result['images_per_s']:7.1f} images/s, "
        f"{result['ms_per_step']:6.1f} ms/step "
        f"({result['steps']} steps, {result['wall_s']:.0f} s wall)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--config", type=Path, default=ROOT / "examples/baseline.yaml")
    parser.add_argument("--agree-calls", type=int, default=2000)
    parser.add_argument("--step-rounds", type=int, default=8, help="blocks of 10 steps")
    parser.add_argument("--agree-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.agree_worker:
        agree_worker(args.agree_worker)
        return
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="vin-ocr-ddp-bench-") as folder:
        config = bench_config(args.config, args.seconds, Path(folder))
        train = [sys.executable, "-m", "vin_ocr", "train", str(config), "--events", "-"]
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        variants = {
            "plain, 1 process": train,
            "torchrun, 1 rank": [*torchrun, "--nproc-per-node=1", "-m", *train[2:]],
            "2 processes": [*train, "--nproc-per-node", "2"],
        }
        rates: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, command in variants.items():
                result = measure(command)
                report(name, result)
                rates[name].append(result["images_per_s"])
        mean = {name: sum(values) / len(values) for name, values in rates.items()}
        change = 100 * (mean["torchrun, 1 rank"] / mean["plain, 1 process"] - 1)
        print(f"torchrun's only rank vs plain: {change:+.1f} % images/s")
        bare, ddp = ddp_step_cost(config, 10, args.step_rounds)
    change = 100 * (ddp / bare - 1)
    print(f"CRNN step: plain {bare:.1f} ms, DDP at world size 1 {ddp:.1f} ms", end="")
    print(f" ({change:+.1f} %)")
    agree = agree_cost(args.agree_calls)
    print(f"agree (all_reduce of 2 numbers, 2 ranks): {agree:.0f} µs per step")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
