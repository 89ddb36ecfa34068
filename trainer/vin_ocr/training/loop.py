"""The training loop: config in, a run directory with checkpoints, metrics and events out.

Run directory ``<output_dir>/<run-id>/``: ``config.yaml`` (resolved), ``events.jsonl``,
``train.log``, ``checkpoints/last.pt`` and ``best.pt``, ``metrics.json`` and TensorBoard
event files. Resuming from a checkpoint inside a run directory continues that run (same id,
same files, appended).
"""
from __future__ import annotations

import copy
import datetime as _dt
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Optional

import numpy as np
import torch

from ..config import Config
from ..events import EventWriter, HumanLog
from ..models import BLANK, build_model
from .checkpoints import BEST, LAST, load_checkpoint, save_atomically
from .data import Batch, EvalSet, TrainStream
from .device import Placement
from .evaluate import read_images, sample_items, score
from .signals import CancelFlag

EXIT_COMPLETED, EXIT_FAILED, EXIT_CANCELLED = 0, 1, 130
PROGRESS_EVERY_SECONDS = 1.0
GRADIENT_CLIP = 5.0
FINAL_LR_FRACTION = 0.02
PRIMARY_METRIC = "exact_match"


@dataclass
class RunOptions:
    output_dir: Optional[str] = None
    max_steps: Optional[int] = None
    max_minutes: Optional[float] = None
    resume: Optional[str] = None
    device: Optional[str] = None
    events: Optional[IO[str]] = None
    # For tests: stop (as if cancelled) once this step is done, keeping the schedule of max_steps.
    stop_after_step: Optional[int] = None


