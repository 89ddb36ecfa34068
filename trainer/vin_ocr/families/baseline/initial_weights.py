"""Where a baseline run's weights start (``model.init_from``): the shipped pretrained reader, a
checkpoint of the user's, or random weights.

Unset means "the shipped reader when it fits": a config whose model has other dimensions (or an
installation without the shipped weights) starts from random weights and says so, while an
explicit ``pretrained`` or path that cannot be used is an error that names the mismatch.
Only the weights are taken: the optimiser, schedule and step start afresh (fine-tuning, not resuming).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ...errors import CHECKPOINT_INVALID, TrainerError
from ...pretrained import SHIPPED_CHECKPOINT

PRETRAINED, NONE = "pretrained", "none"
SHAPE_KEYS = ("height", "width", "hidden_size")


def _mismatch(model: Any, saved: dict[str, Any]) -> list[str]:
    return [f"{key} {saved.get(key)} (this config: {getattr(model, key)})" for key in SHAPE_KEYS if saved.get(key) != getattr(model, key)]


def _load(path: Path) -> dict[str, Any]:
    from ...training.checkpoints import BEST, load_checkpoint

    state, _ = load_checkpoint(path, prefer=BEST)
    return state


def initial_weights(model: Any) -> tuple[Optional[dict[str, Any]], str]:
    """The state dict to start from (None: random) and a sentence for the log and run_started."""
    setting = model.init_from
    if setting == NONE:
        return None, "random weights (model.init_from: none)"
    explicit = setting is not None
    path = SHIPPED_CHECKPOINT if setting in (None, PRETRAINED) else Path(setting)
    what = "the shipped pretrained reader" if path == SHIPPED_CHECKPOINT else str(path)
    if not path.exists():
        if not explicit:
            return None, "random weights (this installation has no shipped pretrained reader)"
        fix = "Reinstall the extension." if path == SHIPPED_CHECKPOINT else "Point model.init_from at a best.pt or run folder."
        raise TrainerError(CHECKPOINT_INVALID, f"model.init_from: {what} does not exist ({path}).", fix)
    state = _load(path)
    saved = (state.get("config") or {}).get("model") or {}
    if saved.get("type", "baseline") != "baseline":
        raise TrainerError(
            CHECKPOINT_INVALID,
            f"model.init_from: {what} is a {saved.get('type')} checkpoint; a baseline run starts only from a baseline one.",
            "Use a baseline checkpoint, or model.init_from: none.",
        )
    mismatch = _mismatch(model, saved)
    if mismatch:
        if not explicit:
            return None, f"random weights (the shipped pretrained reader has {', '.join(mismatch)})"
        raise TrainerError(
            CHECKPOINT_INVALID,
            f"model.init_from: {what} has a different shape: {', '.join(mismatch)}.",
            f"Set the model's {', '.join(SHAPE_KEYS)} to the checkpoint's, or model.init_from: none.",
        )
    return state["model"], f"{what} (step {state.get('step', 0)})"
