"""Shared helpers for the trainer's tests: tiny configs, the event schema, running the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TRAINER = REPO / "trainer"
EVENT_SCHEMA = REPO / "schemas" / "trainer-events.schema.json"


def tiny_config(**sections: Any) -> dict[str, Any]:
    """A config small enough to train a few steps in about a second on a 2-core CPU."""
    config: dict[str, Any] = {
        "model": {"type": "baseline", "height": 32, "width": 160, "hidden_size": 32},
        "data": {
            "train": "synthetic",
            "val": "synthetic",
            "test": None,
            "synthetic": {"seed": 7, "val_size": 16, "north_american_ratio": 0.6, "pool_size": 32, "fresh_ratio": 0.5},
            "on_bad_rows": "fail",
        },
        "training": {
            "max_steps": 8,
            "max_minutes": None,
            "batch_size": 8,
            "learning_rate": 0.002,
            "seed": 3,
            "eval_every": 4,
            "device": "cpu",
            "precision": "auto",
            "num_workers": 0,
        },
        "decoding": {"check_digit": False},
        "output_dir": "runs",
    }
    for name, values in sections.items():
        if isinstance(values, dict) and isinstance(config.get(name), dict):
            config[name].update(values)
        else:
            config[name] = values
    return config


def write_config(folder: Path, config: dict[str, Any], name: str = "config.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def trainer_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(TRAINER) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "2")
    return env


def run_cli(*args: str, timeout: float = 180, cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vin_ocr", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=trainer_env(),
        cwd=cwd,
    )


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def event_validator():
    import jsonschema

    schema = json.loads(EVENT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)

    def validate(events: list[dict[str, Any]]) -> None:
        assert events, "no events were emitted"
        for event in events:
            errors = [error.message for error in validator.iter_errors(event)]
            assert not errors, f"{event['event']} event does not match the schema: {errors}"

    return validate