def learning_rate(base: float, step: int, max_steps: int, elapsed: float, max_seconds: Optional[float]) -> float:
    """Linear warm-up, then cosine decay over whichever budget (steps or minutes) runs out first,
    so a run cut short by its time limit still ends with a small learning rate."""
    warmup = max(1, min(100, max_steps // 20))
    progress = step / max_steps
    if max_seconds:
        progress = max(progress, elapsed / max_seconds)
    progress = min(progress, 1.0)
    decay = FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * 0.5 * (1 + math.cos(math.pi * progress))
    return base * min(1.0, (step + 1) / warmup) * decay


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def new_run_id(output_dir: Path, model_type: str) -> str:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_id = f"{stamp}-{model_type}"
    suffix = 1
    while (output_dir / run_id).exists():
        suffix += 1
        run_id = f"{stamp}-{model_type}-{suffix}"
    return run_id


class Trainer:
    def __init__(self, config: Config, placement: Placement, run_dir: Path, events: EventWriter, log: HumanLog, cancel: CancelFlag) -> None:
        self.config = config
        self.placement = placement
        self.run_dir = run_dir
        self.checkpoints = run_dir / "checkpoints"
        self.events = events
        self.log = log
        self.cancel = cancel
        training = config.training
        self.max_steps = training.max_steps
        self.max_seconds = training.max_minutes * 60 if training.max_minutes else None
        self.model = build_model(config.model).to(placement.torch_device)
        if placement.device == "cpu":
            # Channels-last weights (with the model's channels-last activations) keep oneDNN's
            # convolutions free of layout reorders: measured about 1.5x the images/s on 2 cores.
            # Parameters keep their values and shapes; checkpoints load into either layout.
            self.model.to(memory_format=torch.channels_last)
        self.optimizer = _adamw(self.model, training.learning_rate)
        self.scaler = torch.amp.GradScaler("cuda") if placement.needs_grad_scaler else None
        self.ctc = torch.nn.CTCLoss(blank=BLANK, zero_infinity=True)
        self.step = 0
        self.elapsed = 0.0
        self.samples_seen = 0
        self.best_metric = -1.0
        self.best_step: Optional[int] = None
        self.best_metrics: dict[str, float] = {}
        self.best_state: Optional[dict[str, torch.Tensor]] = None
        self.last_metrics: dict[str, float] = {}
        self.tensorboard: Any = None
        self.test_metrics: dict[str, float] = {}

    # ---- state -------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "run_id": self.events.run_id,
            "config": self.config.to_dict(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler else None,
            "step": self.step,
            "elapsed_seconds": self.elapsed,
            "samples_seen": self.samples_seen,
            "best_metric": self.best_metric,
            "best_step": self.best_step,
            "best_metrics": self.best_metrics,
            "metrics": self.last_metrics,
            "rng": {
                "python": list(_python_rng_state()),
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            },
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.step = int(state["step"])
        self.elapsed = float(state["elapsed_seconds"])
        self.samples_seen = int(state["samples_seen"])
        self.best_metric = float(state["best_metric"])
        self.best_step = state.get("best_step")
        self.best_metrics = dict(state.get("best_metrics") or {})
        self.last_metrics = dict(state.get("metrics") or {})
        rng = state["rng"]
        _set_python_rng_state(rng["python"])
        torch.set_rng_state(rng["torch"])
        if rng.get("cuda") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        best_file = self.checkpoints / BEST
        if best_file.is_file():
            best, _ = load_checkpoint(best_file)
            self.best_state = best["model"]

    def save(self, kind: str) -> Path:
        path = self.checkpoints / (LAST if kind == "last" else BEST)
        save_atomically(self.state(), path)
        self.events.emit("checkpoint", path=str(path), kind=kind, step=self.step, metrics=self.last_metrics)
        return path

    # ---- one step ----------------------------------------------------------------------
    def train_step(self, batch: Batch) -> float:
        device = self.placement.torch_device
        images = batch.images.to(device, non_blocking=True)
        targets = torch.tensor([_encode(vin) for vin in batch.vins], dtype=torch.long)
        target_lengths = torch.full((len(batch.vins),), targets.shape[1], dtype=torch.long)
        lr = learning_rate(self.config.training.learning_rate, self.step, self.max_steps, self.elapsed, self.max_seconds)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        with torch.autocast(self.placement.device, dtype=self.placement.autocast_dtype, enabled=self.placement.autocast_dtype is not None):
            log_probs = self.model(images)
        # CTC in fp32 always: its log-sum-exp is what loses precision first in half precision.
        log_probs = log_probs.float().transpose(0, 1)  # [frames, batch, classes]
        input_lengths = torch.full((len(batch.vins),), log_probs.shape[0], dtype=torch.long)
        loss = self.ctc(log_probs, targets.to(device), input_lengths, target_lengths)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRADIENT_CLIP)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRADIENT_CLIP)
            self.optimizer.step()
        self.step += 1
        self.samples_seen += len(batch.vins)
        return float(loss.detach())

    # ---- evaluation --------------------------------------------------------------------
    def evaluate(self, eval_set: EvalSet, emit_samples: bool = True) -> dict[str, float]:
        reads = read_images(self.model, eval_set.images, self.placement)
        metrics, chosen = score(reads, eval_set.vins, self.config.decoding.check_digit)
        if emit_samples:
            self.events.emit("samples", step=self.step, split=eval_set.name, items=sample_items(eval_set.images, eval_set.vins, chosen))
        return metrics

    def validate(self, val: Optional[EvalSet]) -> None:
        """Evaluate, log, write last (and best when improved) checkpoints."""
        if val is not None:
            metrics = self.evaluate(val)
            self.last_metrics = metrics
            improved = metrics[PRIMARY_METRIC] > self.best_metric
            self.events.emit("eval", step=self.step, split="val", size=len(val.vins), metrics=metrics, is_best=improved)
            self.log.info(
                f"step {self.step}: val exact match {metrics['exact_match']:.2%}, CER {metrics['cer']:.4f}"
                + (" (best so far)" if improved else "")
            )
            self._scalars({f"val/{k}": v for k, v in metrics.items() if not k.startswith("pos_")})
            if improved:
                self.best_metric = metrics[PRIMARY_METRIC]
                self.best_step = self.step
                self.best_metrics = metrics
                self.best_state = copy.deepcopy(self.model.state_dict())
                self.save("best")
        elif self.best_step != self.step:  # no validation set: the latest model is the best we know
            self.best_step = self.step
            self.best_state = copy.deepcopy(self.model.state_dict())
            self.save("best")
        self.save("last")

    def _scalars(self, values: dict[str, float]) -> None:
        if self.tensorboard is None:
            return
        for key, value in values.items():
            if value is not None and math.isfinite(value):
                self.tensorboard.add_scalar(key, value, self.step)

    def open_tensorboard(self) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            from ..errors import pip_command

            self.events.emit(
                "warning",
                code="tensorboard_missing",
                message="tensorboard is not installed: no TensorBoard event files for this run.",
                fix=pip_command("tensorboard"),
            )
            return
        self.tensorboard = SummaryWriter(log_dir=str(self.run_dir), flush_secs=10)

    # ---- the run -----------------------------------------------------------------------
    def run(self, stream: TrainStream, train_size: Optional[int], val: Optional[EvalSet], test: Optional[EvalSet], stop_after_step: Optional[int]) -> str:
        """Train until a budget runs out or a signal arrives; returns completed | cancelled."""
        batch_size = self.config.training.batch_size
        start_step = self.step
        started = time.monotonic() - self.elapsed
        last_progress = 0.0
        rate_window: list[tuple[float, int]] = [(time.monotonic(), self.samples_seen)]
        status = "completed"
        self.cancel.defer()
        batches = stream.batches(self.step)
        try:
            while self.step < self.max_steps:
                if self.max_seconds is not None and self.elapsed >= self.max_seconds:
                    self.log.info(f"time budget of {self.max_seconds / 60:g} min reached at step {self.step}")
                    break
                batch = next(batches)
                loss = self.train_step(batch)
                now = time.monotonic()
                self.elapsed = now - started
                if not math.isfinite(loss):
                    self.events.emit("warning", code="non_finite_loss", message=f"loss was {loss} at step {self.step}", fix="Lower training.learning_rate.")
                if now - last_progress >= PROGRESS_EVERY_SECONDS or self.step == self.max_steps or self.step == start_step + 1:
                    last_progress = now
                    rate_window = (rate_window + [(now, self.samples_seen)])[-10:]
                    (t0, s0), (t1, s1) = rate_window[0], rate_window[-1]
                    rate = (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0
                    self._progress(loss, rate, train_size, batch_size)
                if self.step % self.config.training.eval_every == 0 and self.step < self.max_steps:
                    self.validate(val)
                if self.cancel.requested or (stop_after_step is not None and self.step >= stop_after_step):
                    status = "cancelled"
                    break
        finally:
            batches.close()  # stops the DataLoader's worker processes now, not at garbage collection
        if status == "cancelled":
            self.save("last")
            self.log.info(f"{self.cancel.signal_name or 'stop'} received: checkpoint written at step {self.step}")
            return status
        self.validate(val)
        if test is not None and self.best_state is not None:
            current = copy.deepcopy(self.model.state_dict())
            self.model.load_state_dict(self.best_state)
            metrics = self.evaluate(test, emit_samples=False)
            self.model.load_state_dict(current)
            self.events.emit("eval", step=self.best_step or self.step, split="test", size=len(test.vins), metrics=metrics)
            self.test_metrics = metrics
            self.log.info(f"test exact match {metrics['exact_match']:.2%} (best checkpoint, step {self.best_step})")
        return status

    def _progress(self, loss: float, rate: float, train_size: Optional[int], batch_size: int) -> None:
        remaining_steps = self.max_steps - self.step
        eta: Optional[float] = remaining_steps * batch_size / rate if rate > 0 else None
        if self.max_seconds is not None:
            left = max(0.0, self.max_seconds - self.elapsed)
            eta = left if eta is None else min(eta, left)
        epoch = self.samples_seen / train_size if train_size else self.step / self.config.training.eval_every
        lr = self.optimizer.param_groups[0]["lr"]
        self.events.emit(
            "progress",
            step=self.step,
            total_steps=self.max_steps,
            epoch=round(epoch, 4),
            loss=loss,
            lr=lr,
            samples_per_sec=round(rate, 2),
            eta_seconds=None if eta is None else round(eta, 1),
            elapsed_seconds=round(self.elapsed, 2),
        )
        self.log.progress(self.step, self.max_steps, loss, rate, eta)
        self._scalars({"train/loss": loss, "train/lr": lr, "train/samples_per_sec": rate})


def _adamw(model: torch.nn.Module, lr: float) -> torch.optim.AdamW:
    """AdamW with the fused kernel where this torch has one for the device: one pass over the
    weights instead of a dozen (measured on 2 CPU cores: 2.3 → 0.7 ms per step, 4 % of a step)."""
    try:
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch, or a device without the fused kernel
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)


def _encode(vin: str) -> list[int]:
    from ..vin import ALPHABET

    return [ALPHABET.index(char) + 1 for char in vin]


def _python_rng_state() -> tuple:
    version, internal, gauss = random.getstate()
    return (version, list(internal), gauss)


def _set_python_rng_state(state: Any) -> None:
    version, internal, gauss = state
    random.setstate((version, tuple(internal), gauss))
