"""The per-model requirements in ``data/requirements.json``: the trainer's reading of the file the
extension's hardware panel and CLI read too (one source of truth for minimums and attention).

Where the file is: the extension ships ``data/*.json`` beside ``trainer/``, and the repository has
the same layout, so it is ``<trainer's parent>/data/requirements.json`` in both. ``VIN_OCR_REQUIREMENTS``
names another file. A trainer installed without the extension (``pip install trainer/``) has no
such file; it falls back to the copy of the figures below, which a test keeps equal to the file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

ENVIRONMENT_VARIABLE = "VIN_OCR_REQUIREMENTS"
BESIDE_THE_TRAINER = Path(__file__).resolve().parents[2] / "data" / "requirements.json"

# The file's figures the trainer uses, for a trainer installed without the extension.
FALLBACK: dict[str, dict[str, Any]] = {
    "deepseek-ocr": {
        "label": "DeepSeek-OCR",
        "id": "deepseek-ai/DeepSeek-OCR",
        "attention": ["flash_attention_2", "eager"],
        "minimum_gb": {"cuda": 8, "mps": 16, "cpu": 16},
        "transformers": ">=4.46.3,<4.48",
        "environment": [
            "torch==2.13.0",
            "transformers==4.46.3",
            "tokenizers==0.20.3",
            "peft==0.21.2",
            "accelerate==1.15.0",
            "safetensors>=0.4",
            "einops==0.8.2",
            "addict==2.4.0",
            "easydict==1.14",
            "numpy>=1.26",
            "Pillow>=10.1",
            "PyYAML>=6.0",
            "tensorboard>=2.16",
        ],
    },
    "lfm2-vl": {
        "label": "LFM2.5-VL-1.6B",
        "id": "LiquidAI/LFM2.5-VL-1.6B",
        "attention": ["flash_attention_2", "sdpa", "eager"],
        "minimum_gb": {"cuda": 4, "mps": 8, "cpu": 8},
    },
    "paddleocr": {"label": "PaddleOCR", "id": "PaddleOCR", "attention": [], "minimum_gb": {"cpu": 8}},
    "baseline": {"label": "Baseline CRNN-CTC", "id": "baseline", "attention": [], "minimum_gb": {"cpu": 2}},
}


@dataclass(frozen=True)
class ModelRequirements:
    family: str
    label: str
    model_id: str
    attention: tuple[str, ...]  # best first; empty for models without attention
    minimum_gb: dict[str, float]  # device -> decimal GB (GPU memory on cuda, RAM elsewhere)
    # The family's own environment, where it needs one (DeepSeek-OCR): the transformers range its code
    # imports with, and the pip requirements scripts/setup-deepseek.sh installs.
    transformers: Optional[str] = None
    environment: tuple[str, ...] = ()


def requirements_file() -> Optional[Path]:
    named = os.environ.get(ENVIRONMENT_VARIABLE)
    if named:
        return Path(named).expanduser()
    return BESIDE_THE_TRAINER if BESIDE_THE_TRAINER.is_file() else None


@lru_cache(maxsize=4)
def _read(path: Optional[str]) -> dict[str, dict[str, Any]]:
    if path is None:
        return FALLBACK
    models = json.loads(Path(path).read_text(encoding="utf-8"))["models"]
    table: dict[str, dict[str, Any]] = {}
    for model in models:
        fit = model.get("fit") or {}
        minimums = {device: figures["minimum_gb"] for device, figures in fit.items() if "minimum_gb" in figures}
        entry: dict[str, Any] = {
            "label": model["label"],
            "id": model["id"],
            "attention": model.get("attention") or [],
            "minimum_gb": minimums,
        }
        environment = model.get("environment")
        if isinstance(environment, dict):
            entry["transformers"] = environment.get("transformers")
            entry["environment"] = list(environment.get("pip") or [])
        table[model["family"]] = entry
    return table


def all_requirements() -> dict[str, ModelRequirements]:
    """Every model family the file knows (also those this trainer cannot train yet)."""
    path = requirements_file()
    table = _read(str(path) if path else None)
    return {
        family: ModelRequirements(
            family,
            entry["label"],
            entry["id"],
            tuple(entry["attention"]),
            dict(entry["minimum_gb"]),
            entry.get("transformers"),
            tuple(entry.get("environment") or ()),
        )
        for family, entry in table.items()
    }


def requirements_of(family: str) -> ModelRequirements:
    known = all_requirements()
    if family in known:
        return known[family]
    return ModelRequirements(family, family, family, (), {})  # a family the file does not list (a test's toy)
