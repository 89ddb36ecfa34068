"""Reading VINs with an exported PaddleOCR recognizer (``evaluate``, ``predict``, "Read VIN from Image" and the
run's own test split): ``paddleocr.TextRecognition`` runs offline in PaddlePaddle's environment
(``read_worker.py``), and its reads are scored with our VIN metrics here."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Optional, Sequence

from ...decoding import Read
from ...errors import PADDLEOCR_FAILED, TrainerError
from .model_files import EXPORT_STAMP, model_name

WORKER = Path(__file__).with_name("read_worker.py")
READ_TIMEOUT_SECONDS = 1800


def read_paths(python: str, model_dir: Path, paths: Sequence[Path], device: str = "cpu") -> list[Read]:
    """One read per image path, in order; an image PaddleOCR cannot read gives an empty read."""
    from .model_files import paddle_env

    command = [python, str(WORKER), str(model_dir), model_name(model_dir), "gpu" if device == "cuda" else "cpu"]
    try:
        done = subprocess.run(
            command,
            input="".join(f"{path}\n" for path in paths),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=READ_TIMEOUT_SECONDS,
            env=paddle_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise TrainerError(PADDLEOCR_FAILED, f"PaddleOCR could not read: {error}", "Check the PaddleOCR environment.") from error
    answers = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or len(answers) != len(paths):
        from .failures import classify_failure

        raise classify_failure(done.returncode or 1, done.stderr.splitlines()[-40:], model_dir, python, "paddleocr.TextRecognition")
    return [_read(json.loads(answer)) for answer in answers]


def _read(answer: dict[str, Any]) -> Read:
    text = str(answer.get("text") or "").replace(" ", "").upper()
    score = float(answer.get("score") or 0.0)
    return Read(text, score, [score] * len(text))


def read_label_file(python: str, model_dir: Path, labels: Path, device: str = "cpu") -> tuple[dict[str, float], int, list[dict[str, Any]]]:
    """Metrics of the reads of a ``rec_gt_*.txt`` file (absolute ``path<TAB>VIN`` rows)."""
    from ...training.evaluate import score

    rows = [line.split("\t", 1) for line in labels.read_text(encoding="utf-8").splitlines() if "\t" in line]
    reads = read_paths(python, model_dir, [Path(path) for path, _ in rows], device)
    metrics, _ = score(reads, [vin for _, vin in rows], False)  # no per-character alternatives: no check-digit pass
    return metrics, len(rows), []


class PaddleReader:
    """A ``Reader`` over an exported inference folder."""

    check_digit = False

    def __init__(self, folder: Path, step: int, python: str, device: str) -> None:
        self.checkpoint = folder
        self.step = step
        self.python = python
        self.device = device

    def read(self, images: Sequence[Any]) -> list[Read]:
        with tempfile.TemporaryDirectory(prefix="vin-ocr-paddle-") as scratch:
            paths = []
            for index, image in enumerate(images):
                path = Path(scratch) / f"{index:05d}.png"
                image.convert("RGB").save(path)
                paths.append(path)
            return read_paths(self.python, self.checkpoint, paths, self.device)


def export_stamp(folder: Path) -> Optional[dict[str, Any]]:
    try:
        stamp = json.loads((folder / EXPORT_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None
