"""When a vision-language model cannot run here: say why, and train the configured fallback.

The thresholds are the hardware policy's minimums (ARCHITECTURE.md, "Fit per model"; memory in
decimal GB). A config's ``fallback: {enabled: true, type: baseline}`` then trains the CRNN-CTC
baseline on the same data instead of failing, after a ``model_fallback`` warning that says why.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Optional

from .policy import DEEPSEEK_OCR, LFM2_VL

GB = 10**9
# family -> (CUDA VRAM minimum, MPS/CPU RAM minimum), decimal GB.
MINIMUMS = {DEEPSEEK_OCR: (8, 16), LFM2_VL: (4, 8)}
NAMES = {DEEPSEEK_OCR: "DeepSeek-OCR", LFM2_VL: "LFM2.5-VL"}


def transformers_version() -> Optional[str]:
    if importlib.util.find_spec("transformers") is None:
        return None
    import transformers

    return str(transformers.__version__)


def _major_minor(version: str) -> tuple[int, int]:
    parts = [int("".join(ch for ch in piece if ch.isdigit()) or 0) for piece in version.split(".")[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def fallback_reason(
    family: str,
    device: str,
    ram_bytes: Optional[int],
    vram_bytes: Optional[int],
    transformers: Optional[str],
) -> Optional[str]:
    """Why ``family`` cannot be fine-tuned on this machine, or None when it can."""
    name = NAMES[family]
    if transformers is None:
        return f"transformers is not installed in this Python environment, and {name} needs it"
    if family == LFM2_VL and _major_minor(transformers) < (4, 57):
        return f"{name} needs transformers 4.57 or newer; this environment has {transformers}"
    vram_min, ram_min = MINIMUMS[family]
    if device == "cuda":
        if vram_bytes is not None and vram_bytes < vram_min * GB:
            return f"{name} needs at least {vram_min} GB of GPU memory; this GPU has {vram_bytes / GB:.1f} GB"
        return None
    if ram_bytes is not None and ram_bytes < ram_min * GB:
        return f"{name} needs at least {ram_min} GB of memory on {device.upper()}; this machine has {ram_bytes / GB:.1f} GB"
    return None


def machine_memory() -> Optional[int]:
    try:
        import os

        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not on every platform (Windows)
        return None


def baseline_config(settings: Any) -> dict[str, Any]:
    """A baseline training config on the same data and budget as the fine-tuning settings."""
    base = Path(settings.base_dir)

    def absolute(source: Optional[str]) -> Optional[str]:
        if source in (None, "synthetic"):
            return source
        path = Path(str(source))
        return str(path if path.is_absolute() else (base / path).resolve())

    training: dict[str, Any] = {"seed": settings.seed, "device": settings.device}
    if settings.max_steps:
        training["max_steps"] = settings.max_steps
    if settings.max_minutes:
        training["max_minutes"] = settings.max_minutes
    output = Path(settings.output_dir)
    return {
        "model": {"type": "baseline"},
        "data": {"train": absolute(settings.train), "val": absolute(settings.val), "test": absolute(settings.test), "on_bad_rows": settings.on_bad_rows},
        "training": training,
        "output_dir": str(output if output.is_absolute() else (base / output).resolve()),
    }
