"""``python -m vin_ocr export --format onnx``: a baseline checkpoint → ``model.onnx`` with a dynamic
batch axis, ``vin-ocr-model.json`` beside it (``manifest``), then the parity check (``parity``).

Only the baseline exports to ONNX: its CRNN is one feed-forward graph. A vision-language model
generates its answer token by token (a decoder loop with a key/value cache around a vision
encoder), which is not one graph this exporter can write; those families keep their own exports.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional, Union

from .. import __version__
from ..errors import INTERNAL_ERROR, TrainerError, missing_dependency
from .manifest import (
    FORMAT,
    FORMAT_VERSION,
    INPUT_NAME,
    MODEL_FILE,
    OUTPUT_NAME,
    decoding_facts,
    preprocessing_facts,
    staging_path,
    write_manifest,
)
from .parity import Parity, check_parity

ONNX_FAMILIES = frozenset({"baseline"})  # the families whose network is a single graph


class ExportNotAvailable(Exception):
    """The checkpoint is fine, but its family has no ONNX export (the CLI exits 2, not 1)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\nhint: {self.hint}"


@dataclass(frozen=True)
class ExportResult:
    model: Path
    manifest: Path
    checkpoint: Path
    step: int
    opset: int
    parity: Parity

    def to_json(self) -> dict[str, Any]:
        return {
            "model": str(self.model),
            "manifest": str(self.manifest),
            "checkpoint": str(self.checkpoint),
            "step": self.step,
            "opset": self.opset,
            "parity": self.parity.to_json(),
        }


def _not_available(family: str, checkpoint: Path) -> ExportNotAvailable:
    if family == "paddleocr":
        return ExportNotAvailable(
            f"ONNX export is not available for PaddleOCR checkpoints here ({checkpoint}): its deployable form is PaddlePaddle's "
            "inference model, which the run already wrote with tools/export_model.py (RUN/inference).",
            "Read RUN/inference with paddleocr (python -m vin_ocr predict --checkpoint RUN/inference), or convert it with "
            "PaddlePaddle's own converter (pip install paddle2onnx; paddle2onnx --model_dir RUN/inference --model_filename "
            "inference.json --params_filename inference.pdiparams --save_file model.onnx) in the PaddleOCR environment.",
        )
    return ExportNotAvailable(
        f"ONNX export is not available for {family} checkpoints ({checkpoint}): a vision-language model writes its answer "
        "token by token (a decoder loop with a cache around a vision encoder), not one graph like the baseline CRNN.",
        "Use the fine-tuning exports instead: the adapter folder itself (python -m vin_ocr predict --checkpoint RUN reads it), "
        "or the merged weights in RUN/export/merged (written at the end of fine-tuning while model.export_merged is on; "
        "they load with transformers alone). model.export_onnx tries Hugging Face optimum's exporter where it knows the architecture.",
    )


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise missing_dependency(module, module)


def export_onnx(target: Union[str, Path], output: Union[str, Path], parity_size: Optional[int] = None) -> ExportResult:
    """Exports the checkpoint at ``target`` (a .pt file or a run directory: its best) into ``output``;
    ``parity_size`` images (default ``parity.DEFAULT_SIZE``) are read by both engines."""
    from ..families import registry

    family, checkpoint = registry.find_checkpoint(target, prefer="best")
    if family.name not in ONNX_FAMILIES:
        raise _not_available(family.name, checkpoint.path)
    for module in ("onnxscript", "onnxruntime"):  # before the minutes of loading and exporting
        _require(module)
    from ..families.baseline.reader import load_reader
    from ..onnx_reader import OnnxReader
    from .manifest import read_manifest

    state = family.saved_state(checkpoint)
    baseline = load_reader(checkpoint, "cpu", state)
    config = baseline.config
    folder = Path(output).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / MODEL_FILE
    opset = _write_graph(baseline.model, config.model.height, config.model.width, model_path)
    data = _manifest(config, checkpoint.path, state, opset)
    manifest_path = write_manifest(folder, data)
    parity = check_parity(baseline.model, OnnxReader(read_manifest(folder), "cpu"), config, parity_size)
    write_manifest(folder, {**data, "parity": parity.to_json()})
    return ExportResult(model_path, manifest_path, checkpoint.path, baseline.step, opset, parity)


def _write_graph(model: Any, height: int, width: int, path: Path) -> int:
    """The CRNN as ONNX with a dynamic batch axis; returns its opset. torch.export's exporter
    (dynamo=True, this torch's default; the TorchScript one is deprecated) writes one self-contained
    file; its progress lines and warnings go to a buffer that only a failure shows."""
    import onnx
    import torch

    example = torch.rand(2, 1, height, width)  # 2, not 1: a batch of 1 would be specialised away
    temporary = staging_path(path)
    chatter = io.StringIO()
    exporter_log = logging.getLogger("torch.onnx")  # e.g. "torchvision is not installed. Skipping torchvision::nms"
    level = exporter_log.level
    try:
        exporter_log.setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(chatter):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model.eval(),
                (example,),
                str(temporary),
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamo=True,
                dynamic_shapes={"images": {0: torch.export.Dim("batch", min=1)}},
                external_data=False,  # ~1.7 MB of weights: one file is simpler to ship
            )
        opset = next(entry.version for entry in onnx.load(str(temporary)).opset_import if entry.domain in ("", "ai.onnx"))
        os.replace(temporary, path)
    except Exception as error:
        temporary.unlink(missing_ok=True)
        raise TrainerError(
            INTERNAL_ERROR,
            f"torch.onnx.export failed: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
            "Report it with the exporter's output: " + chatter.getvalue()[-2000:],
        ) from error
    finally:
        exporter_log.setLevel(level)
    return int(opset)


def _manifest(config: Any, checkpoint: Path, state: dict[str, Any], opset: int) -> dict[str, Any]:
    import torch

    from ..models import NUM_CLASSES

    height, width = config.model.height, config.model.width
    # For best.pt this is the evaluation of these very weights; for last.pt the latest one before saving.
    metrics = {key: value for key, value in (state.get("metrics") or {}).items() if isinstance(value, (int, float))}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": {
            "file": MODEL_FILE,
            "family": "baseline",
            "architecture": "CRNN (convolutions, bidirectional LSTM, CTC)",
            "hidden_size": config.model.hidden_size,
            "input": {"name": INPUT_NAME, "shape": ["batch", 1, height, width], "dtype": "float32"},
            "output": {
                "name": OUTPUT_NAME,
                "shape": ["batch", width // 4, NUM_CLASSES],
                "dtype": "float32",
                "meaning": "log-softmax over the classes, per frame (left to right)",
            },
            "opset": opset,
            "exporter": f"torch.onnx.export(dynamo=True), torch {torch.__version__}",
        },
        "preprocessing": preprocessing_facts(height, width),
        "decoding": decoding_facts(bool(config.decoding.check_digit)),
        "source": {
            "checkpoint": str(checkpoint.resolve()),
            "run_id": state.get("run_id"),
            "step": int(state.get("step", 0)),
            "best_step": state.get("best_step"),
            "metrics": metrics,
            "trainer_version": __version__,
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    }
