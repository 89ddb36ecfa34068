"""Checkpoints: written atomically, read back with clear errors.

A checkpoint is written to a temporary file in the same folder, flushed to disk, then
renamed over the old one, so a crash or a kill mid-write leaves the previous checkpoint
intact — never a truncated file that fails to load.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Union

import torch

from ..errors import CHECKPOINT_INVALID, TrainerError

FORMAT = "vin-ocr-checkpoint"
FORMAT_VERSION = 1
LAST = "last.pt"
BEST = "best.pt"


def save_atomically(state: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **state}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable; not possible on every platform (Windows)
        directory = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(directory)
    except OSError:
        pass
    finally:
        os.close(directory)


def resolve_checkpoint(target: Union[str, Path], prefer: str = LAST) -> Path:
    """A checkpoint file, or a run directory (its checkpoints/<prefer>, else the other one)."""
    path = Path(target).expanduser()
    if path.is_dir():
        folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
        for name in (prefer, BEST if prefer == LAST else LAST):
            if (folder / name).is_file():
                return folder / name
        raise TrainerError(
            CHECKPOINT_INVALID,
            f"No checkpoint in {path} (looked for checkpoints/{LAST} and checkpoints/{BEST}).",
            "Pass a run directory that has trained at least until its first checkpoint, or a .pt file.",
        )
    if not path.is_file():
        raise TrainerError(
            CHECKPOINT_INVALID, f"Checkpoint {path} does not exist.", "Check the path; runs keep theirs in <run>/checkpoints/."
        )
    return path


def load_checkpoint(target: Union[str, Path], prefer: str = LAST) -> tuple[dict[str, Any], Path]:
    path = resolve_checkpoint(target, prefer)
    try:
        # weights_only: a checkpoint is data, never code to run (it holds only tensors and plain values).
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle, zip and torch errors all mean the same to the user
        raise TrainerError(
            CHECKPOINT_INVALID,
            f"{path} is not a readable checkpoint ({type(error).__name__}: {error}).",
            "Use another checkpoint (best.pt or last.pt of a finished run).",
        ) from error
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise TrainerError(
            CHECKPOINT_INVALID, f"{path} is not a VIN OCR checkpoint.", "Pass a checkpoint written by `python -m vin_ocr train`."
        )
    if state.get("format_version", 0) > FORMAT_VERSION:
        raise TrainerError(CHECKPOINT_INVALID, f"{path} was written by a newer trainer.", "Update the VIN OCR extension.")
    return state, path
