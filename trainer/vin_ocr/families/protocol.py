"""What a model family provides to the run harness and to ``evaluate``/``predict``.

A family is one object (usually a module's ``FAMILY``) with three jobs:

* its config: the ``model`` and ``training`` sections it accepts (``Section``), defaults for the
  shared sections, and the cross-key rules ``finish_config`` applies; optionally ``own_sections``
  (name -> ``Section``), top-level sections only it reads (``paddleocr``), found on ``Config.sections``;
* training: ``start`` builds a ``FamilyRun`` (model, optimiser, data) that the harness drives
  step by step; the harness owns everything around it (run directory, events, budget,
  evaluation schedule, best checkpoint, metrics.json, TensorBoard, errors, and the ranks of a
  data-parallel run: ``RunContext.team``);
* reading: ``find_checkpoint`` recognises its checkpoints and ``load_reader`` loads one to read VINs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Optional, Protocol, Sequence

from ..config import Config, ConfigReader, Section
from ..decoding import Read
from ..human_log import HumanLog
from ..training.distributed import Team


@dataclass(frozen=True)
class Plan:
    """How long a run trains and how often it evaluates, once the family knows its data."""

    max_steps: int
    eval_every: int
    train_size: Optional[int] = None  # examples in a labelled training set; None: an endless synthetic stream


class StepResult(NamedTuple):
    loss: float
    samples: int  # examples this step trained on


@dataclass(frozen=True)
class Clock:
    """Where the run stands when a step starts (a learning-rate schedule may follow it)."""

    step: int  # steps done before this one
    max_steps: int
    fraction: float  # of the binding budget (steps or time) done, 0..1


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]
    size: int
    samples: list[dict[str, Any]] = field(default_factory=list)  # items of the `samples` event


@dataclass(frozen=True)
class RunFacts:
    """What ``run_started`` reports about the model and where it runs."""

    device: str  # cuda | mps | cpu
    device_name: str
    dtype: str  # bf16 | fp16 | fp32
    attention: str  # flash_attention_2 | sdpa | eager
    parameters: int
    extra: Mapping[str, Any] = field(default_factory=dict)  # family-specific run_started fields


@dataclass(frozen=True)
class CheckpointRef:
    path: Path  # the checkpoint file or folder
    run_dir: Optional[Path]  # the run it belongs to, when it sits in <run>/checkpoints/
    resumed_from: str  # what run_started reports as `resumed_from` when a run continues from it


@dataclass
class RunContext:
    config: Config[Any, Any]
    device: str  # chosen by the harness: cuda | mps | cpu
    run_dir: Path
    log: HumanLog
    # Set-up notices (warnings, log events) wait for run_started, so a reader always sees the run first.
    notice: Callable[..., None]
    # The ranks training together (training/distributed.py); a single process is a team of one. A
    # family trains through team.wrap(model), takes its share of the data (team.world), and leaves
    # evaluation, saving and exports to rank 0 (the harness calls them there only).
    team: Team = field(default_factory=Team)


class FamilyRun(Protocol):
    facts: RunFacts
    plan: Plan
    # Optional (read with getattr): True when the run starts from weights that already read VINs (a fine-tune
    # from the shipped reader): the harness validates them before the first step, so the best checkpoint is
    # never worse on the validation set than the start.
    # starts_trained: bool

    def batches(self, start_step: int) -> Iterator[Any]: ...

    def train_step(self, batch: Any, clock: Clock) -> StepResult: ...

    @property
    def learning_rate(self) -> float: ...

    def evaluate(self, split: str) -> Optional[Evaluation]:
        """Metrics on the val or test split; None when the config has no such split."""

    def checkpoint_path(self, kind: str) -> Path:
        """Where checkpoint ``kind`` (last | best) is written."""

    def save(self, kind: str, state: dict[str, Any]) -> Path:
        """Writes checkpoint ``kind`` (last | best) holding the harness's ``state`` and the family's own."""

    def restore(self, checkpoint: CheckpointRef, state: dict[str, Any]) -> None:
        """Puts the family's part of a saved ``state`` (weights, optimiser …) back."""

    def remember_best(self) -> None:
        """The current weights are the best so far (the test split is read with them)."""

    def use_best(self) -> None: ...

    def finish(self) -> None:
        """After a completed run: exports, if the family has any."""

    def close(self) -> None: ...


class Reader(Protocol):
    """A trained model loaded to read VINs (``evaluate`` and ``predict``)."""

    checkpoint: Path
    step: int
    check_digit: bool  # check-digit-aware decoding, as trained

    def read(self, images: Sequence[Any]) -> list[Read]:
        """One read per PIL image."""


class Family(Protocol):
    name: str  # the config's model.type
    model_section: Section
    training_section: Section
    section_defaults: Mapping[str, Any]  # defaults for the shared sections (e.g. a smaller synthetic val set)

    def finish_config(self, config: Config[Any, Any], reader: ConfigReader) -> Config[Any, Any]:
        """Defaults that depend on other keys, and rules across keys (problems go to ``reader``)."""

    def fallback(self, config: Config[Any, Any], device: str) -> Optional[tuple[str, str, Config[Any, Any]]]:
        """When the model cannot run here and the config allows it: (why, fix, the config to train instead)."""

    def find_checkpoint(self, target: Path, prefer: str) -> Optional[CheckpointRef]:
        """This family's checkpoint at ``target`` (a run directory: its ``prefer`` one), else None."""

    def saved_state(self, checkpoint: CheckpointRef) -> dict[str, Any]:
        """The state saved in a checkpoint, with at least ``config`` (the resolved config as a mapping)."""

    def start(self, context: RunContext) -> FamilyRun: ...

    def load_reader(self, checkpoint: CheckpointRef, device: str) -> Reader: ...
