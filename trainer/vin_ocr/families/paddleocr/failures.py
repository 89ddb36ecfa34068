"""What went wrong in a PaddleOCR child process, from its last lines: a code the editor acts on, and the fix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from ...errors import OUT_OF_MEMORY, PADDLE_MISSING, PADDLEOCR_DEPS_MISSING, PADDLEOCR_FAILED, TrainerError
from .environment import SETUP_HINT

_MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")
_OUT_OF_MEMORY = re.compile(r"out of memory|ResourceExhausted|MemoryError|Cannot allocate memory", re.IGNORECASE)
_KILLED = (-9, 137)


def classify_failure(code: int, tail: Sequence[str], repo: Path, python: str, tool: str = "tools/train.py") -> TrainerError:
    text = "\n".join(tail)
    lines = [line for line in tail if line.strip()][-15:]
    missing = _MISSING_MODULE.findall(text)
    if missing:
        module = missing[-1].split(".")[0]
        if module in ("paddle", "paddleocr", "paddlex"):  # the environment itself is missing, not a clone's extra
            return TrainerError(PADDLE_MISSING, f"{module} is not installed for {python}.", SETUP_HINT, issues=lines)
        return TrainerError(
            PADDLEOCR_DEPS_MISSING,
            f"{tool} needs the Python package '{module}', which the PaddleOCR environment ({python}) lacks.",
            f"Install what your clone needs: {python} -m pip install -r {repo / 'requirements.txt'}",
            issues=lines,
            command=f"{python} -m pip install -r {repo / 'requirements.txt'}",
        )
    if _OUT_OF_MEMORY.search(text) or code in _KILLED:
        return TrainerError(
            OUT_OF_MEMORY,
            f"{tool} ran out of memory" + (" (the system stopped it)" if code in _KILLED else "") + ".",
            "Lower training.batch_size or paddleocr.image_shape, or train on a machine with more memory.",
            issues=lines,
        )
    last = next(
        (line.strip() for line in reversed(lines) if re.search(r"Error|Exception|error:", line)), lines[-1].strip() if lines else ""
    )
    return TrainerError(
        PADDLEOCR_FAILED,
        f"{tool} failed (exit code {code})" + (f": {last}" if last else "."),
        "The lines before it say why; the run folder's paddleocr/paddleocr.log has all of PaddleOCR's output.",
        issues=lines,
    )
