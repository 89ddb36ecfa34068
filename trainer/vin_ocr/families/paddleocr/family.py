"""The PaddleOCR family (``model.type: paddleocr``): fine-tunes a PP-OCR text recognizer in the user's
PaddleOCR clone with its own ``tools/train.py`` (see ``run.py``), and reads with the exported model."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional

from ...config import Config, ConfigReader
from ...errors import CHECKPOINT_INVALID, TrainerError
from ..protocol import CheckpointRef, FamilyRun, Reader, RunContext
from . import config as paddle_config
from .model_files import BEST_WEIGHTS, EXPORT_STAMP, INFERENCE, OUTPUT, WORK, export_inference, read_checkpoint


def _is_ours(state: Optional[dict[str, Any]]) -> bool:
    model = ((state or {}).get("config") or {}).get("model") or {}
    return isinstance(model, dict) and model.get("type") == paddle_config.NAME


class PaddleFamily:
    name = paddle_config.NAME
    model_section = paddle_config.MODEL_SECTION
    training_section = paddle_config.TRAINING_SECTION
    own_sections = {paddle_config.NAME: paddle_config.SETTINGS_SECTION}
    section_defaults: Mapping[str, Any] = {}

    def finish_config(self, config: Config[Any, Any], reader: ConfigReader) -> Config[Any, Any]:
        return paddle_config.finish_config(config, reader)

    def fallback(self, config: Config[Any, Any], device: str) -> None:
        return None

    def find_checkpoint(self, target: Path, prefer: str) -> Optional[CheckpointRef]:
        if target.is_dir() and (target / EXPORT_STAMP).is_file():  # an exported inference folder
            return CheckpointRef(target, None, str(target))
        if target.is_dir():
            folder = target / "checkpoints" if (target / "checkpoints").is_dir() else target
            order = ("best", "last") if prefer == "best" else ("last", "best")
            found = next((folder / f"{kind}.json" for kind in order if _is_ours(read_checkpoint(folder / f"{kind}.json"))), None)
        else:
            found = target if target.suffix == ".json" and _is_ours(read_checkpoint(target)) else None
        if found is None:
            return None
        run_dir = found.parent.parent if found.parent.name == "checkpoints" else None
        return CheckpointRef(found, run_dir, str(target))

    def saved_state(self, checkpoint: CheckpointRef) -> dict[str, Any]:
        if checkpoint.path.is_dir():
            raise TrainerError(
                CHECKPOINT_INVALID,
                f"{checkpoint.path} is an exported inference model: it can be read, not trained on.",
                "Resume the run folder it was exported from.",
            )
        state = read_checkpoint(checkpoint.path)
        if state is None:
            raise TrainerError(CHECKPOINT_INVALID, f"{checkpoint.path} cannot be read.", "Resume from the run folder.")
        return state

    def start(self, context: RunContext) -> FamilyRun:
        from .run import PaddleRun

        return PaddleRun(context)

    def load_reader(self, checkpoint: CheckpointRef, device: str) -> Reader:
        from .environment import paddle_python
        from .reader import PaddleReader, export_stamp

        python = paddle_python(check_import=False)
        if checkpoint.path.is_dir():
            stamp = export_stamp(checkpoint.path) or {}
            return PaddleReader(checkpoint.path, int(stamp.get("step") or 0), python, device)
        state = self.saved_state(checkpoint)
        run_dir = checkpoint.run_dir or checkpoint.path.parent.parent
        kind = checkpoint.path.stem
        weights = str(state.get("weights") or "")[: -len(".pdparams")] if kind == "best" else str(state.get("paddle_checkpoint") or "")
        folder = run_dir / INFERENCE if kind == "best" else run_dir / WORK / f"{kind}-inference"
        exported = export_stamp(folder)
        if not weights:
            raise TrainerError(
                CHECKPOINT_INVALID, f"{checkpoint.path} names no PaddleOCR weights yet.", "Train until the first evaluation."
            )
        if exported is None or exported.get("weights") != weights:
            settings = paddle_config.PaddleSettings(**((state.get("config") or {}).get(paddle_config.NAME) or {}))
            export_inference(python, Path(str(settings.repo)), run_dir / WORK / OUTPUT, weights, folder, lambda line: None)
        return PaddleReader(folder, int(state.get("weights_step") or state.get("step") or 0), python, device)


FAMILY = PaddleFamily()
__all__ = ["BEST_WEIGHTS", "FAMILY"]
