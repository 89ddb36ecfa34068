"""The baseline family: a small CRNN read with CTC, trained from scratch (``model.type: baseline``)."""

from __future__ import annotations

from .family import FAMILY, BaselineModel, BaselineTraining

__all__ = ["FAMILY", "BaselineModel", "BaselineTraining"]
