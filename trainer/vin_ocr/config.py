"""The training config (``examples/baseline.yaml``): loading, checking and defaults.

The file's shape is shared with the extension (``schemas/training-config.schema.json``);
this module is the trainer's reading of it. Every problem is reported at once, with its key
path, as an ``invalid_config`` error; unknown keys are warnings so newer files still train.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

from .errors import INVALID_CONFIG, TrainerError

SYNTHETIC = "synthetic"
DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
MODEL_TYPES = ("baseline",)
PLANNED_MODEL_TYPES = ("lfm2-vl", "deepseek-ocr", "paddleocr")


@dataclass(frozen=True)
class ModelConfig:
    type: str = "baseline"
    height: int = 32
    width: int = 160
    hidden_size: int = 96


@dataclass(frozen=True)
class SyntheticConfig:
    seed: int = 1234
    val_size: int = 1000
    north_american_ratio: float = 0.6
    # Renders kept in memory and re-augmented cheaply, so a 2-core machine's model is never
    # starved by the renderer; 0 renders every training sample fresh.
    pool_size: int = 4096
    # Share of each batch rendered fresh (the rest comes from the pool); "auto" chooses per device
    # (see training.data.fresh_share).
    fresh_ratio: Union[float, str] = "auto"


@dataclass(frozen=True)
class DataConfig:
    train: str = SYNTHETIC
    val: Optional[str] = SYNTHETIC
    test: Optional[str] = None
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    on_bad_rows: str = "fail"


@dataclass(frozen=True)
class TrainingConfig:
    max_steps: int = 20000
    max_minutes: Optional[float] = 10.0
    batch_size: int = 64
    learning_rate: float = 0.002
    seed: int = 42
    eval_every: int = 500
    device: str = "auto"
    precision: str = "auto"
    num_workers: Union[int, str] = "auto"


@dataclass(frozen=True)
class DecodingConfig:
    check_digit: bool = False


@dataclass(frozen=True)
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    output_dir: str = "runs"
    source: Optional[str] = None  # the file this was read from, absolute

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace_training(self, **changes: Any) -> "Config":
        return dataclasses.replace(self, training=dataclasses.replace(self.training, **changes))


class _Reader:
    """Checks one mapping at a time, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def section(self, raw: Any, path: str) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problems.append(f"{path}: expected a mapping, got {type(raw).__name__}")
            return {}
        return raw

    def build(self, cls: type, raw: dict[str, Any], path: str, checks: dict[str, Callable[[Any], Optional[str]]]) -> Any:
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in raw.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in known or key == "source":
                self.warnings.append(f"{where}: unknown key, ignored")
                continue
            check = checks.get(key)
            problem = check(value) if check else None
            if problem:
                self.problems.append(f"{where}: {problem} (got {value!r})")
            else:
                values[key] = value
        return cls(**values)


def _integer(low: int, high: Optional[int] = None) -> Callable[[Any], Optional[str]]:
    def check(value: Any) -> Optional[str]:
        if isinstance(value, bool) or not isinstance(value, int):
            return "expected an integer"
        if value < low or (high is not None and value > high):
            return f"expected an integer from {low}" + (f" to {high}" if high is not None else " up")
        return None

    return check


def _number(low: float, high: Optional[float] = None, allow_null: bool = False, exclusive_low: bool = False) -> Callable[[Any], Optional[str]]:
    def check(value: Any) -> Optional[str]:
        if value is None and allow_null:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "expected a number" + (" or null" if allow_null else "")
        if value < low or (exclusive_low and value == low) or (high is not None and value > high):
            return f"expected a number {'>' if exclusive_low else '>='} {low}" + (f" and <= {high}" if high is not None else "")
        return None

    return check


def _choice(options: tuple[str, ...]) -> Callable[[Any], Optional[str]]:
    return lambda value: None if value in options else f"expected one of {', '.join(options)}"


def _data_source(allow_null: bool) -> Callable[[Any], Optional[str]]:
    def check(value: Any) -> Optional[str]:
        if value is None and allow_null:
            return None
        if isinstance(value, str) and value.strip():
            return None
        return "expected 'synthetic' or a path to labels.txt / an image folder" + (", or null" if allow_null else "")

    return check


def _auto_or(check: Callable[[Any], Optional[str]]) -> Callable[[Any], Optional[str]]:
    """A setting that is "auto" or passes `check`."""
    return lambda value: None if value == "auto" else check(value)


