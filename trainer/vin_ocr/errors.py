"""Trainer errors with stable codes and hints the extension can act on.

Every failure that reaches the command line is a :class:`TrainerError`; its ``code`` is
one of the ``error.code`` values in ``schemas/trainer-events.schema.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

OUT_OF_MEMORY = "out_of_memory"
MISSING_DEPENDENCY = "missing_dependency"
INVALID_DATASET = "invalid_dataset"
INVALID_CONFIG = "invalid_config"
FLASH_ATTN_MISSING = "flash_attn_missing"
CUDA_UNAVAILABLE = "cuda_unavailable"
MPS_UNAVAILABLE = "mps_unavailable"
CHECKPOINT_INVALID = "checkpoint_invalid"
IO_ERROR = "io_error"
INTERNAL_ERROR = "internal_error"
# PaddleOCR (model.type: paddleocr), whose training runs in the user's clone with PaddlePaddle's own environment.
PADDLE_MISSING = "paddle_missing"
PADDLEOCR_CLONE_INVALID = "paddleocr_clone_invalid"
PADDLEOCR_DEPS_MISSING = "paddleocr_deps_missing"
PADDLEOCR_FAILED = "paddleocr_failed"


class TrainerError(Exception):
    """A failure the user can fix: a stable code, a message and a hint saying how."""

    def __init__(
        self,
        code: str,
        message: str,
        hint: str,
        issues: Sequence[str] = (),
        command: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.issues = list(issues)
        self.command = command

    def to_event(self) -> dict:
        """The ``error`` object of a failed ``run_finished`` event."""
        error: dict = {"code": self.code, "message": self.message, "hint": self.hint}
        if self.issues:
            error["issues"] = self.issues
        if self.command:
            error["command"] = self.command
        return error

    def __str__(self) -> str:
        lines = [f"[{self.code}] {self.message}"]
        lines += [f"  {issue}" for issue in self.issues[:50]]
        if len(self.issues) > 50:
            lines.append(f"  … and {len(self.issues) - 50} more")
        lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


def pip_command(*requirements: str) -> str:
    """The exact command that installs ``requirements`` into the interpreter running now."""
    return " ".join([sys.executable, "-m", "pip", "install", *requirements])


def missing_dependency(module: str, requirement: str) -> TrainerError:
    command = pip_command(requirement)
    return TrainerError(
        MISSING_DEPENDENCY,
        f"The Python package '{module}' is not installed in {sys.executable}.",
        f"Install it with: {command}",
        command=command,
    )


def out_of_memory(device: str, batch_size: int) -> TrainerError:
    advice = "set training.batch_size to 1"
    if device != "cpu":
        advice += ", or train on the CPU (training.device: cpu / --device cpu)"
    return TrainerError(
        OUT_OF_MEMORY,
        f"The {device} device ran out of memory at batch size {batch_size}.",
        f"Reduce memory use: {advice}.",
    )


def flash_attn_missing() -> TrainerError:
    # The stub ships next to the package (trainer/stubs/); an absolute path works from any folder.
    stub = Path(__file__).resolve().parents[1] / "stubs" / "flash_attn_stub"
    command = pip_command("-e", str(stub))
    return TrainerError(
        FLASH_ATTN_MISSING,
        "flash_attn is not importable, but the model's remote code imports it.",
        "On CUDA with compute capability >= 8.0 install flash-attn==2.7.3 "
        f"(pip install flash-attn==2.7.3 --no-build-isolation); elsewhere install the stub: {command}",
        command=command,
    )


def translate(error: BaseException, device: str = "cpu", batch_size: int = 0) -> TrainerError:
    """Turn an unexpected exception into a TrainerError with the most useful code."""
    if isinstance(error, TrainerError):
        return error
    if isinstance(error, ModuleNotFoundError) and error.name:
        top = error.name.split(".")[0]
        if top == "flash_attn":
            return flash_attn_missing()
        return missing_dependency(top, {"PIL": "Pillow", "yaml": "PyYAML"}.get(top, top))
    text = str(error)
    if isinstance(error, MemoryError) or "out of memory" in text.lower():
        return out_of_memory(device, batch_size)
    if isinstance(error, OSError):
        return TrainerError(IO_ERROR, text or type(error).__name__, "Check that the path exists, is readable and the disk is not full.")
    return TrainerError(
        INTERNAL_ERROR,
        f"{type(error).__name__}: {text}",
        "This is a bug in the trainer; train.log in the run directory has the traceback.",
    )
