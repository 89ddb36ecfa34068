"""The training config (``examples/baseline.yaml``): loading, checking and defaults, for every family.

The file's shape is shared with the extension (``schemas/training-config.schema.json``); this
module is the trainer's reading of it. ``model.type`` picks the family (``families/registry.py``);
the family declares its own ``model`` and ``training`` sections, and ``data``, ``decoding`` and
``output_dir`` are common to all. Every problem is reported at once as an ``invalid_config``
error, each as ``file:line: key.path: problem``; unknown keys are warnings (with the nearest valid
key) so that newer files still train.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Mapping, Optional, TypeVar, Union

from . import config_checks as checks
from .errors import INVALID_CONFIG, TrainerError

if TYPE_CHECKING:
    from .families.protocol import Family

SYNTHETIC = "synthetic"
TYPEFACE_CHOICES = ("all", "training_split")
DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
SECTIONS = ("model", "data", "training", "decoding", "distributed", "output_dir")
BACKENDS = ("auto", "gloo", "nccl")
LEARNING_RATE_SCALING = ("sqrt", "none")
KeyPath = tuple[str, ...]
# Values set on the command line: key path -> (value, the flag that set it, named in problems).
Overrides = Mapping[KeyPath, tuple[Any, str]]


@dataclass(frozen=True)
class ModelConfig:
    """What every family's ``model`` section has; a family's own section adds its keys."""

    type: str = "baseline"


@dataclass(frozen=True)
class TrainingConfig:
    """What every family's ``training`` section has. None: the family decides (e.g. from epochs)."""

    max_steps: Optional[int] = None
    max_minutes: Optional[float] = None
    batch_size: int = 8
    learning_rate: Optional[float] = None
    seed: int = 42
    eval_every: Optional[int] = None
    device: str = "auto"
    precision: str = "auto"


# The checks of the keys every training section has; a family adds its own (see its module).
TRAINING_CHECKS: dict[str, checks.Check] = {
    "max_steps": checks.integer(1),
    "max_minutes": checks.number(0.0, allow_null=True, exclusive_low=True),
    "batch_size": checks.integer(1, 65536),
    "learning_rate": checks.number(0.0, 10.0, exclusive_low=True),
    "seed": checks.integer(0),
    "eval_every": checks.integer(1),
    "device": checks.choice(DEVICES),
    "precision": checks.choice(PRECISIONS),
}


@dataclass(frozen=True)
class CacheConfig:
    """``data.synthetic.cache``: rendered training images kept on disk and re-used (data/render_cache.py)."""

    # auto: the cache on an accelerator (CUDA, MPS), whose model outruns the renderer; live rendering on a CPU
    # (training.data.uses_render_cache says why). on | off: as written.
    mode: str = "auto"
    dir: Optional[str] = None  # None: $XDG_CACHE_HOME/vin-ocr/renders (else ~/.cache/vin-ocr/renders)
    images: int = 100_000  # renders in the cache (5 KB each at 32×160), fewer if max_gb cannot hold them
    max_gb: float = 4.0  # disk the render caches under dir may use, in GiB; older caches are deleted to stay under it
    refresh: float = 0.05  # share of the cache rendered anew in the background each pass over it


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
    # Typeface families the training stream draws from: "all", or "training_split" (the families
    # that fonts.split_font_families() keeps for training), so that reading typefaces never seen
    # in training can be measured honestly (the shipped pretrained model is trained this way).
    typefaces: str = "all"
    cache: CacheConfig = field(default_factory=CacheConfig)


@dataclass(frozen=True)
class DataConfig:
    train: str = SYNTHETIC
    val: Optional[str] = SYNTHETIC
    test: Optional[str] = None
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    on_bad_rows: str = "fail"
    # Labelled training photos (the baseline): augmented each time they come round (shift, scale, tilt, contrast,
    # noise)? "auto": when the run starts from weights that already read (fine-tuning: a few hundred photos are
    # otherwise learnt by heart), not from scratch (where it slows the first learning).
    augment: Union[bool, str] = "auto"


@dataclass(frozen=True)
class DecodingConfig:
    check_digit: bool = False