def _model_type(value: Any) -> Optional[str]:
    if value in MODEL_TYPES:
        return None
    if value in PLANNED_MODEL_TYPES:
        return f"model type '{value}' is not available in this trainer yet; use 'baseline'"
    return f"expected one of {', '.join(MODEL_TYPES)}"


def _resolve_path(value: Optional[str], base: Path) -> Optional[str]:
    if value is None or value == SYNTHETIC:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def parse_config(raw: Any, base_dir: Path, source: Optional[str] = None) -> tuple[Config, list[str]]:
    """Check a parsed YAML document and fill defaults; returns the config and warnings."""
    reader = _Reader()
    top = reader.section(raw, "config")
    model = reader.build(
        ModelConfig,
        reader.section(top.get("model"), "model"),
        "model",
        {"type": _model_type, "height": _integer(16, 256), "width": _integer(32, 2048), "hidden_size": _integer(8, 1024)},
    )
    data_raw = dict(reader.section(top.get("data"), "data"))
    synthetic = reader.build(
        SyntheticConfig,
        reader.section(data_raw.pop("synthetic", None), "data.synthetic"),
        "data.synthetic",
        {
            "seed": _integer(0),
            "val_size": _integer(1, 1_000_000),
            "north_american_ratio": _number(0.0, 1.0),
            "pool_size": _integer(0, 1_000_000),
            "fresh_ratio": _auto_or(_number(0.0, 1.0)),
        },
    )
    data = reader.build(
        DataConfig,
        data_raw,
        "data",
        {"train": _data_source(False), "val": _data_source(True), "test": _data_source(True), "on_bad_rows": _choice(("fail", "skip"))},
    )
    data = dataclasses.replace(
        data,
        synthetic=synthetic,
        train=_resolve_path(data.train, base_dir),
        val=_resolve_path(data.val, base_dir),
        test=_resolve_path(data.test, base_dir),
    )
    training = reader.build(
        TrainingConfig,
        reader.section(top.get("training"), "training"),
        "training",
        {
            "max_steps": _integer(1),
            "max_minutes": _number(0.0, allow_null=True, exclusive_low=True),
            "batch_size": _integer(1, 65536),
            "learning_rate": _number(0.0, 10.0, exclusive_low=True),
            "seed": _integer(0),
            "eval_every": _integer(1),
            "device": _choice(DEVICES),
            "precision": _choice(PRECISIONS),
            "num_workers": _auto_or(_integer(0, 64)),
        },
    )
    decoding = reader.build(
        DecodingConfig,
        reader.section(top.get("decoding"), "decoding"),
        "decoding",
        {"check_digit": lambda v: None if isinstance(v, bool) else "expected true or false"},
    )
    output_dir = top.get("output_dir", "runs")
    if not isinstance(output_dir, str) or not output_dir.strip():
        reader.problems.append(f"output_dir: expected a folder path (got {output_dir!r})")
        output_dir = "runs"
    for key in top:
        if key not in ("model", "data", "training", "decoding", "output_dir"):
            reader.warnings.append(f"{key}: unknown section, ignored")
    if reader.problems:
        where = source or "the training config"
        raise TrainerError(
            INVALID_CONFIG,
            f"{where} has {len(reader.problems)} problem(s).",
            "Fix the listed keys; examples/baseline.yaml shows every key with its default.",
            issues=[f"{source}: {p}" if source else p for p in reader.problems],
        )
    config = Config(
        model=model,
        data=data,
        training=training,
        decoding=decoding,
        output_dir=_resolve_path(output_dir, base_dir) or output_dir,
        source=source,
    )
    return config, reader.warnings


def load_config(path: Union[str, Path]) -> tuple[Config, list[str]]:
    """Read a training config file; relative paths inside it are relative to its folder."""
    import yaml

    file = Path(path).expanduser().resolve()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise TrainerError(INVALID_CONFIG, f"Cannot read the training config {file}: {error.strerror or error}", "Check the path passed to `train`.") from error
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise TrainerError(
            INVALID_CONFIG,
            f"{file}{line}: not valid YAML ({getattr(error, 'problem', None) or error}).",
            "Fix the YAML syntax at the reported line.",
            issues=[f"{file}{line}: {getattr(error, 'problem', None) or error}"],
        ) from error
    return parse_config(raw if raw is not None else {}, file.parent, str(file))


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Rebuild a resolved config saved in a run directory or checkpoint (paths already absolute)."""
    config, _ = parse_config({k: v for k, v in raw.items() if k != "source"}, Path.cwd(), raw.get("source"))
    return config
