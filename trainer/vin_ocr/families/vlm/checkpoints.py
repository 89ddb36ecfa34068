"""Recognising a fine-tuning checkpoint folder and the family and config it was written with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from ...models.hf.checkpoint import STATE_FILE, SUMMARY_FILE, find_checkpoint, read_summary


def find_folder(target: Path, prefer: str) -> Optional[Path]:
    """``target`` itself when it is a checkpoint (or bare adapter) folder, else its run's ``prefer`` one."""
    if not target.is_dir():
        return None
    if any((target / name).is_file() for name in (STATE_FILE, SUMMARY_FILE, "adapter_config.json")):
        return target
    return find_checkpoint(target, prefer)


def _run_config(folder: Path) -> Optional[dict[str, Any]]:
    """The run's config.yaml, when the folder sits in <run>/checkpoints/ and the file is a training config."""
    import yaml

    file = folder.parent.parent / "config.yaml"
    if folder.parent.name != "checkpoints" or not file.is_file():
        return None
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return raw if isinstance(raw, dict) and isinstance(raw.get("model"), dict) else None


def saved_config(folder: Path) -> Optional[dict[str, Any]]:
    summary = read_summary(folder)
    if summary is not None and isinstance(summary.get("config"), dict):
        return dict(summary["config"])
    return _run_config(folder)


def family_of_checkpoint(folder: Path) -> Optional[str]:
    from .. import registry

    config = saved_config(folder)
    if config is not None:
        return str(config["model"].get("type"))
    try:  # a bare adapter: the family of the model it adapts
        adapter = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
        return registry.for_model_id(str(adapter["base_model_name_or_path"])).name
    except Exception:  # noqa: BLE001 - unreadable, or no family recognises its model: not a checkpoint of ours
        return None
