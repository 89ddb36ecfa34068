"""Where a PaddleOCR run keeps its files, and the export of weights to an inference model.

<run>/paddleocr/data/        rec_gt_{train,val,test}.txt, vin_dict.txt, rendered images
<run>/paddleocr/output/      PaddleOCR's save_model_dir: latest.*, best_accuracy.* (removed once a run completes), config.yml
<run>/paddleocr/paddleocr.log  everything tools/train.py printed
<run>/checkpoints/{last,best}.json  the harness's record (JSON) and which PaddleOCR weights it means
<run>/checkpoints/best.pdparams     our copy of the best weights (PaddleOCR rewrites best_accuracy in place)
<run>/inference/             the best weights exported (inference.json/.pdiparams/.yml + vin-ocr-export.json)
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Callable, Optional

from ...errors import PADDLEOCR_FAILED, TrainerError
from ...training.run_files import write_json

WORK, OUTPUT, INFERENCE = "paddleocr", "output", "inference"
BEST_WEIGHTS = "best.pdparams"
EXPORT_STAMP = "vin-ocr-export.json"  # marks an inference folder as ours: which weights, which model name
EXPORT_TIMEOUT_SECONDS = 600


def checkpoint_file(run_dir: Path, kind: str) -> Path:
    return run_dir / "checkpoints" / f"{kind}.json"


def write_checkpoint(run_dir: Path, kind: str, state: dict[str, Any]) -> Path:
    path = checkpoint_file(run_dir, kind)
    # PaddleOCR keeps its own random state; ours (torch/numpy generators) has no use here and no JSON form.
    write_json(path, {key: value for key, value in state.items() if key not in ("rng", "rank_rng")})
    return path


def read_checkpoint(path: Path) -> Optional[dict[str, Any]]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def model_name(folder: Path) -> str:
    """The model name PaddleOCR wrote into the exported ``inference.yml`` (TextRecognition needs it)."""
    import yaml

    try:
        info = yaml.safe_load((folder / "inference.yml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        info = {}
    name = (info.get("Global") or {}).get("model_name") if isinstance(info, dict) else None
    return str(name) if name else "PP-OCRv5_mobile_rec"


def export_inference(python: str, repo: Path, output: Path, weights: str, folder: Path, log: Callable[[str], None]) -> Path:
    """``tools/export_model.py`` on ``weights`` (a prefix, PaddleOCR adds .pdparams) with the run's trained config."""
    from .command import export_command

    command = export_command(python, output / "config.yml", weights, folder)
    log("PaddleOCR export: " + " ".join(command))
    try:
        done = subprocess.run(
            command, cwd=repo, capture_output=True, text=True, errors="replace", timeout=EXPORT_TIMEOUT_SECONDS, env=paddle_env()
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise TrainerError(PADDLEOCR_FAILED, f"tools/export_model.py could not run: {error}", "See the run's train.log.") from error
    if done.returncode != 0 or not (folder / "inference.yml").is_file():
        from .failures import classify_failure

        raise classify_failure(done.returncode or 1, (done.stdout + done.stderr).splitlines()[-40:], repo, python, "tools/export_model.py")
    write_json(folder / EXPORT_STAMP, {"weights": weights, "model_name": model_name(folder), "repo": str(repo)})
    return folder


def paddle_env() -> dict[str, str]:
    """The environment of every PaddleOCR child: unbuffered lines, no model-hoster probe (offline), and no
    __pycache__ written into the user's clone."""
    import os

    offline = {"PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK": "True", "DISABLE_MODEL_SOURCE_CHECK": "True"}
    return {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", **offline}
