"""``python -m vin_ocr train``: one training session from start to ``run_finished``.

Owns everything around the loop: the run directory, the two output channels, resuming,
signals, and turning every failure into a ``run_finished`` event with a code and a hint.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import time
import traceback
from pathlib import Path
from typing import Any, Optional

import torch
import yaml

from ..config import Config, config_from_dict, load_config
from ..errors import TrainerError, translate
from ..events import EventWriter, HumanLog
from .checkpoints import BEST, LAST, load_checkpoint
from .data import TrainStream, auto_workers, build_eval_set, build_train_stream
from .device import place, usable_cores
from .loop import EXIT_CANCELLED, EXIT_COMPLETED, EXIT_FAILED, RunOptions, Trainer, new_run_id, seed_everything
from .signals import CancelFlag, Cancelled


def _apply_overrides(config: Config, options: RunOptions) -> Config:
    changes: dict[str, Any] = {}
    if options.max_steps is not None:
        changes["max_steps"] = options.max_steps
    if options.max_minutes is not None:
        changes["max_minutes"] = options.max_minutes if options.max_minutes > 0 else None
    if options.device is not None:
        changes["device"] = options.device
    config = config.replace_training(**changes) if changes else config
    if options.output_dir is not None:
        config = dataclasses.replace(config, output_dir=str(Path(options.output_dir).expanduser().resolve()))
    return config


def _run_dir_of(checkpoint: Path) -> Optional[Path]:
    """The run a checkpoint belongs to, when it sits in <run>/checkpoints/."""
    if checkpoint.parent.name == "checkpoints" and (checkpoint.parent.parent / "config.yaml").is_file():
        return checkpoint.parent.parent
    return None


class Session:
    def __init__(self, config_path: str, options: RunOptions) -> None:
        self.config_path = config_path
        self.options = options
        self.cancel = CancelFlag().install()
        # A provisional id, so that even a config that fails to load ends in a valid run_finished.
        self.events = EventWriter(_dt.datetime.now().strftime("%Y%m%d-%H%M%S") + "-unstarted", options.events)
        self.log = HumanLog()
        self.run_dir: Optional[Path] = None
        self.trainer: Optional[Trainer] = None
        self.started = time.monotonic()

    def run(self) -> int:
        status, error = "failed", None
        try:
            status = self._train()
        except Cancelled:
            status = "cancelled"
            self.log.info("cancelled before training started")
        except TrainerError as failure:
            error = failure
        except BaseException as failure:  # noqa: BLE001 - every failure must end in run_finished
            if isinstance(failure, (KeyboardInterrupt, SystemExit)):
                status = "cancelled"
            else:
                trainer = self.trainer
                device = trainer.placement.device if trainer else "cpu"
                batch = trainer.config.training.batch_size if trainer else 0
                error = translate(failure, device, batch)
                self.log.info(traceback.format_exc())
        finally:
            self.cancel.restore()
        if error is not None:
            status = "failed"
            self.log.info(str(error))
        self._finish(status, error)
        return {"completed": EXIT_COMPLETED, "cancelled": EXIT_CANCELLED}.get(status, EXIT_FAILED)

    def _train(self) -> str:
        options = self.options
        resume_state: Optional[dict[str, Any]] = None
        if options.resume:
            resume_state, checkpoint = load_checkpoint(options.resume, prefer=LAST)
            # The checkpoint's own resolved config: anything else would not be the same run.
            config = _apply_overrides(config_from_dict(resume_state["config"]), options)
            warnings: list[str] = []
            run_dir = _run_dir_of(checkpoint)
            self.log.info(f"resuming from {checkpoint} at step {resume_state['step']}")
        else:
            config, warnings = load_config(self.config_path)
            config = _apply_overrides(config, options)
            run_dir = None
        output_dir = Path(config.output_dir)
        if run_dir is not None and resume_state is not None:
            self.events.run_id = str(resume_state["run_id"])
        else:
            self.events.run_id = new_run_id(output_dir, config.model.type)
            run_dir = output_dir / self.events.run_id
        self._open_run_dir(run_dir, config)
        for warning in warnings:
            self.events.emit("warning", code="config_warning", message=warning, fix=None)

        device = place(config.training.device, config.training.precision).device
        workers = config.training.num_workers
        num_workers = auto_workers(device) if workers == "auto" else int(workers)
        # One core per render worker, the rest for the main process (the model on a CPU; pool
        # re-augmentation and batching on a GPU): more threads than cores made OpenMP spin
        # against the renderer and cut throughput several-fold on 2 cores.
        torch.set_num_threads(max(1, usable_cores() - num_workers))
        placement = place(device, config.training.precision)
        seed_everything(config.training.seed)
        self.log.info(f"run {self.events.run_id} in {run_dir} on {placement.name} ({placement.dtype})")
        val = build_eval_set(config.data.val, config, "val")
        test = build_eval_set(config.data.test, config, "test")
        for split in (val, test):
            if split is not None and split.skipped:
                self.events.emit("warning", code="rows_skipped", message=f"{split.skipped} bad row(s) skipped in the {split.name} set", fix=None)

        stream, train_size, skipped, data_warnings = build_train_stream(config, num_workers, config.training.batch_size, device)
        for warning in data_warnings[:100]:
            self.events.emit("warning", code="dataset_warning", message=warning, fix=None)
        if train_size is not None:  # a labelled set: its size and the count skipped, always
            summary = f"training set {config.data.train}: {train_size} rows used, {skipped} skipped"
            self.events.emit("log", level="info", message=summary)
            self.log.info(summary)
        if skipped:
            self.events.emit("warning", code="rows_skipped", message=f"{skipped} bad row(s) skipped in the training set", fix=None)
        trainer = Trainer(config, placement, run_dir, self.events, self.log, self.cancel)
        self.trainer = trainer
        if resume_state is not None:
            trainer.restore(resume_state)
        _report_train_data(trainer, config, stream, num_workers)
        trainer.open_tensorboard()
        self.events.emit(
            "run_started",
            run_dir=str(run_dir),
            config=config.to_dict(),
            device=placement.device,
            device_name=placement.name,
            attention=placement.attention,
            dtype=placement.dtype,
            total_steps=config.training.max_steps,
            start_step=trainer.step,
            resumed_from=str(options.resume) if options.resume else None,
            parameters=sum(p.numel() for p in trainer.model.parameters()),
            max_minutes=config.training.max_minutes,
        )
        return trainer.run(stream, train_size, val, test, options.stop_after_step)

    def _open_run_dir(self, run_dir: Path, config: Config) -> None:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        self.run_dir = run_dir
        config_file = run_dir / "config.yaml"
        if not config_file.exists():
            config_file.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
        self.events.attach_file(run_dir / "events.jsonl")
        self.log.attach_file(run_dir / "train.log")

    def _finish(self, status: str, error: Optional[TrainerError]) -> None:
        trainer = self.trainer
        best = last = None
        metrics: dict[str, Any] = {}
        if trainer is not None:
            best_file, last_file = trainer.checkpoints / BEST, trainer.checkpoints / LAST
            best = str(best_file) if best_file.is_file() else None
            last = str(last_file) if last_file.is_file() else None
            metrics = trainer.best_metrics or trainer.last_metrics
            if trainer.tensorboard is not None:
                trainer.tensorboard.close()
        if self.run_dir is not None:
            summary = {
                "run_id": self.events.run_id,
                "status": status,
                "step": trainer.step if trainer else 0,
                "best_step": trainer.best_step if trainer else None,
                "best_checkpoint": best,
                "last_checkpoint": last,
                "elapsed_seconds": round(trainer.elapsed, 2) if trainer else 0.0,
                "samples_seen": trainer.samples_seen if trainer else 0,
                "device": trainer.placement.device if trainer else None,
                "dtype": trainer.placement.dtype if trainer else None,
                "val": metrics,
                "test": trainer.test_metrics if trainer else {},
                "error": error.to_event() if error else None,
            }
            try:
                (self.run_dir / "metrics.json").write_text(json.dumps(summary, indent=2, allow_nan=False, default=str), encoding="utf-8")
            except (OSError, ValueError) as failure:
                self.log.info(f"could not write metrics.json: {failure}")
        self.events.emit(
            "run_finished",
            status=status,
            step=trainer.step if trainer else 0,
            best_checkpoint=best,
            last_checkpoint=last,
            metrics=metrics,
            elapsed_seconds=round(time.monotonic() - self.started, 2),
            error=error.to_event() if error else None,
        )
        if status == "completed" and trainer is not None:
            _print_summary(self.log, trainer, best)
        self.events.close()
        self.log.close()


def _report_train_data(trainer: Trainer, config: Config, stream: TrainStream, num_workers: int) -> None:
    if config.data.train != "synthetic":
        return
    trainer.log.info(
        f"training on synthetic VINs: pool of {stream.pool_capacity} renders, {stream.fresh / stream.batch_size:.0%} fresh per batch, "
        f"{num_workers} render worker(s), {torch.get_num_threads()} torch thread(s)"
    )


def _print_summary(log: HumanLog, trainer: Trainer, best: Optional[str]) -> None:
    metrics = trainer.best_metrics
    if metrics:
        log.info(
            f"held-out exact match {metrics['exact_match']:.2%} · CER {metrics['cer']:.4f} · char F1 {metrics['char_f1']:.4f} "
            f"· check-digit decoding {metrics.get('exact_match_check_digit', 0.0):.2%} (step {trainer.best_step})"
        )
    if trainer.test_metrics:
        log.info(f"test exact match {trainer.test_metrics['exact_match']:.2%} · CER {trainer.test_metrics['cer']:.4f}")
    log.info(f"model saved to {best}")


def train(config_path: str, options: RunOptions) -> int:
    return Session(config_path, options).run()
