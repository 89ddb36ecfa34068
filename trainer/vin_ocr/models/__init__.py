"""The baseline's network (the CRNN); the vision-language models' building blocks are in ``hf/``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .crnn import BLANK, CRNN, NUM_CLASSES

if TYPE_CHECKING:
    from ..families.baseline import BaselineModel


def build_model(config: "BaselineModel") -> CRNN:
    return CRNN(height=config.height, width=config.width, hidden_size=config.hidden_size)


__all__ = ["CRNN", "NUM_CLASSES", "BLANK", "build_model"]
