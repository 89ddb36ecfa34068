"""TensorBoard scalars in the run directory, for every family; a warning when tensorboard is missing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import pip_command


class Scalars:
    def __init__(self, run_dir: Path, notice: Callable[..., None]) -> None:
        self._writer: Any = None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            notice(
                "warning",
                code="tensorboard_missing",
                message="tensorboard is not installed: no TensorBoard event files for this run.",
                fix=pip_command("tensorboard"),
            )
            return
        self._writer = SummaryWriter(log_dir=str(run_dir), flush_secs=10)

    def add(self, values: Mapping[str, Any], step: int) -> None:
        if self._writer is None:
            return
        for key, value in values.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                self._writer.add_scalar(key, value, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
