"""Checkpoints of a fine-tuning run: the adapter (or full weights) plus the trainer's state.

``<run>/checkpoints/last/`` and ``best/`` are folders: peft's ``adapter_model.safetensors`` +
``adapter_config.json`` (loadable by ``PeftModel.from_pretrained`` on top of the base model),
or the full model for full fine-tuning, ``trainer_state.pt`` (step, optimizer, best metric)
written with the baseline's atomic ``save_atomically``, and ``checkpoint.json`` (family, step and
resolved config: what ``evaluate``/``predict`` need, without loading the optimiser state). A folder is written beside
its final name and swapped in with renames, so a kill mid-write never leaves a half folder
under the final name.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Optional

import torch

from ...errors import CHECKPOINT_INVALID, TrainerError
from ...training.checkpoints import FORMAT, save_atomically

STATE_FILE = "trainer_state.pt"
SUMMARY_FILE = "checkpoint.json"


def save_checkpoint(model: Any, state: dict[str, Any], folder: Path, summary: Optional[dict[str, Any]] = None) -> Path:
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        model.save_pretrained(staging)
        save_atomically(state, staging / STATE_FILE)
        if summary is not None:
            (staging / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
        retired = folder.with_name(f".{folder.name}.old")
        if retired.exists():
            shutil.rmtree(retired)
        if folder.exists():
            os.replace(folder, retired)
        os.replace(staging, folder)
        shutil.rmtree(retired, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def load_state(folder: Path) -> dict[str, Any]:
    path = folder / STATE_FILE
    if not path.is_file():
        raise TrainerError(
            CHECKPOINT_INVALID,
            f"{folder} has no {STATE_FILE}: it is not a fine-tuning checkpoint.",
            "Resume from a run directory written by vin_ocr.training.hf_finetune.",
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise TrainerError(
            CHECKPOINT_INVALID, f"{path} is not readable ({error}).", "Use the run's other checkpoint (best or last)."
        ) from error
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise TrainerError(
            CHECKPOINT_INVALID, f"{path} is not a VIN OCR checkpoint.", "Resume from a run directory written by the trainer."
        )
    return state


def load_adapter_weights(model: Any, folder: Path) -> None:
    """Puts a saved LoRA adapter's weights into an already wrapped peft model."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    weights = folder / "adapter_model.safetensors"
    if not weights.is_file():
        raise TrainerError(CHECKPOINT_INVALID, f"{folder} has no adapter_model.safetensors.", "Resume from a LoRA run's checkpoint folder.")
    result = set_peft_model_state_dict(model, load_file(str(weights)))
    unexpected = list(getattr(result, "unexpected_keys", []) or [])
    if unexpected:
        raise TrainerError(
            CHECKPOINT_INVALID,
            f"The adapter in {folder} does not fit this model ({len(unexpected)} unexpected weights, e.g. {unexpected[0]}).",
            "Resume with the same model_id and LoRA rank the run was started with.",
        )


def read_summary(folder: Path) -> Optional[dict[str, Any]]:
    try:
        summary = json.loads((folder / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


def find_checkpoint(run_dir: Path, prefer: str = "last") -> Optional[Path]:
    for name in (prefer, "best" if prefer == "last" else "last"):
        candidate = run_dir / "checkpoints" / name
        if (candidate / STATE_FILE).is_file():
            return candidate
    return None
