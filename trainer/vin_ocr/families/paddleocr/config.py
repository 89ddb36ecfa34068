"""The PaddleOCR family's config: the ``paddleocr`` section (its own, at the top level) and its training defaults."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from ... import config_checks as checks
from ...config import TRAINING_CHECKS, Config, ConfigReader, ModelConfig, Section, TrainingConfig
from ...vin import VIN_LENGTH

NAME = "paddleocr"
DEFAULT_BASE_CONFIG = "configs/rec/PP-OCRv5/PP-OCRv5_mobile_rec.yml"
PDPARAMS = ".pdparams"


@dataclass(frozen=True)
class PaddleModel(ModelConfig):
    type: str = NAME


@dataclass(frozen=True)
class PaddleSettings:
    repo: Optional[str] = None  # the user's PaddleOCR clone (required)
    base_config: str = DEFAULT_BASE_CONFIG  # relative to repo
    pretrained_model: Optional[str] = None  # a local .pdparams (with or without the extension)
    image_shape: list[int] = field(default_factory=lambda: [3, 48, 320])  # C, H, W
    max_text_length: int = 25
    synthetic_train_size: int = 512  # renders written to disk when data.train is synthetic (one epoch)
    overrides: dict[str, Any] = field(default_factory=dict)  # extra `-o KEY=VALUE` for tools/train.py


@dataclass(frozen=True)
class PaddleTraining(TrainingConfig):
    max_steps: int = 2000
    max_minutes: Optional[float] = None
    batch_size: int = 16
    learning_rate: Optional[float] = None  # None: the base config's
    eval_every: int = 200
    num_workers: Union[int, str] = "auto"


def _image_shape(value: Any) -> Optional[str]:
    shape_ok = isinstance(value, list) and len(value) == 3 and all(isinstance(n, int) and not isinstance(n, bool) for n in value)
    if not shape_ok:
        return "expected [C, H, W], three integers such as [3, 48, 320]"
    channels, height, width = value
    if channels not in (1, 3) or not 16 <= height <= 128 or not 32 <= width <= 2048:
        return "expected C 1 or 3, H 16..128 and W 32..2048"
    return None


def _overrides(value: Any) -> Optional[str]:
    if not isinstance(value, dict):
        return "expected a mapping of PaddleOCR config keys (e.g. Optimizer.lr.learning_rate) to values"
    for key, item in value.items():
        if not isinstance(key, str) or not key or any(part == "" for part in key.split(".")) or "=" in key or key.startswith("-"):
            return f"'{key}' is not a dotted PaddleOCR config key"
        if isinstance(item, dict):
            return f"{key}: expected a scalar or a list (a mapping cannot be passed with -o)"
    return None


SETTINGS_SECTION = Section(
    PaddleSettings,
    {
        "repo": checks.text(allow_null=True),
        "base_config": checks.text(),
        "pretrained_model": checks.text(allow_null=True),
        "image_shape": _image_shape,
        "max_text_length": checks.integer(VIN_LENGTH, 256),
        "synthetic_train_size": checks.integer(16, 1_000_000),
        "overrides": _overrides,
    },
)
MODEL_SECTION = Section(PaddleModel, {"type": checks.choice((NAME,))})
TRAINING_SECTION = Section(
    PaddleTraining,
    {
        **TRAINING_CHECKS,
        "learning_rate": checks.number(0.0, 10.0, exclusive_low=True, allow_null=True),  # null: the base config's
        "num_workers": checks.auto_or(checks.integer(0, 64)),
    },
)


def _resolve(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def finish_config(config: Config[Any, Any], reader: ConfigReader) -> Config[Any, Any]:
    """Paths made absolute (the clone from the config's folder, the base config from the clone), and the rules across keys."""
    settings: PaddleSettings = config.section(NAME)
    pretrained = settings.pretrained_model
    if pretrained is not None and pretrained.startswith(("http://", "https://")):
        reader.problem(
            (NAME, "pretrained_model"), "a URL cannot be downloaded here (training runs offline); download the .pdparams and give its path"
        )
    elif pretrained is not None:
        pretrained = str(_resolve(pretrained, reader.base_dir))
    training = config.training
    if training.device == "mps":
        reader.problem(("training", "device"), "PaddlePaddle has no MPS backend; use cpu (or auto)")
    if training.precision not in ("auto", "fp32"):
        reader.problem(("training", "precision"), f"{training.precision} is not supported for paddleocr yet; use auto (fp32)")
    nproc = config.distributed.nproc_per_node
    if config.distributed.nnodes > 1 or (isinstance(nproc, int) and nproc > 1):
        reader.problem(("distributed",), "data-parallel PaddleOCR training is not supported yet; use nproc_per_node: 1 and nnodes: 1")
    if nproc == "auto":  # one process, whatever the GPU count: tools/train.py is not started once per GPU
        config = dataclasses.replace(config, distributed=dataclasses.replace(config.distributed, nproc_per_node=1))
    if settings.repo is None:
        reader.problem(
            (NAME, "repo"),
            "model type paddleocr needs the path of your PaddleOCR clone (git clone https://github.com/PaddlePaddle/PaddleOCR)",
        )
        return config
    repo = _resolve(settings.repo, reader.base_dir)
    base_config = str(_resolve(settings.base_config, repo))
    resolved = dataclasses.replace(settings, repo=str(repo), base_config=base_config, pretrained_model=pretrained)
    return dataclasses.replace(config, sections={**config.sections, NAME: resolved})


def settings_of(config: Config[Any, Any]) -> PaddleSettings:
    return config.section(NAME)


def pdparams_file(path: str) -> Path:
    """``path`` as PaddleOCR writes weights: with or without the extension."""
    given = Path(path)
    return given if given.suffix == PDPARAMS else given.with_name(given.name + PDPARAMS)
