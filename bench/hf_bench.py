"""Step time and peak memory of vision-language fine-tuning, per attention implementation.

    .venv/bin/python bench/hf_bench.py            # CPU: tiny LFM2-VL, sdpa vs eager (about a minute)
    .venv/bin/python bench/hf_bench.py --cuda     # also the real LFM2.5-VL-1.6B architecture on CUDA

CPU: the tiny LFM2-VL (``python -m vin_ocr tiny-model``), LoRA training steps on batches of
VIN images through the trainer's own collator; each case runs in its own process so that its
peak resident memory (ru_maxrss) is its own.

CUDA (only where torch sees a GPU): LFM2.5-VL-1.6B's architecture built from its public
configuration values with random weights (nothing is downloaded), bf16, LoRA as the trainer
applies it, one 512x512 image (256 image tokens) per sample; eager, sdpa and, when the real
flash-attn is installed, flash_attention_2. Peak memory is torch's max_memory_allocated.
The seed claims sdpa is 1.5-2x faster than eager and flash-attention 2-4x faster with 5-20x
less memory; this prints what is true on the machine it runs on.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "trainer"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# LFM2.5-VL-1.6B (LiquidAI): LFM2.5-1.2B language model + SigLIP2 NaFlex vision encoder.
# Values of the public config.json; vision_feature_layer -2 of 27 layers = 26 layers in use.
CONV, ATTENTION = "conv", "full_attention"
LFM2_VL_1_6B_TEXT: dict[str, Any] = {
    "model_type": "lfm2",
    "vocab_size": 65536,
    "hidden_size": 2048,
    # block_auto_adjust_ff_dim turns this into an 8192-wide SwiGLU
    "intermediate_size": 12288,
    "num_hidden_layers": 16,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "max_position_embeddings": 128000,
    "norm_eps": 1e-5,
    "conv_L_cache": 3,
    "conv_bias": False,
    "block_auto_adjust_ff_dim": True,
    "block_multiple_of": 256,
    "block_ffn_dim_multiplier": 1.0,
    "layer_types": [CONV, CONV, ATTENTION] * 2 + [CONV, CONV] + [ATTENTION, CONV] * 4,
}
LFM2_VL_1_6B_VISION: dict[str, Any] = {
    "model_type": "siglip2_vision_model",
    "hidden_size": 1152,
    "intermediate_size": 4304,
    "num_hidden_layers": 26,
    "num_attention_heads": 16,
    "patch_size": 16,
    "num_patches": 256,
    "vision_use_head": False,
}
# A shrunken architecture for --dry-run: the same code on the CPU, in seconds.
DRY_RUN_TEXT: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 3,
    "layer_types": [CONV, ATTENTION, CONV],
}
DRY_RUN_VISION: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
}
IMAGE_TOKEN_ID = 396


# ---- CPU: the tiny model ------------------------------------------------------------------------


def cpu_case(attention: str, steps: int, batch_size: int) -> dict[str, Any]:
    import random

    import torch
    from PIL import Image, ImageDraw

    directory = Path(tempfile.mkdtemp(prefix="hf-bench-")) / "tiny"
    # The trainer's modules, after a statement: their own import block (first-party to the
    # trainer's lint config, third-party to ruff's defaults).
    from vin_ocr.models.hf.collate import Lfm2VlCollator
    from vin_ocr.models.hf.loading import load_processor, load_vlm
    from vin_ocr.models.hf.lora import apply_lora
    from vin_ocr.tiny_models import write_tiny_lfm2_vl
    from vin_ocr.vin import random_vin

    folder = write_tiny_lfm2_vl(directory)
    processor = load_processor(str(folder))
    loaded = load_vlm(str(folder), "lfm2-vl", attention, "fp32")
    model = apply_lora(loaded.model, "lfm2-vl")
    collator = Lfm2VlCollator(processor)
    rng = random.Random(0)

    def image(vin: str) -> Any:
        picture = Image.new("L", (240, 36), 235)
        ImageDraw.Draw(picture).text((6, 12), vin, fill=20)
        return picture.convert("RGB")

    vins = [random_vin(rng, True) for _ in range(batch_size)]
    batch = collator.training_batch([(image(v), v) for v in vins])
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=1e-3)
    times, cpu_times = [], []
    for step in range(steps + 2):  # two warm-up steps
        started, cpu_started = time.perf_counter(), time.process_time()
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step >= 2:
            times.append(time.perf_counter() - started)
            # CPU time of all threads: far less disturbed than wall time when other work shares the cores.
            cpu_times.append(time.process_time() - cpu_started)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "device": "cpu",
        "model": "tiny LFM2-VL (hidden 32, 2+2 layers)",
        "attention": attention,
        "dtype": "fp32",
        "batch_size": batch_size,
        "sequence_length": int(batch["input_ids"].shape[1]),
        "step_ms_median": round(statistics.median(times) * 1000, 1),
        "step_ms_min": round(min(times) * 1000, 1),
        "step_cpu_ms_median": round(statistics.median(cpu_times) * 1000, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "torch_threads": torch.get_num_threads(),
    }


# ---- CUDA: the real architecture with random weights ------------------------------------------


def cuda_case(
    attention: str,
    steps: int,
    batch_size: int,
    text_tokens: int,
    device: str = "cuda",
) -> dict[str, Any]:
    """``device="cpu"`` (``--dry-run``) runs the same code on a shrunken architecture, to check it without a GPU."""
    import torch
    from transformers import Lfm2VlConfig, Lfm2VlForConditionalGeneration

    on_gpu = device == "cuda"
    # The trainer's module, after a statement: its own import block (see cpu_case).
    from vin_ocr.models.hf.lora import apply_lora

    text, vision = dict(LFM2_VL_1_6B_TEXT), dict(LFM2_VL_1_6B_VISION)
    if not on_gpu:
        text.update(DRY_RUN_TEXT)
        vision.update(DRY_RUN_VISION)
    config = Lfm2VlConfig(
        text_config=text,
        vision_config=vision,
        image_token_id=IMAGE_TOKEN_ID,
        projector_hidden_size=2560 if on_gpu else 64,
        downsample_factor=2,
    )
    config._attn_implementation = attention
    config.text_config._attn_implementation = attention
    config.vision_config._attn_implementation = attention
    torch.manual_seed(0)
    dtype = torch.bfloat16 if on_gpu else torch.float32
    with torch.device(device):
        model = Lfm2VlForConditionalGeneration(config).to(dtype)
    model = apply_lora(model, "lfm2-vl")
    side, patch, factor = 512, 16, 2
    patches = (side // patch) ** 2
    image_tokens = patches // factor**2
    generator = torch.Generator(device=device).manual_seed(0)
    shape = (batch_size, text_tokens)
    words = torch.randint(1000, 60000, shape, device=device, generator=generator)
    images = torch.full((batch_size, image_tokens), IMAGE_TOKEN_ID, device=device)
    input_ids = torch.cat([words[:, :8], images, words[:, 8:]], dim=1)
    labels = input_ids.clone()
    # Only the 17-character answer and its end are learnt.
    labels[:, : 8 + image_tokens + text_tokens - 18] = -100
    pixels = (batch_size, patches, 3 * patch * patch)
    grid = [[side // patch, side // patch]] * batch_size
    batch = {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "labels": labels,
        "pixel_values": torch.randn(
            pixels,
            device=device,
            dtype=dtype,
            generator=generator,
        ),
        "pixel_attention_mask": torch.ones(
            (batch_size, patches),
            device=device,
            dtype=torch.int32,
        ),
        "spatial_shapes": torch.tensor(grid, device=device),
    }
    trained = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=1e-4)
    times = []
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    for step in range(steps + 3):  # three warm-up steps (kernel selection, allocator)
        if on_gpu:
            torch.cuda.synchronize()
        started = time.perf_counter()
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if on_gpu:
            torch.cuda.synchronize()
        if step >= 3:
            times.append(time.perf_counter() - started)
    peak = torch.cuda.max_memory_allocated() / 2**20 if on_gpu else None
    name = torch.cuda.get_device_name(0) if on_gpu else "cpu (dry run, shrunken)"
    return {
        "device": name,
        "model": "LFM2.5-VL-1.6B architecture, random weights, LoRA r=16",
        "attention": attention,
        "dtype": "bf16" if on_gpu else "fp32",
        "attention_in_use": model.get_base_model().config._attn_implementation,
        "batch_size": batch_size,
        "sequence_length": int(input_ids.shape[1]),
        "step_ms_median": round(statistics.median(times) * 1000, 1),
        "step_ms_min": round(min(times) * 1000, 1),
        "peak_gpu_mib": None if peak is None else round(peak, 1),
    }


def real_flash_attn() -> bool:
    from vin_ocr.hardware import flash_attn_status

    status = flash_attn_status()
    return status is not None and status != "stub"


# ---- driver -------------------------------------------------------------------------------------


def run_isolated(case: list[str], timeout: int) -> dict[str, Any]:
    """Each case in a fresh interpreter: peak memory figures must not include the previous case."""
    command = [sys.executable, __file__, "--case", *case]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"case": " ".join(case), "error": " | ".join(tail)}
    return json.loads(done.stdout.strip().splitlines()[-1])


COLUMNS = [
    "device",
    "attention",
    "dtype",
    "batch",
    "seq",
    "step ms (median)",
    "step CPU ms",
    "peak MiB",
]
ROW_KEYS = ["device", "attention", "dtype", "batch_size", "sequence_length"]


def _line(cells: list[Any]) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [_line(COLUMNS), _line(["---"] * len(COLUMNS)).replace(" ", "")]
    for row in rows:
        if "error" in row:
            failed = [row["case"], f"failed: {row['error'][:80]}"]
            lines.append(_line(failed + [""] * (len(COLUMNS) - 2)))
            continue
        peak = row.get("peak_gpu_mib", row.get("peak_rss_mib"))
        cells = [row[key] for key in ROW_KEYS] + [row["step_ms_median"]]
        cells += [row.get("step_cpu_ms_median", "-"), peak]
        lines.append(_line(cells))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cuda_help = "also run the CUDA section (needs a GPU)"
    parser.add_argument("--cuda", action="store_true", help=cuda_help)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--json", help="write the results here as JSON")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="run the CUDA section's code on the CPU with a shrunken model (checks it without a GPU)",
    )
    parser.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        kind, attention, *rest = args.case
        if kind == "cpu":
            result = cpu_case(attention, args.steps, args.batch_size)
        else:
            device = rest[1] if len(rest) > 1 else "cuda"
            tokens = int(rest[0])
            result = cuda_case(attention, args.steps, args.batch_size, tokens, device)
        print(json.dumps(result))
        return 0

    size = ["--steps", str(args.steps), "--batch-size", str(args.batch_size)]
    if args.dry_run:
        tiny = ["--steps", "2", "--batch-size", "2"]
        attentions = ("eager", "sdpa")
        rows = [run_isolated(["cuda", a, "48", "cpu", *tiny], 600) for a in attentions]
        print(table(rows))
        return 0 if all("error" not in row for row in rows) else 1
    rows = [run_isolated(["cpu", a, *size], 600) for a in ("sdpa", "eager")]
    if args.cuda:
        import torch

        if not torch.cuda.is_available():
            why = "this torch sees no CUDA device"
            print(f"CUDA section skipped: {why}.", file=sys.stderr)
        else:
            attentions = ["eager", "sdpa"]
            if real_flash_attn():
                attentions.append("flash_attention_2")
            else:
                why = "the real flash-attn package is not installed"
                print(f"flash_attention_2 skipped: {why}.", file=sys.stderr)
            # A VIN prompt, and a long one where attention dominates.
            for text_tokens in (48, 1792):
                for attention in attentions:
                    case = ["cuda", attention, str(text_tokens), *size]
                    rows.append(run_isolated(case, 600))
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0 if all("error" not in row for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
