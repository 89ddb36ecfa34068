"""Reading VINs with an exported ONNX graph and ONNX Runtime: numpy, Pillow and onnxruntime only.

For deployment: no torch is imported on this path (a test runs it with torch blocked). Images are
prepared by the same ``to_model_input`` as in training, with the numbers the export's
``vin-ocr-model.json`` records (``export/manifest.py`` refuses one whose numbers differ from this
trainer's), and decoded by the same ``decoding`` module as the PyTorch reader, so both backends
differ only in the engine that runs the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence, Union

import numpy as np

from .data.preprocess import to_model_input
from .decoding import Read, greedy_decode
from .errors import CHECKPOINT_INVALID, CUDA_UNAVAILABLE, INVALID_CONFIG, TrainerError
from .export.manifest import INPUT_NAME, OUTPUT_NAME, Manifest, read_manifest
from .vin import VIN_LENGTH

BATCH = 64  # images run at a time: the batch the latency benchmark measures, and bounded memory
_CPU = "CPUExecutionProvider"
_CUDA = "CUDAExecutionProvider"


def _providers(device: str) -> list[str]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    if device == "cpu":
        return [_CPU]
    if device == "cuda":
        if _CUDA not in available:
            raise TrainerError(
                CUDA_UNAVAILABLE,
                "CUDA was requested but this onnxruntime has no CUDA provider.",
                "Use --device auto or cpu, or install onnxruntime-gpu in place of onnxruntime.",
            )
        return [_CUDA, _CPU]
    if device == "mps":
        raise TrainerError(INVALID_CONFIG, "The ONNX backend does not run on MPS.", "Use --device auto or cpu.")
    return [name for name in available if name in (_CUDA, _CPU)] or [_CPU]


class OnnxReader:
    """A ``families.protocol.Reader`` backed by ONNX Runtime."""

    def __init__(self, manifest: Manifest, device: str = "auto") -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: its optimiser's notes are not the user's business
        providers = _providers(device)
        try:
            self.session = onnxruntime.InferenceSession(str(manifest.model_path), options, providers=providers)
        except Exception as error:  # onnxruntime's own exception types (bad protobuf, unsupported opset …)
            raise TrainerError(
                CHECKPOINT_INVALID,
                f"ONNX Runtime {onnxruntime.__version__} cannot load {manifest.model_path} ({type(error).__name__}: {error}).",
                "Export the checkpoint again; a graph exported with opset "
                f"{manifest.data['model'].get('opset')} needs an onnxruntime that supports it.",
            ) from error
        self.manifest = manifest
        self.checkpoint: Path = manifest.model_path
        self.step = manifest.step
        self.check_digit = manifest.check_digit
        self.height, self.width = manifest.input_size

    def prepare(self, image: Any) -> np.ndarray:
        """A PIL image → the model input [height, width], exactly as training prepared its images."""
        return to_model_input(image, self.height, self.width, self.manifest.max_squeeze)

    def log_probs(self, inputs: Union[np.ndarray, Sequence[np.ndarray]]) -> np.ndarray:
        """Prepared images [n ≥ 1, height, width] → log-probabilities [n, frames, classes]."""
        stacked = np.asarray(inputs, dtype=np.float32).reshape(-1, 1, self.height, self.width)
        return np.concatenate(
            [self.session.run([OUTPUT_NAME], {INPUT_NAME: stacked[start : start + BATCH]})[0] for start in range(0, len(stacked), BATCH)]
        )

    def read_inputs(self, inputs: Union[np.ndarray, Sequence[np.ndarray]]) -> list[Read]:
        """Best-path reads of VIN length (no check-digit pass), like the PyTorch reader's."""
        return greedy_decode(self.log_probs(inputs), VIN_LENGTH) if len(inputs) else []

    def read(self, images: Sequence[Any]) -> list[Read]:
        return self.read_inputs([self.prepare(image) for image in images]) if images else []


def load_onnx_reader(target: Union[str, Path], device: str = "auto") -> OnnxReader:
    """An export folder (or its model.onnx or vin-ocr-model.json), ready to read VINs."""
    return OnnxReader(read_manifest(target), device)
