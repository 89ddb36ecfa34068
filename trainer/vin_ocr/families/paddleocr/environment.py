"""Where PaddleOCR runs: PaddlePaddle's own Python environment and the user's PaddleOCR clone, both checked
before anything is written, so that a missing piece is one clear error with its fix.

The interpreter: ``VIN_OCR_PADDLE_PYTHON`` (the extension sets it from ``vinOcr.paddleocr.pythonPath`` or the
environment "Set Up Trainer Environment" made; ``scripts/setup-paddle.sh`` makes ``.paddle-venv`` for the
command line), else this trainer's own interpreter when it can import paddle.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ...errors import PADDLE_MISSING, PADDLEOCR_CLONE_INVALID, TrainerError

PYTHON_VARIABLE = "VIN_OCR_PADDLE_PYTHON"
SETUP_HINT = (
    'Run "VIN OCR: Set Up PaddleOCR Environment" (or scripts/setup-paddle.sh CLONE), '
    f"or point {PYTHON_VARIABLE} at a Python that has paddlepaddle and paddleocr installed."
)
CLONE_HINT = "Clone PaddleOCR (git clone https://github.com/PaddlePaddle/PaddleOCR) and set paddleocr.repo to its folder."


def paddle_python(check_import: bool = True) -> str:
    """The interpreter that runs PaddleOCR. A training run checks first that it imports paddle (a few seconds,
    once per run); a read does not (``check_import=False``): its worker fails with the same ``paddle_missing``
    (failures.py), and a read should not pay paddle's import twice."""
    chosen = os.environ.get(PYTHON_VARIABLE, "").strip()
    candidate = chosen or sys.executable
    where = f"{PYTHON_VARIABLE}={chosen}" if chosen else f"this trainer's Python ({sys.executable})"
    if chosen and not Path(chosen).is_file():
        raise TrainerError(PADDLE_MISSING, f"{where} does not exist.", SETUP_HINT)
    if not check_import:
        return candidate
    try:
        probe = subprocess.run(
            [candidate, "-c", "import paddle, sys; sys.stdout.write(paddle.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise TrainerError(PADDLE_MISSING, f"{where} could not be started: {error}", SETUP_HINT) from error
    if probe.returncode != 0:
        raise TrainerError(PADDLE_MISSING, f"PaddlePaddle is not installed for {where}.", SETUP_HINT)
    return candidate


def check_clone(repo: Path, base_config: Path) -> None:
    if not repo.is_dir():
        raise TrainerError(PADDLEOCR_CLONE_INVALID, f"paddleocr.repo: {repo} does not exist.", CLONE_HINT)
    missing = [name for name in ("tools/train.py", "tools/export_model.py", "ppocr") if not (repo / name).exists()]
    if missing:
        raise TrainerError(
            PADDLEOCR_CLONE_INVALID, f"paddleocr.repo: {repo} is not a PaddleOCR clone (no {', '.join(missing)}).", CLONE_HINT
        )
    if not base_config.is_file():
        raise TrainerError(
            PADDLEOCR_CLONE_INVALID,
            f"paddleocr.base_config: {base_config} does not exist.",
            "Name a recognition config of your clone, e.g. configs/rec/PP-OCRv5/PP-OCRv5_mobile_rec.yml.",
        )
