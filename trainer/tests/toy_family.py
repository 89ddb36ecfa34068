"""A toy model family, to show that a family is one module plus one registry line.

The "model" is two numbers fitted to y = 2x + 1 by gradient descent; it "reads" a VIN right once
both are close. It implements ``vin_ocr.families.protocol.Family`` and nothing else; the run
harness gives it the run directory, events, budget, evaluation schedule, best checkpoint,
metrics.json, TensorBoard, resuming and error reporting. ``registry.register(FAMILY)`` is the one
registry line (in the package it would be a line in ``families/registry.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Sequence

import torch

from vin_ocr import config_checks as checks
from vin_ocr.config import TRAINING_CHECKS, Config, ConfigReader, ModelConfig, Section, TrainingConfig
from vin_ocr.decoding import Read
from vin_ocr.families.protocol import CheckpointRef, Clock, Evaluation, Plan, RunContext, RunFacts, StepResult
from vin_ocr.metrics import vin_metrics

NAME = "toy"
VIN = "1HGCM82633A004352"
WRONG = "00000000000000000"
# metrics.json's step as each evaluation starts (None: not written yet), for the test to look at.
METRICS_STEP_AT_EVALUATION: list[Optional[int]] = []


@dataclass(frozen=True)
class ToyModel(ModelConfig):
    type: str = NAME
    step_seconds: float = 0.0  # sleep per step, for time-bound runs
    fail_at_step: Optional[int] = None  # raise "out of memory" there
    cancelled_at_step: Optional[int] = None  # its data ends with Cancelled there, as a family's child process stopped by a cancel


@dataclass(frozen=True)
class ToyTraining(TrainingConfig):
    max_steps: int = 20
    eval_every: int = 5
    learning_rate: float = 0.3
    batch_size: int = 8


def _fitted(weights: torch.Tensor) -> bool:
    return abs(float(weights[0]) - 2.0) + abs(float(weights[1]) - 1.0) < 0.05


class ToyRun:
    def __init__(self, context: RunContext) -> None:
        self.config = context.config
        self.run_dir = context.run_dir
        self.weights = torch.zeros(2, requires_grad=True)
        self.optimizer = torch.optim.SGD([self.weights], lr=self.config.training.learning_rate)
        self.best = self.weights.detach().clone()
        training = self.config.training
        self.plan = Plan(training.max_steps, training.eval_every, None)
        self.facts = RunFacts(context.device, "toy device", "fp32", "eager", 2, extra={"toy": True})

    def batches(self, start_step: int) -> Iterator[torch.Tensor]:
        from vin_ocr.training.signals import Cancelled

        generator = torch.Generator().manual_seed(start_step)
        step = start_step
        while True:
            step += 1
            if step == self.config.model.cancelled_at_step:
                raise Cancelled()
            yield torch.rand(self.config.training.batch_size, generator=generator) * 2 - 1

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def train_step(self, batch: torch.Tensor, clock: Clock) -> StepResult:
        import time

        model = self.config.model
        if model.fail_at_step is not None and clock.step + 1 >= model.fail_at_step:
            raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")
        if model.step_seconds:
            time.sleep(model.step_seconds)
        loss = ((self.weights[0] * batch + self.weights[1] - (2 * batch + 1)) ** 2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return StepResult(float(loss.detach()), len(batch))

    def evaluate(self, split: str) -> Optional[Evaluation]:
        if split == "test":
            return None
        metrics_file = self.run_dir / "metrics.json"
        METRICS_STEP_AT_EVALUATION.append(json.loads(metrics_file.read_text())["step"] if metrics_file.is_file() else None)
        prediction = VIN if _fitted(self.weights.detach()) else WRONG
        return Evaluation(dict(vin_metrics([prediction], [VIN])), 1)

    def remember_best(self) -> None:
        self.best = self.weights.detach().clone()

    def use_best(self) -> None:
        with torch.no_grad():
            self.weights.copy_(self.best)

    def checkpoint_path(self, kind: str) -> Path:
        return self.run_dir / "checkpoints" / f"{kind}.toy"

    def save(self, kind: str, state: dict[str, Any]) -> Path:
        path = self.checkpoint_path(kind)
        torch.save({**state, "weights": self.weights.detach().clone()}, path)
        return path

    def restore(self, checkpoint: CheckpointRef, state: dict[str, Any]) -> None:
        with torch.no_grad():
            self.weights.copy_(state["weights"])

    def finish(self) -> None:
        pass

    def close(self) -> None:
        pass


class ToyReader:
    def __init__(self, checkpoint: Path, state: dict[str, Any]) -> None:
        self.checkpoint = checkpoint
        self.step = int(state["step"])
        self.check_digit = False
        self.weights = state["weights"]

    def read(self, images: Sequence[Any]) -> list[Read]:
        text = VIN if _fitted(self.weights) else WRONG
        return [Read(text, 1.0, [1.0] * len(text)) for _ in images]


class ToyFamily:
    name = NAME
    model_section = Section(
        ToyModel,
        {
            "type": checks.choice((NAME,)),
            "step_seconds": checks.number(0.0),
            "fail_at_step": checks.integer(1, allow_null=True),
            "cancelled_at_step": checks.integer(1, allow_null=True),
        },
    )
    training_section = Section(ToyTraining, TRAINING_CHECKS)
    section_defaults: Mapping[str, Any] = {}

    def finish_config(self, config: Config[Any, Any], reader: ConfigReader) -> Config[Any, Any]:
        return config

    def fallback(self, config: Config[Any, Any], device: str) -> None:
        return None

    def find_checkpoint(self, target: Path, prefer: str) -> Optional[CheckpointRef]:
        folder = target / "checkpoints"
        for kind in (prefer, "best" if prefer == "last" else "last"):
            if (folder / f"{kind}.toy").is_file():
                return CheckpointRef(folder / f"{kind}.toy", target, str(target))
        return None

    def saved_state(self, checkpoint: CheckpointRef) -> dict[str, Any]:
        state: dict[str, Any] = torch.load(checkpoint.path, weights_only=True)
        return state

    def start(self, context: RunContext) -> ToyRun:
        return ToyRun(context)

    def load_reader(self, checkpoint: CheckpointRef, device: str) -> ToyReader:
        return ToyReader(checkpoint.path, self.saved_state(checkpoint))


FAMILY = ToyFamily()
