"""The run directory's own files: its id and folder, ``config.yaml`` and ``metrics.json``.

``<output_dir>/<run-id>/``: ``config.yaml`` (the resolved config), ``events.jsonl``,
``train.log``, ``checkpoints/``, ``metrics.json`` and TensorBoard event files. A resumed run
continues the same directory.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml


def new_run_id(output_dir: Path, model_type: str) -> str:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_id = f"{stamp}-{model_type}"
    suffix = 1
    while (output_dir / run_id).exists():
        suffix += 1
        run_id = f"{stamp}-{model_type}-{suffix}"
    return run_id


def create_run_dir(run_dir: Path, config: dict[str, Any]) -> None:
    """The folder with ``checkpoints/`` and, for a new run, ``config.yaml``."""
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    config_file = run_dir / "config.yaml"
    if not config_file.exists():
        config_file.write_text(yaml.safe_dump(_plain(config), sort_keys=False), encoding="utf-8")


def write_json(path: Path, value: dict[str, Any]) -> None:
    """Replaces ``path`` whole (a reader never sees half a file: metrics.json is read while a run goes on)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(json.dumps(_plain(value), indent=2, allow_nan=False))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _plain(value: Any) -> Any:
    """JSON- and YAML-safe: paths and other objects as text, NaN and infinities as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
