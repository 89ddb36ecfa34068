"""Device and precision selection, per the hardware policy in ARCHITECTURE.md.

Platform: cuda when this torch sees CUDA, else mps when it sees MPS, else cpu.
Precision: bf16 on compute capability >= 8.0, fp16 (with a GradScaler) on older CUDA GPUs,
fp32 on MPS and the CPU. Asking for something the machine cannot do is an error with a hint,
never a silent fallback, except ``auto``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import torch

from ..errors import CUDA_UNAVAILABLE, INVALID_CONFIG, MPS_UNAVAILABLE, TrainerError


@dataclass(frozen=True)
class Placement:
    device: str  # cuda | mps | cpu
    dtype: str  # bf16 | fp16 | fp32
    name: str  # human-readable device name
    attention: str = "eager"  # the CRNN has no attention; reported for the contract

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    @property
    def autocast_dtype(self) -> Optional[torch.dtype]:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.dtype)

    @property
    def needs_grad_scaler(self) -> bool:
        return self.dtype == "fp16"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def _cuda_capability() -> tuple[int, int]:
    return torch.cuda.get_device_capability(0)


def choose_device(requested: str = "auto") -> str:
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if _mps_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        build = getattr(torch.version, "cuda", None)
        why = "this torch build has no CUDA support" if not build else "no CUDA GPU or driver is visible"
        raise TrainerError(
            CUDA_UNAVAILABLE,
            f"CUDA was requested but is not available ({why}; torch {torch.__version__}).",
            "Use --device auto or cpu, or install a CUDA build of torch (VIN OCR: Set Up Trainer Environment) on a machine with an NVIDIA driver.",
        )
    if requested == "mps" and not _mps_available():
        raise TrainerError(
            MPS_UNAVAILABLE,
            "MPS was requested but this torch does not see Apple's Metal backend.",
            "MPS needs macOS on Apple Silicon; use --device auto or cpu.",
        )
    if requested not in ("cuda", "mps", "cpu"):
        raise TrainerError(INVALID_CONFIG, f"Unknown device {requested!r}.", "Use auto, cuda, mps or cpu.")
    return requested


def choose_precision(device: str, requested: str = "auto") -> str:
    bf16_ok = device == "cuda" and _cuda_capability() >= (8, 0)
    if requested == "auto":
        if device == "cuda":
            return "bf16" if bf16_ok else "fp16"
        return "fp32"
    if requested == "bf16" and device == "cuda" and not bf16_ok:
        major, minor = _cuda_capability()
        raise TrainerError(
            INVALID_CONFIG,
            f"bf16 needs compute capability 8.0 or newer; this GPU has {major}.{minor}.",
            "Set training.precision to auto or fp16.",
        )
    if requested in ("bf16", "fp16") and device != "cuda":
        raise TrainerError(
            INVALID_CONFIG,
            f"{requested} mixed precision is only used on CUDA; this run is on {device}.",
            "Set training.precision to auto or fp32.",
        )
    return requested


def place(device: str = "auto", precision: str = "auto") -> Placement:
    chosen = choose_device(device)
    dtype = choose_precision(chosen, precision)
    if chosen == "cuda":
        name = torch.cuda.get_device_name(0)
    elif chosen == "mps":
        name = "Apple GPU (MPS)"
    else:
        name = f"CPU ({os.cpu_count() or 1} cores, {torch.get_num_threads()} torch threads)"
    return Placement(chosen, dtype, name)