@dataclass(frozen=True)
class DistributedConfig:
    """Data-parallel training through torchrun (docs/distributed.md); command-line flags override it."""

    nproc_per_node: Union[int, str] = 1  # processes on this machine; "auto": one per CUDA GPU, else 1
    nnodes: int = 1
    node_rank: Optional[int] = None  # set: a fixed rank for this machine (0 holds rank 0); None: the rendezvous assigns it
    rdzv_endpoint: Optional[str] = None  # HOST:PORT that every machine reaches (needed when nnodes > 1)
    rdzv_id: str = "vin-ocr"  # names the run at the rendezvous (c10d, when node_rank is not set)
    backend: str = "auto"  # auto: nccl on CUDA, gloo elsewhere
    learning_rate_scaling: str = "sqrt"  # sqrt: learning_rate × sqrt(world size); none: as written
    timeout_minutes: float = 30.0  # how long a collective waits for a stuck rank before the run fails


ModelT = TypeVar("ModelT", bound=ModelConfig)
TrainingT = TypeVar("TrainingT", bound=TrainingConfig)


@dataclass(frozen=True)
class Config(Generic[ModelT, TrainingT]):
    model: ModelT
    training: TrainingT
    data: DataConfig = field(default_factory=DataConfig)
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    distributed: DistributedConfig = field(default_factory=DistributedConfig)
    output_dir: str = "runs"
    source: Optional[str] = None  # the file this was read from, absolute
    # Top-level sections that only this config's family reads (e.g. ``paddleocr``), by name.
    sections: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The config as it is written: a family's own sections sit at the top level like the shared ones."""
        written = dataclasses.asdict(dataclasses.replace(self, sections={}))
        del written["sections"]
        written.update({name: dataclasses.asdict(section) for name, section in self.sections.items()})
        return written

    def section(self, name: str) -> Any:
        return self.sections[name]

    def replace_training(self, **changes: Any) -> "Config[ModelT, TrainingT]":
        return dataclasses.replace(self, training=dataclasses.replace(self.training, **changes))


@dataclass(frozen=True)
class Section:
    """One family's config section: the dataclass it fills and the check of each key."""

    cls: type
    checks: Mapping[str, checks.Check]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self.cls))


class ConfigReader:
    """Checks one mapping at a time, collecting every problem instead of stopping at the first.

    ``locations`` maps a key path to where it was written (``file:line``, or the command-line
    flag that set it), so each problem can say where to look.
    """

    def __init__(
        self, source: Optional[str] = None, locations: Optional[Mapping[KeyPath, str]] = None, base_dir: Optional[Path] = None
    ) -> None:
        self.source = source
        self.base_dir = base_dir or Path.cwd()  # relative paths in the config are relative to its folder
        self.family = "baseline"  # the model type being read, for messages
        self.locations = dict(locations or {})
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def _where(self, path: KeyPath) -> str:
        for length in range(len(path), 0, -1):  # a key without a line of its own: its section's
            if path[:length] in self.locations:
                return self.locations[path[:length]] + ": "
        return f"{self.source}: " if self.source else ""

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append(f"{self._where(path)}{'.'.join(path) or 'config'}: {message}")

    def warning(self, path: KeyPath, message: str) -> None:
        self.warnings.append(f"{self._where(path)}{'.'.join(path)}: {message}")

    def section(self, raw: Any, path: KeyPath) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(path, f"expected a mapping, got {type(raw).__name__}")
            return {}
        return raw

    def build(self, section: Section, raw: dict[str, Any], path: KeyPath, elsewhere: Optional[Mapping[str, list[str]]] = None) -> Any:
        """The section's dataclass from ``raw``; ``elsewhere``: keys other families use (key -> families)."""
        elsewhere = elsewhere or {}
        known = section.keys
        values: dict[str, Any] = {}
        for key, value in raw.items():
            where = (*path, str(key))
            if key not in known:
                if key in elsewhere:
                    self.warning(where, f"not used by model type {self.family} (a setting of {', '.join(elsewhere[key])}), ignored")
                else:
                    self.warning(where, "unknown key, ignored" + _did_you_mean(str(key), known))
                continue
            check = section.checks.get(key)
            problem = check(value) if check else None
            if problem:
                self.problem(where, f"{problem} (got {value!r})")
            else:
                values[key] = value
        return section.cls(**values)

    def fail_if_problems(self) -> None:
        if self.problems:
            where = self.source or "the training config"
            raise TrainerError(
                INVALID_CONFIG,
                f"{where} has {len(self.problems)} problem(s).",
                "Fix the listed keys; examples/baseline.yaml shows every key with its default.",
                issues=list(self.problems),
            )


