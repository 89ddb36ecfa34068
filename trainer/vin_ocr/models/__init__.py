"""Model families the trainer can build from a config's ``model`` section."""
from __future__ import annotations

from ..config import ModelConfig
from .crnn import CRNN, NUM_CLASSES, BLANK


def build_model(config: ModelConfig) -> CRNN:
    """Only the baseline exists so far; config.py rejects other types with a clear message."""
    return CRNN(height=config.height, width=config.width, hidden_size=config.hidden_size)


__all__ = ["CRNN", "NUM_CLASSES", "BLANK", "build_model"]
