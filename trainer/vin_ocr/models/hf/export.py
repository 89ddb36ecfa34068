"""Export after fine-tuning: merged weights always, ONNX when asked and possible.

Merged weights: the LoRA adapter folded into the base weights (peft's ``merge_and_unload``)
and saved with the processor, so the folder loads like any Hub checkout, without peft.

ONNX: vision-language generation is a loop over a decoder with a cache, not one graph; the
only general route is Hugging Face optimum's exporter, which must know the architecture.
When optimum is missing or has no exporter for it, the result says so plainly instead of
writing a half-working file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ...errors import pip_command


@dataclass(frozen=True)
class OnnxResult:
    ok: bool
    path: Optional[Path] = None
    message: str = ""
    fix: Optional[str] = None


def export_merged(model: Any, processor: Any, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    merged = model.merge_and_unload() if hasattr(model, "merge_and_unload") else model
    merged.save_pretrained(folder)
    if processor is not None:
        processor.save_pretrained(folder)
    return folder


def export_onnx(model_dir: Path, output: Path, task: str = "image-to-text") -> OnnxResult:
    try:
        from optimum.exporters.onnx import main_export
    except ImportError:
        return OnnxResult(
            False,
            message="ONNX export needs Hugging Face optimum, which is not installed; the merged weights were exported instead.",
            fix=pip_command("optimum[onnx]"),
        )
    try:
        main_export(str(model_dir), output=str(output), task=task)
    except (ValueError, KeyError, NotImplementedError) as error:
        architecture = _architecture(model_dir)
        return OnnxResult(
            False,
            message=f"The {architecture} architecture cannot be exported to ONNX ({str(error).splitlines()[0]}); "
            "the merged weights were exported instead.",
            fix="Use the merged weights with transformers, or the baseline model (which exports to ONNX).",
        )
    return OnnxResult(True, path=output)


def _architecture(model_dir: Path) -> str:
    import json

    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        return str(config.get("model_type") or (config.get("architectures") or ["this"])[0])
    except (OSError, ValueError):
        return "this"
