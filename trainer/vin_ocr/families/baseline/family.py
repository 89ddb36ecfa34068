"""The baseline family's config sections, checkpoints and entry points (see ``families/protocol.py``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from ... import config_checks as checks
from ...config import TRAINING_CHECKS, Config, ConfigReader, ModelConfig, Section, TrainingConfig, resolve_path
from ..protocol import CheckpointRef, FamilyRun, Reader, RunContext

NAME = "baseline"


@dataclass(frozen=True)
class BaselineModel(ModelConfig):
    type: str = NAME
    height: int = 32
    width: int = 160
    hidden_size: int = 128  # the shipped pretrained reader's, so an unset init_from fine-tunes from it
    # pretrained | a checkpoint path | none; unset: the shipped pretrained reader where its shape
    # fits, else random weights (see initial_weights.py)
    init_from: Optional[str] = None


@dataclass(frozen=True)
class BaselineTraining(TrainingConfig):
    max_steps: int = 20000
    max_minutes: Optional[float] = 10.0
    batch_size: int = 64
    learning_rate: float = 0.002
    eval_every: int = 500
    num_workers: Union[int, str] = "auto"


def _run_dir_of(checkpoint: Path) -> Optional[Path]:
    """The run a checkpoint belongs to, when it sits in <run>/checkpoints/."""
    if checkpoint.parent.name == "checkpoints" and (checkpoint.parent.parent / "config.yaml").is_file():
        return checkpoint.parent.parent
    return None


class BaselineFamily:
    name = NAME
    model_section = Section(
        BaselineModel,
        {
            "type": checks.choice((NAME,)),
            "height": checks.integer(16, 256),
            "width": checks.integer(32, 2048),
            "hidden_size": checks.integer(8, 1024),
            "init_from": checks.text(allow_null=True),
        },
    )
    training_section = Section(BaselineTraining, {**TRAINING_CHECKS, "num_workers": checks.auto_or(checks.integer(0, 64))})
    section_defaults: Mapping[str, Any] = {}

    def finish_config(self, config: Config[Any, Any], reader: ConfigReader) -> Config[Any, Any]:
        init_from = config.model.init_from
        if init_from is None or init_from in ("pretrained", "none"):
            return config
        # A checkpoint path, relative to the config's folder like every path in it.
        return dataclasses.replace(config, model=dataclasses.replace(config.model, init_from=resolve_path(init_from, reader.base_dir)))

    def fallback(self, config: Config[Any, Any], device: str) -> None:
        return None  # the baseline is what the others fall back to

    def find_checkpoint(self, target: Path, prefer: str) -> Optional[CheckpointRef]:
        from ...training.checkpoints import BEST, LAST

        names = (BEST, LAST) if prefer == "best" else (LAST, BEST)
        if target.is_dir():
            folder = target / "checkpoints" if (target / "checkpoints").is_dir() else target
            found = next((folder / name for name in names if (folder / name).is_file()), None)
        else:
            found = target if target.is_file() else None
        return None if found is None else CheckpointRef(found, _run_dir_of(found), str(target))

    def saved_state(self, checkpoint: CheckpointRef) -> dict[str, Any]:
        from ...training.checkpoints import load_checkpoint

        state, _ = load_checkpoint(checkpoint.path)
        return state

    def start(self, context: RunContext) -> FamilyRun:
        from .run import BaselineRun

        return BaselineRun(context)

    def load_reader(self, checkpoint: CheckpointRef, device: str) -> Reader:
        from .reader import load_reader

        return load_reader(checkpoint, device, self.saved_state(checkpoint))


FAMILY = BaselineFamily()