def _did_you_mean(key: str, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def resolve_path(value: Optional[str], base: Path) -> Optional[str]:
    if value is None or value == SYNTHETIC:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def _merge_under(defaults: Mapping[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` with ``defaults`` filled in where it has no value (nested mappings merged)."""
    merged = dict(raw)
    for key, value in defaults.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge_under(value, merged[key])
        elif isinstance(value, Mapping) and merged.get(key) is None:
            merged[key] = dict(value)
        elif key not in merged:
            merged[key] = value
    return merged


def _family_of(reader: ConfigReader, model: dict[str, Any]) -> "Family":
    from .families import registry
    from .requirements import all_requirements

    kind = model.get("type", "baseline")
    if registry.is_registered(kind):
        return registry.family(kind)
    names = ", ".join(registry.names())
    if isinstance(kind, str) and kind in all_requirements():
        reader.problem(("model", "type"), f"model type '{kind}' is not available in this trainer yet; use one of {names}")
    else:
        reader.problem(("model", "type"), f"expected one of {names}{_did_you_mean(str(kind), registry.names())} (got {kind!r})")
    return registry.family("baseline")  # to check the rest of the file all the same


CACHE_MODES = ("auto", "on", "off")
CACHE_SECTION = Section(
    CacheConfig,
    {
        "mode": checks.choice(CACHE_MODES),
        "dir": checks.text(allow_null=True),
        "images": checks.integer(1, 100_000_000),
        "max_gb": checks.number(0.0, exclusive_low=True),
        "refresh": checks.number(0.0, 1.0),
    },
)


def _cache(reader: ConfigReader, raw: Any, base_dir: Path) -> CacheConfig:
    path = ("data", "synthetic", "cache")
    section = dict(reader.section(raw, path))
    if isinstance(section.get("mode"), bool):  # YAML 1.1 (PyYAML) reads a bare on/off as a boolean
        section["mode"] = "on" if section["mode"] else "off"
    cache: CacheConfig = reader.build(CACHE_SECTION, section, path)
    return dataclasses.replace(cache, dir=resolve_path(cache.dir, base_dir))


def _data(reader: ConfigReader, raw: dict[str, Any], base_dir: Path) -> DataConfig:
    raw_synthetic = dict(reader.section(raw.pop("synthetic", None), ("data", "synthetic")))
    cache = _cache(reader, raw_synthetic.pop("cache", None), base_dir)
    synthetic = reader.build(
        Section(
            SyntheticConfig,
            {
                "seed": checks.integer(0),
                "val_size": checks.integer(1, 1_000_000),
                "north_american_ratio": checks.number(0.0, 1.0),
                "pool_size": checks.integer(0, 1_000_000),
                "fresh_ratio": checks.auto_or(checks.number(0.0, 1.0)),
                "typefaces": checks.choice(TYPEFACE_CHOICES),
            },
        ),
        raw_synthetic,
        ("data", "synthetic"),
    )
    synthetic = dataclasses.replace(synthetic, cache=cache)
    data = reader.build(
        Section(
            DataConfig,
            {
                "train": checks.data_source(False),
                "val": checks.data_source(True),
                "test": checks.data_source(True),
                "on_bad_rows": checks.choice(("fail", "skip")),
                "augment": checks.auto_or(checks.boolean),
            },
        ),
        raw,
        ("data",),
    )
    return dataclasses.replace(
        data,
        synthetic=synthetic,
        train=resolve_path(data.train, base_dir),
        val=resolve_path(data.val, base_dir),
        test=resolve_path(data.test, base_dir),
    )


def parse_config(
    raw: Any,
    base_dir: Path,
    source: Optional[str] = None,
    locations: Optional[Mapping[KeyPath, str]] = None,
    overrides: Optional[Overrides] = None,
    for_training: bool = True,
) -> tuple[Config[Any, Any], list[str]]:
    """Check a parsed YAML document and fill defaults; returns the config and warnings.

    ``for_training=False`` (reading a saved run's config to read VINs with its model) leaves out the
    rules that ask this machine whether it could train it (GPU counts): a run trained on 8 GPUs
    elsewhere is still readable on a laptop."""
    reader = ConfigReader(source, locations, base_dir)
    top = _with_overrides(reader.section(raw, ()), overrides or {}, reader)
    family = _family_of(reader, reader.section(top.get("model"), ("model",)))
    reader.family = family.name
    top = _merge_under(family.section_defaults, top)
    elsewhere = _keys_of_other_families(family.name)
    model = reader.build(family.model_section, reader.section(top.get("model"), ("model",)), ("model",), elsewhere["model"])
    training = reader.build(
        family.training_section, reader.section(top.get("training"), ("training",)), ("training",), elsewhere["training"]
    )
    data = _data(reader, dict(reader.section(top.get("data"), ("data",))), base_dir)
    decoding = reader.build(
        Section(DecodingConfig, {"check_digit": checks.boolean}), reader.section(top.get("decoding"), ("decoding",)), ("decoding",)
    )
    distributed = _distributed(reader, reader.section(top.get("distributed"), ("distributed",)), training.device, for_training)
    own = _own_sections(family)
    sections = {name: reader.build(section, reader.section(top.get(name), (name,)), (name,)) for name, section in own.items()}
    output_dir = top.get("output_dir", "runs")
    if not isinstance(output_dir, str) or not output_dir.strip():
        reader.problem(("output_dir",), f"expected a folder path (got {output_dir!r})")
        output_dir = "runs"
    for key in top:
        if key in SECTIONS or key in own:
            continue
        owners = [name for name in registry_names() if key in _own_sections(_registered(name))]
        if owners:
            reader.warning((str(key),), f"not used by model type {family.name} (a section of {', '.join(owners)}), ignored")
        else:
            reader.warning((str(key),), "unknown section, ignored" + _did_you_mean(str(key), (*SECTIONS, *own)))
    config: Config[Any, Any] = Config(
        model=model,
        training=training,
        data=data,
        decoding=decoding,
        distributed=distributed,
        output_dir=resolve_path(output_dir, base_dir) or output_dir,
        source=source,
        sections=sections,
    )
    config = family.finish_config(config, reader)
    reader.fail_if_problems()
    return config, reader.warnings


def _own_sections(family: "Family") -> Mapping[str, Section]:
    """The top-level sections only this family reads (``Family.own_sections``; most families have none)."""
    return getattr(family, "own_sections", {})


def registry_names() -> tuple[str, ...]:
    from .families import registry

    return registry.names()


def _registered(name: str) -> "Family":
    from .families import registry

    return registry.family(name)


def _with_overrides(top: dict[str, Any], overrides: Overrides, reader: ConfigReader) -> dict[str, Any]:
    """``top`` with the values set on the command line; a problem with one of them names its flag."""
    merged = dict(top)
    for path, (value, flag) in overrides.items():
        node = merged
        for key in path[:-1]:
            child = node.get(key)
            node[key] = dict(child) if isinstance(child, dict) else {}
            node = node[key]
        node[path[-1]] = value
        reader.locations[path] = flag
    return merged


DISTRIBUTED_SECTION = Section(
    DistributedConfig,
    {
        "nproc_per_node": checks.auto_or(checks.integer(1, 1024)),
        "nnodes": checks.integer(1, 65536),
        "node_rank": checks.integer(0, allow_null=True),
        "rdzv_endpoint": checks.endpoint(allow_null=True),
        "rdzv_id": checks.text(),
        "backend": checks.choice(BACKENDS),
        "learning_rate_scaling": checks.choice(LEARNING_RATE_SCALING),
        "timeout_minutes": checks.number(0.0, exclusive_low=True),
    },
)


def _distributed(reader: ConfigReader, raw: dict[str, Any], device: str, ask_this_machine: bool = True) -> DistributedConfig:
    """The ``distributed`` section and its rules across keys (some ask this machine how many GPUs it has)."""
    settings: DistributedConfig = reader.build(DISTRIBUTED_SECTION, raw, ("distributed",))
    nproc, nnodes = settings.nproc_per_node, settings.nnodes
    if nnodes > 1 and settings.rdzv_endpoint is None:
        reader.problem(
            ("distributed", "nnodes"),
            f"{nnodes} nodes need distributed.rdzv_endpoint (HOST:PORT of the node that hosts rank 0, reachable from every node)",
        )
    if settings.node_rank is not None and settings.node_rank >= nnodes:
        reader.problem(("distributed", "node_rank"), f"must be below distributed.nnodes ({nnodes}) (got {settings.node_rank})")
    if settings.backend == "nccl" and device in ("cpu", "mps"):
        reader.problem(("distributed", "backend"), f"nccl needs CUDA, but training.device is {device}; use gloo or auto")
    several = nproc if isinstance(nproc, int) and nproc > 1 else 0
    if not ask_this_machine:
        return settings
    if (several and device in ("cuda", "auto")) or (settings.backend == "nccl" and device == "auto"):
        from .training.distributed import cuda_gpu_count

        gpus = cuda_gpu_count()
        if settings.backend == "nccl" and device == "auto" and gpus == 0:
            reader.problem(("distributed", "backend"), "nccl needs CUDA, and this machine has no CUDA GPU; use gloo or auto")
        if several > gpus and (device == "cuda" or gpus > 0):
            fix = f"use at most {gpus}, or auto" if gpus else "set training.device: cpu to run them on the CPU"
            reader.problem(
                ("distributed", "nproc_per_node"),
                f"{nproc} processes on this machine, but it has {gpus} CUDA GPU(s) and each process needs its own; {fix}",
            )
    return settings


def _keys_of_other_families(name: str) -> dict[str, dict[str, list[str]]]:
    """Per section, the keys only other families have, with those families."""
    from .families import registry

    own = registry.family(name)
    other: dict[str, dict[str, list[str]]] = {"model": {}, "training": {}}
    for family_name in registry.names():
        family = registry.family(family_name)
        for section, keys, mine in (
            ("model", family.model_section.keys, own.model_section.keys),
            ("training", family.training_section.keys, own.training_section.keys),
        ):
            for key in keys:
                if key not in mine:
                    other[section].setdefault(key, []).append(family_name)
    return other


def read_yaml(file: Path, what: str = "training config") -> tuple[Any, dict[KeyPath, str]]:
    """A YAML file's data and the ``file:line`` of each key in it."""
    import yaml

    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise TrainerError(INVALID_CONFIG, f"The {what} {file} does not exist.", "Check the path.") from error
    except OSError as error:
        raise TrainerError(INVALID_CONFIG, f"Cannot read the {what} {file}: {error.strerror or error}", "Check the path.") from error
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise TrainerError(
            INVALID_CONFIG,
            f"{file}{line}: not valid YAML ({getattr(error, 'problem', None) or error}).",
            "Fix the YAML syntax at the reported line.",
            issues=[f"{file}{line}: {getattr(error, 'problem', None) or error}"],
        ) from error
    finally:
        loader.dispose()
    return data, _key_lines(node, str(file), ()) if node is not None else {}


def _key_lines(node: Any, file: str, path: KeyPath) -> dict[KeyPath, str]:
    import yaml

    lines: dict[KeyPath, str] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = (*path, str(key_node.value))
            lines[key_path] = f"{file}:{key_node.start_mark.line + 1}"
            lines.update(_key_lines(value_node, file, key_path))
    return lines


def load_config(path: Union[str, Path], overrides: Optional[Overrides] = None) -> tuple[Config[Any, Any], list[str]]:
    """Read a training config file; relative paths inside it are relative to its folder."""
    file = Path(path).expanduser().resolve()
    raw, lines = read_yaml(file)
    return parse_config(raw if raw is not None else {}, file.parent, str(file), lines, overrides)


def config_from_dict(raw: dict[str, Any], overrides: Optional[Overrides] = None, for_training: bool = True) -> Config[Any, Any]:
    """Rebuild a resolved config saved in a run directory or checkpoint (paths already absolute)."""
    saved = {k: v for k, v in raw.items() if k != "source"}
    config, _ = parse_config(saved, Path.cwd(), raw.get("source"), overrides=overrides, for_training=for_training)
    return config
