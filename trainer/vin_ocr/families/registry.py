"""The model families this trainer can train and read, one line each.

A family module defines ``FAMILY`` (see ``protocol.Family``) and keeps heavy imports (torch,
transformers) inside its functions, so that reading a config never loads a model stack. Adding a
family is one new module and one line below; ``register`` adds one at run time (tests do). A family
that can be named by a model id alone (the fine-tuning flags' ``--model-id``) also has
``recognises_model_id(model_id) -> bool``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Union

from ..errors import CHECKPOINT_INVALID, INVALID_CONFIG, TrainerError
from .protocol import CheckpointRef, Family

# model.type -> the module that defines its FAMILY. Order matters where two could claim the same
# thing: the first family that recognises a model id or a checkpoint takes it.
_MODULES: dict[str, str] = {
    # paddleocr first: its checkpoints are JSON records (checkpoints/best.json), which the baseline, taking any
    # file for a .pt, would otherwise claim.
    "paddleocr": "vin_ocr.families.paddleocr",
    "baseline": "vin_ocr.families.baseline",
    "deepseek-ocr": "vin_ocr.families.deepseek_ocr",
    "lfm2-vl": "vin_ocr.families.lfm2_vl",
}
_LOADED: dict[str, Family] = {}


def register(family: Family) -> None:
    """Adds (or replaces) a family that is already imported."""
    _MODULES.setdefault(family.name, "")
    _LOADED[family.name] = family


def unregister(name: str) -> None:
    _MODULES.pop(name, None)
    _LOADED.pop(name, None)


def names() -> tuple[str, ...]:
    return tuple(_MODULES)


def is_registered(name: object) -> bool:
    return isinstance(name, str) and name in _MODULES


def family(name: str) -> Family:
    if name not in _LOADED:
        module = importlib.import_module(_MODULES[name])
        _LOADED[name] = module.FAMILY
    return _LOADED[name]


def for_model_id(model_id: str) -> Family:
    """The family of a Hugging Face model id or model folder (for flags that name only the model)."""
    for candidate in (family(name) for name in names()):
        recognises = getattr(candidate, "recognises_model_id", None)
        if recognises is not None and recognises(model_id):
            return candidate
    raise TrainerError(
        INVALID_CONFIG,
        f"No model family recognises the model id '{model_id}'.",
        f"Set the model type (--model-type / model.type): one of {', '.join(names())}.",
    )


def find_checkpoint(target: Union[str, Path], prefer: str) -> tuple[Family, CheckpointRef]:
    """The family whose checkpoint ``target`` is (a file, a folder, a run directory, or ``pretrained``)."""
    from ..pretrained import ALIAS, SHIPPED_CHECKPOINT

    if str(target) == ALIAS and not Path(target).exists():  # a folder named "pretrained" in the cwd wins
        if not SHIPPED_CHECKPOINT.is_file():
            raise TrainerError(
                CHECKPOINT_INVALID,
                f"This installation has no shipped pretrained reader ({SHIPPED_CHECKPOINT}).",
                "Reinstall the extension.",
            )
        target = SHIPPED_CHECKPOINT
    path = Path(target).expanduser()
    if not path.exists():
        raise TrainerError(
            CHECKPOINT_INVALID, f"Checkpoint {path} does not exist.", "Check the path; runs keep theirs in <run>/checkpoints/."
        )
    for name in names():
        candidate = family(name)
        found = candidate.find_checkpoint(path, prefer)
        if found is not None:
            return candidate, found
    raise TrainerError(
        CHECKPOINT_INVALID,
        f"No checkpoint in {path} (looked for checkpoints/last.pt, checkpoints/best.pt and fine-tuning checkpoint folders).",
        "Pass a run directory that has trained at least until its first checkpoint, a .pt file or a checkpoint folder.",
    )
