"""The ``tools/train.py`` and ``tools/export_model.py`` command lines, and the training config they read.

The base config (e.g. PP-OCRv5 mobile rec) is copied into the run folder with what ``-o`` cannot reach
changed in place (``-o`` sets mapping keys only, never a list item such as a transform's image shape, and
``max_text_length`` is a YAML anchor that ``-o Global.max_text_length`` alone would split). Everything else
is an ``-o KEY=VALUE`` on the command line, where a user reading the log sees it: ours first, then the
config's ``paddleocr.overrides``, which win.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from .config import PaddleSettings
from .dataset import PaddleData


def override_value(value: Any) -> str:
    """A value as PaddleOCR's ``-o`` parser reads it back (YAML): lists in brackets, booleans capitalised, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(override_value(item) for item in value) + "]"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def override_args(overrides: Mapping[str, Any]) -> list[str]:
    """``-o`` followed by one ``KEY=VALUE`` argument per setting (argument list items: no shell quoting needed)."""
    pairs = [f"{key}={override_value(value)}" for key, value in overrides.items()]
    return ["-o", *pairs] if pairs else []


def _set_in_transforms(transforms: Iterable[Any], name: str, key: str, value: Any) -> None:
    for transform in transforms or []:
        if isinstance(transform, dict) and isinstance(transform.get(name), dict):
            transform[name][key] = value


def _set_everywhere(node: Any, key: str, value: Any) -> None:
    """Sets ``key`` wherever it appears (``max_text_length`` is repeated through a YAML anchor)."""
    if isinstance(node, dict):
        for name, child in node.items():
            if name == key and not isinstance(child, (dict, list)):
                node[name] = value
            else:
                _set_everywhere(child, key, value)
    elif isinstance(node, list):
        for child in node:
            _set_everywhere(child, key, value)


def derived_config(base: Mapping[str, Any], settings: PaddleSettings, batch_size: int) -> dict[str, Any]:
    """The base config with the image shape, text length and batch size applied where ``-o`` cannot reach."""
    config = json.loads(json.dumps(base))  # a deep copy with the YAML anchors resolved
    channels, height, width = settings.image_shape
    _set_everywhere(config, "max_text_length", settings.max_text_length)
    config.setdefault("Global", {})["d2s_train_image_shape"] = [channels, height, width]
    train = config.get("Train", {})
    _set_in_transforms(train.get("dataset", {}).get("transforms"), "RecConAug", "image_shape", [height, width, channels])
    _set_in_transforms(train.get("dataset", {}).get("transforms"), "RecResizeImg", "image_shape", [channels, height, width])
    sampler = train.get("sampler")
    if isinstance(sampler, dict) and "scales" in sampler:
        sampler["scales"] = [[width, height]]  # one scale: the image shape asked for
        sampler["first_bs"] = batch_size
    for split in ("Eval", "Test"):
        _set_in_transforms(
            config.get(split, {}).get("dataset", {}).get("transforms"), "RecResizeImg", "image_shape", [channels, height, width]
        )
    return config


def steps_per_epoch(config: Mapping[str, Any], train_size: int, batch_size: int) -> int:
    drop_last = bool(config.get("Train", {}).get("loader", {}).get("drop_last", True))
    steps = train_size // batch_size if drop_last else math.ceil(train_size / batch_size)
    return max(1, steps)


def training_overrides(
    settings: PaddleSettings,
    data: PaddleData,
    output: Path,
    *,
    epochs: int,
    batch_size: int,
    eval_every: int,
    learning_rate: Optional[float],
    seed: int,
    use_gpu: bool,
    num_workers: int,
    resume_from: Optional[str] = None,
) -> dict[str, Any]:
    ours: dict[str, Any] = {
        "Global.use_gpu": use_gpu,
        "Global.distributed": False,
        "Global.epoch_num": epochs,
        "Global.print_batch_step": 1,  # one line a step: each becomes a progress event
        "Global.eval_batch_step": [0, eval_every] if data.val is not None else [0, 10**9],
        "Global.save_model_dir": str(output),
        "Global.save_epoch_step": epochs + 1,  # no iter_epoch_N copies (190 MB each): latest and best suffice
        "Global.pretrained_model": settings.pretrained_model[: -len(".pdparams")]
        if settings.pretrained_model and settings.pretrained_model.endswith(".pdparams")
        else (settings.pretrained_model or ""),
        "Global.checkpoints": resume_from or "",
        "Global.character_dict_path": str(data.dictionary),
        "Global.use_space_char": False,
        "Global.use_visualdl": False,
        "Global.seed": seed,
        "Train.dataset.data_dir": "/",
        "Train.dataset.label_file_list": [str(data.train)],
        "Train.loader.batch_size_per_card": batch_size,
        "Train.loader.num_workers": num_workers,
        "Eval.dataset.data_dir": "/",
        "Eval.dataset.label_file_list": [str(data.val or data.train)],
        "Eval.loader.batch_size_per_card": batch_size,
        "Eval.loader.num_workers": num_workers,
    }
    if learning_rate is not None:
        ours["Optimizer.lr.learning_rate"] = learning_rate
    return {**ours, **settings.overrides}


def train_command(python: str, config_file: Path, overrides: Mapping[str, Any]) -> list[str]:
    return [python, "tools/train.py", "-c", str(config_file), *override_args(overrides)]


def export_command(python: str, trained_config: Path, weights: str, output: Path) -> list[str]:
    """``tools/export_model.py`` on ``weights`` (a prefix: PaddleOCR adds .pdparams) into ``output``."""
    overrides = {"Global.pretrained_model": weights, "Global.save_inference_dir": str(output), "Global.checkpoints": ""}
    return [python, "tools/export_model.py", "-c", str(trained_config), *override_args(overrides)]
