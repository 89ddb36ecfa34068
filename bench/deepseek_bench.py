"""DeepSeek-OCR's real code on this machine: step time and peak memory, LoRA against a full fine-tune.

    scripts/setup-deepseek.sh
    .deepseek-venv/bin/python bench/deepseek_bench.py [--steps 3] [--batch-size 1] [--model DIR] [--json FILE]

The model is the tests' small one, built from the vendored, unmodified remote code (``../shared/vendor/DeepSeek-OCR``):
2 language layers, a 2-layer SAM and a 1-layer CLIP, the real vocabulary (129,280) and added-token ids, random
weights, ``tiny`` images (512 px), fp32, eager attention, the trainer's device shim. Each mode runs in its own
process (peak memory is the process's maximum resident set, loading included): one warm-up step, then
``--steps`` timed ones (forward, backward, AdamW step). LoRA is the family's recipe (r=16 on the language model's
q/k/v/o and gate/up/down projections); full trains every language-model weight (the vision side stays frozen,
as its forward runs it under no_grad).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TRAINER = REPO / "trainer"
sys.path[:0] = [str(TRAINER), str(TRAINER / "tests")]
MODES = ("lora", "lora+checkpointing", "full")


def measure(model_dir: Path, mode: str, steps: int, batch_size: int) -> dict[str, Any]:
    import torch
    from fixtures_hf.helpers import vin_image

    from vin_ocr.families.deepseek_ocr import FAMILY
    from vin_ocr.families.vlm.run import _drop_input_require_grads
    from vin_ocr.models.hf.deepseek import DeepSeekOcrCollator
    from vin_ocr.models.hf.generation import move_batch
    from vin_ocr.models.hf.loading import load_vlm
    from vin_ocr.models.hf.lora import apply_lora, count_parameters
    from vin_ocr.vin import random_vin

    traits = FAMILY.traits
    started = time.monotonic()
    model = load_vlm(str(model_dir), traits.name, "eager", "fp32", trust_remote_code=True).model
    loaded = time.monotonic() - started
    traits.on_device(model, torch.device("cpu"), "full" if mode == "full" else "lora")
    if mode == "lora+checkpointing":
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    if mode != "full":
        model = apply_lora(model, traits.lora)
        _drop_input_require_grads(model)
    trainable, parameters = count_parameters(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    collator = DeepSeekOcrCollator(traits.load_processor(str(model_dir), True, None), "tiny")
    import random

    rng = random.Random(0)
    vins = [random_vin(rng, True) for _ in range(batch_size)]
    batch = move_batch(collator.training_batch([(vin_image(vin), vin) for vin in vins]), torch.device("cpu"), torch.float32)
    model.train()
    times = []
    for step in range(steps + 1):
        begin = time.perf_counter()
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step:  # the first step warms up (allocations, the remote code's first calls)
            times.append(time.perf_counter() - begin)
    return {
        "mode": mode,
        "parameters": parameters,
        "trainable_parameters": trainable,
        "load_seconds": round(loaded, 2),
        "step_seconds_median": round(statistics.median(times), 3),
        "step_seconds": [round(t, 3) for t in times],
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "tokens": int(batch["input_ids"].numel()),
        "batch_size": batch_size,
        "threads": torch.get_num_threads(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per mode (after one warm-up step)")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--model", type=Path, help="a small model folder already built (default: build one in a temporary folder)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.child:
        print(json.dumps(measure(args.model, args.child, args.steps, args.batch_size)))
        return 0
    with tempfile.TemporaryDirectory(prefix="vin-ocr-deepseek-bench-") as scratch:
        env = {**os.environ, "HF_HOME": os.environ.get("HF_HOME", str(Path(scratch) / "hf")), "PYTHONPATH": str(TRAINER)}
        model_dir = args.model
        if model_dir is None:
            model_dir = Path(scratch) / "small-deepseek-ocr"
            builder = "from pathlib import Path; import sys; from fixtures_deepseek.small_model import build; build(Path(sys.argv[1]))"
            subprocess.run(
                [sys.executable, "-c", builder, str(model_dir)], check=True, env={**env, "PYTHONPATH": f"{TRAINER}:{TRAINER / 'tests'}"}
            )
        results = []
        for mode in args.modes.split(","):
            command = [sys.executable, __file__, "--child", mode, "--model", str(model_dir), "--steps", str(args.steps)]
            command += ["--batch-size", str(args.batch_size)]
            done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results.append(result)
            print(
                f"{mode:>20}: {result['step_seconds_median']:.2f} s a step (median of {args.steps}), "
                f"peak {result['peak_rss_gib']:.2f} GiB, "
                f"{result['trainable_parameters'] / 1e6:.2f}M of {result['parameters'] / 1e6:.1f}M parameters trained",
                file=sys.stderr,
            )
    report = {"machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end", "results": results}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
