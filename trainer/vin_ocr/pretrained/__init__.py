"""The VIN reader shipped with the extension: a baseline CRNN trained by us (see MODEL_CARD.md here).

``model.init_from: pretrained`` fine-tunes from it; ``predict``/``evaluate`` read with it when no
checkpoint is given; ``pretrained`` is accepted wherever a checkpoint is.
"""

from pathlib import Path

SHIPPED_CHECKPOINT = Path(__file__).resolve().parent / "vin-reader.pt"
SHIPPED_FACTS = SHIPPED_CHECKPOINT.with_suffix(".json")  # shape and training facts, readable without torch
MODEL_CARD = SHIPPED_CHECKPOINT.parent / "MODEL_CARD.md"
ALIAS = "pretrained"  # what users write instead of a path
# The same reader exported to ONNX (model.onnx + vin-ocr-model.json, parity checked when published):
# `predict` reads with it through ONNX Runtime when that is installed, without importing torch, so a
# read of the shipped reader costs a fraction of a second instead of torch's import.
SHIPPED_ONNX = SHIPPED_CHECKPOINT.parent / "onnx"
