"""``python -m vin_ocr train``: one training run of any model family, from config to ``run_finished``.

The harness owns everything around the family's model (``families/protocol.py``), the same for
every family: the run directory, events and the human log, signals, the budget (``max_steps`` and
``max_minutes``, whichever ends first) and the evaluation schedule, the best checkpoint,
``metrics.json`` (rewritten at every evaluation), TensorBoard, resuming, and turning every failure
into a ``run_finished`` event with a code and a hint, for the device the run really uses.

In data-parallel training (``distributed.py``) every rank runs this harness: all of them step, agree
once per step on stopping and on the clock, and hand their random state to rank 0 at every
checkpoint; rank 0 alone evaluates and writes (events, log, TensorBoard, metrics.json, checkpoints);
the other ranks are silent but for their errors.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Optional

from ..config import Config, KeyPath, config_from_dict, load_config
from ..errors import CHECKPOINT_INVALID, TrainerError, translate
from ..events import EventWriter
from ..families import registry
from ..families.protocol import CheckpointRef, Clock, Evaluation, FamilyRun, RunContext
from ..human_log import HumanLog, Progress
from ..metrics import prefixed
from .budget import Budget, RateWindow
from .distributed import RELAYED_VARIABLE, Team, World, global_batch_size, learning_rate_scale, rank_seed, started_by_launcher
from .run_files import create_run_dir, new_run_id, write_json
from .run_record import RunRecord, rng_state, seed_everything
from .scalars import Scalars
from .signals import CancelFlag, Cancelled

EXIT_COMPLETED, EXIT_FAILED, EXIT_CANCELLED = 0, 1, 130
PROGRESS_EVERY_SECONDS = 1.0


@dataclass
class RunOptions:
    output_dir: Optional[str] = None
    max_steps: Optional[int] = None
    max_minutes: Optional[float] = None  # 0: no time limit
    resume: Optional[str] = None
    device: Optional[str] = None
    events: Optional[IO[str]] = None
    # For tests: stop (as if cancelled) once this step is done, keeping the schedule of max_steps.
    stop_after_step: Optional[int] = None
    # Reads the config another way (the fine-tuning command's flags) instead of the config file or,
    # when resuming, the config saved in the checkpoint; returns it with its warnings.
    read_config: Optional[Callable[[], tuple[Config[Any, Any], list[str]]]] = None
    # Also write the best val_* and test_* metrics here, flat (the existing project's --metrics-file).
    metrics_file: Optional[str] = None
    # Config values set by command-line flags (key path -> (value, flag)), checked with the file's.
    overrides: dict[KeyPath, tuple[Any, str]] = dataclasses.field(default_factory=dict)


Resume = tuple[CheckpointRef, dict[str, Any]]


def train(config_path: Optional[str], options: RunOptions) -> int:
    return Harness(config_path, options).run()


def read_run_config(
    config_path: Optional[str], options: RunOptions, log: Optional[HumanLog] = None
) -> tuple[Config[Any, Any], list[str], Optional[Resume]]:
    """The config a run trains with (the file's, or the resumed checkpoint's), with the flags applied."""
    resume: Optional[Resume] = None
    if options.resume:
        family, checkpoint = registry.find_checkpoint(options.resume, prefer="last")
        state = family.saved_state(checkpoint)
        resume = (checkpoint, state)
        if log is not None:
            log.info(f"resuming from {checkpoint.path} at step {state['step']}")
        if options.read_config is not None:
            config, warnings = options.read_config()
        elif isinstance(state.get("config"), dict):
            # The checkpoint's own resolved config: anything else would not be the same run.
            config, warnings = config_from_dict(state["config"], options.overrides), []
        else:
            raise TrainerError(
                CHECKPOINT_INVALID,
                f"{checkpoint.path} does not hold the config it was trained with (an older trainer wrote it).",
                "Resume it with python -m vin_ocr.training.hf_finetune --resume and the flags it was started with.",
            )
    elif options.read_config is not None:
        config, warnings = options.read_config()
    else:
        config, warnings = load_config(str(config_path), options.overrides)
    return _apply_overrides(config, options), warnings, resume


def _apply_overrides(config: Config[Any, Any], options: RunOptions) -> Config[Any, Any]:
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


def choose_device(requested: str) -> str:
    """``device.choose_device``, imported when a run starts: the launcher of a data-parallel run
    (torchrun.py) reads configs through this module and has no use for torch."""
    from .device import choose_device as choose

    return choose(requested)


def provisional_run_id() -> str:
    """The run id until the run directory exists, so that even a config that fails to load ends in a valid run_finished."""
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S") + "-unstarted"


class Harness:
    def __init__(self, config_path: Optional[str], options: RunOptions) -> None:
        self.config_path = config_path
        self.options = options
        self.cancel = CancelFlag().install()
        self.world = World.from_env()
        self.team = Team()  # a team of one until the run joins its process group
        # Ranks other than 0 are silent: no events, no log, only their errors on stderr.
        main = self.world.is_main
        self.events = EventWriter(provisional_run_id(), options.events if main else None)
        self.log = HumanLog() if main else HumanLog(open(os.devnull, "w"))  # the null stream lives as long as the process
        self.started = time.monotonic()
        self.config: Optional[Config[Any, Any]] = None
        self.device: Optional[str] = None
        self.run_dir: Optional[Path] = None
        self.model: Optional[FamilyRun] = None
        self.scalars: Optional[Scalars] = None
        self.budget = Budget(1)
        self._pending: Optional[list[tuple[str, dict[str, Any]]]] = []  # None once run_started is out
        self.record = RunRecord()
        self.evaluated_at: Optional[int] = None
        self.reported_at: Optional[int] = None  # the step of the last progress event
        self.cause: Optional[BaseException] = None  # the exception that failed the run, for the launcher's report

    # ---- the run, start to finish ------------------------------------------------------
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
                batch = self.config.training.batch_size if self.config else 0
                error = translate(failure, self.device or "cpu", batch)
                self.cause = failure
                self.log.info(traceback.format_exc())
        finally:
            self.cancel.hold()
        if error is not None:
            status = "failed"
            self.log.info(str(error))
            if not self.world.is_main:
                print(f"rank {self.world.rank}: {error}", file=sys.stderr, flush=True)
        try:
            self._finish(status, error)
        finally:
            self.cancel.restore()
        return {"completed": EXIT_COMPLETED, "cancelled": EXIT_CANCELLED}.get(status, EXIT_FAILED)

    def _train(self) -> str:
        config, warnings, resume = read_run_config(self.config_path, self.options, self.log)
        family = registry.family(config.model.type)
        self.config = config
        self.device = choose_device(config.training.device)
        self.team = team = Team.join(config.distributed, self.device)
        if started_by_launcher():
            self.cancel.follow_parent()  # torchrun killed outright: stop, as a cancel would
        switched = family.fallback(config, self.device) if resume is None else None
        if switched is not None:
            reason, fix, config = switched
            self.events.emit("warning", code="model_fallback", message=reason, fix=fix)
            family, warnings = registry.family(config.model.type), []
            self.config = config
        run_dir = self._open_run_dir(config, resume[0] if resume else None, resume[1] if resume else None)
        for warning in warnings:
            self._notice("warning", code="config_warning", message=warning, fix=None)
        # Rank 0 keeps the single-process seed; the others differ (dropout), while DDP starts them all from rank 0's weights.
        seed_everything(rank_seed(config.training.seed, team.rank))
        training = config.training
        scale = learning_rate_scale(team.size, config.distributed.learning_rate_scaling)
        learning_rate = training.learning_rate * scale if training.learning_rate is not None else None
        # The family trains with the scaled rate; checkpoints keep the config as written, so a resume scales it anew.
        family_config = config.replace_training(learning_rate=learning_rate) if scale != 1.0 else config
        context = RunContext(family_config, self.device, run_dir, self.log, self._notice, team)
        self.model = model = family.start(context)
        if resume is not None:
            model.restore(*resume)
            self.record.restore(resume[1], team.rank, team.size)
            trained_with = int(resume[1].get("world_size", 1))
            if trained_with != team.size:
                self._notice(
                    "warning",
                    code="world_size_changed",
                    message=f"resumed with {team.size} process(es), but the checkpoint was trained with {trained_with}: "
                    "the data order and the learning rate change from here, so this is not an exact continuation",
                    fix=f"Resume with {trained_with} process(es) (--nproc-per-node, --nnodes) for an exact continuation.",
                )
        self.scalars = Scalars(run_dir, self._notice) if team.is_main else None
        max_minutes = config.training.max_minutes
        self.budget = Budget(model.plan.max_steps, max_minutes * 60 if max_minutes else None)
        facts = model.facts
        self.log.info(f"run {self.events.run_id} in {run_dir} on {facts.device_name} ({facts.dtype})")
        self.events.emit(
            "run_started",
            run_dir=str(run_dir),
            config=config.to_dict(),
            device=facts.device,
            device_name=facts.device_name,
            attention=facts.attention,
            dtype=facts.dtype,
            total_steps=self.budget.max_steps,
            start_step=self.record.step,
            resumed_from=resume[0].resumed_from if resume else None,
            parameters=facts.parameters,
            max_minutes=max_minutes,
            world_size=team.size,
            global_batch_size=global_batch_size(training, team.size),
            learning_rate=learning_rate,
            **facts.extra,
        )
        for event, fields in self._pending or []:
            self.events.emit(event, **fields)
        self._pending = None
        return self._loop(model)

    def _open_run_dir(self, config: Config[Any, Any], checkpoint: Optional[CheckpointRef], state: Optional[dict[str, Any]]) -> Path:
        """Rank 0 names and creates the run directory; the other ranks learn its name (they write nothing there)."""
        if not self.team.is_main:
            run_id, folder = self.team.share(None)
            self.events.run_id = run_id
            return Path(folder)
        if checkpoint is not None and checkpoint.run_dir is not None and state is not None:
            run_dir = checkpoint.run_dir
            self.events.run_id = str(state.get("run_id") or run_dir.name)
        else:
            output_dir = Path(config.output_dir)
            self.events.run_id = new_run_id(output_dir, config.model.type)
            run_dir = output_dir / self.events.run_id
        create_run_dir(run_dir, config.to_dict())
        self.team.share((self.events.run_id, str(run_dir)))
        self.run_dir = run_dir
        if os.environ.get(RELAYED_VARIABLE) != "1":  # else the launcher that relays these events writes the file
            self.events.attach_file(run_dir / "events.jsonl")
        self.log.attach_file(run_dir / "train.log")
        return run_dir

    def _notice(self, event: str, **fields: Any) -> None:
        """Set-up warnings wait for run_started, so a reader always sees the run first."""
        if self._pending is None:
            self.events.emit(event, **fields)
        else:
            self._pending.append((event, fields))

    # ---- the loop ----------------------------------------------------------------------
    def _loop(self, model: FamilyRun) -> str:
        budget, plan, record = self.budget, model.plan, self.record
        start_step = record.step
        started = time.monotonic() - record.elapsed
        last_progress = 0.0
        rates = RateWindow(time.monotonic(), record.step, record.samples_seen)
        stop_after = self.options.stop_after_step
        team = self.team
        status = "completed"
        loss = math.nan
        self.cancel.defer()
        if record.step == 0 and getattr(model, "starts_trained", False):
            self._validate()  # the starting weights are the best so far until training beats them
        batches = model.batches(record.step)
        try:
            while record.step < budget.max_steps and not budget.time_is_up(record.elapsed):
                clock = Clock(record.step, budget.max_steps, budget.fraction(record.step, record.elapsed))
                try:
                    batch = next(batches)
                except Cancelled:  # a family whose training runs in a child process saw it stopped by the cancel
                    status = "cancelled"
                    break
                team.probe.step(record.step + 1, batch)
                loss, samples = model.train_step(batch, clock)
                record.step += 1
                record.samples_seen += samples * team.size
                now = time.monotonic()
                # Every rank stops at the same step, and all follow the slowest rank's clock.
                wants_stop = (
                    self.cancel.requested or (stop_after is not None and record.step >= stop_after) or team.probe.wants_stop(record.step)
                )
                stop, record.elapsed = team.agree(wants_stop, now - started)
                if not math.isfinite(loss):
                    self.events.emit(
                        "warning",
                        code="non_finite_loss",
                        message=f"loss was {loss} at step {record.step}",
                        fix="Lower training.learning_rate.",
                    )
                evaluate = record.step % plan.eval_every == 0 and record.step < budget.max_steps
                # Also at an evaluation, so that the progress it was reached with is reported with it.
                if evaluate or now - last_progress >= PROGRESS_EVERY_SECONDS or record.step in (budget.max_steps, start_step + 1):
                    last_progress = now
                    rates.add(now, record.step, record.samples_seen)
                    self._progress(loss, rates)
                if evaluate:
                    self._validate()
                if stop:
                    status = "cancelled"
                    break
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()  # stops data workers now, not at garbage collection
        team.training_ended()
        if status == "cancelled":
            self._save("last", team.gather(rng_state()))
            self.log.info(f"{self.cancel.signal_name or 'stop'} received: checkpoint written at step {record.step}")
            return status
        if self.reported_at != record.step and math.isfinite(loss):  # the time budget ran out between two reports
            rates.add(time.monotonic(), record.step, record.samples_seen)
            self._progress(loss, rates)
        if budget.time_is_up(record.elapsed):
            self.log.write_progress_now()
            self.log.info(f"time budget of {(budget.max_seconds or 0) / 60:g} min reached at step {record.step}")
        if self.evaluated_at != record.step:
            self._validate()
        if team.is_main:
            model.use_best()
            self._test()
            model.finish()
        return status

    def _progress(self, loss: float, rates: RateWindow) -> None:
        assert self.model is not None
        if not self.team.is_main:
            return
        self.reported_at = self.record.step
        samples_rate, steps_rate = rates.rates()
        forecast = self.budget.forecast(self.record.step, self.record.elapsed, steps_rate)
        plan = self.model.plan
        epoch = self.record.samples_seen / plan.train_size if plan.train_size else self.record.step / plan.eval_every
        lr = self.model.learning_rate
        eta = None if forecast.eta_seconds is None else round(forecast.eta_seconds, 1)
        self.events.emit(
            "progress",
            step=self.record.step,
            total_steps=self.budget.max_steps,
            epoch=round(epoch, 4),
            loss=loss,
            lr=lr,
            samples_per_sec=round(samples_rate, 2),
            eta_seconds=eta,
            elapsed_seconds=round(self.record.elapsed, 2),
            fraction=round(forecast.fraction, 4),
            budget=forecast.binding,
        )
        self.log.progress(Progress(self.record.step, self.budget.max_steps, loss, samples_rate, eta, forecast.fraction, forecast.binding))
        if self.scalars is not None:
            self.scalars.add({"train/loss": loss, "train/lr": lr, "train/samples_per_sec": samples_rate}, self.record.step)

    # ---- evaluation and checkpoints ------------------------------------------------------
    def _validate(self) -> None:
        """Evaluate, log, write last (and best when improved) checkpoints and metrics.json (on rank 0)."""
        assert self.model is not None
        rank_rng = self.team.gather(rng_state())  # every rank's random state, for an exact resume
        self.evaluated_at = self.record.step
        if not self.team.is_main:
            return
        self.log.write_progress_now()
        evaluation = self.model.evaluate("val")
        if evaluation is not None:
            metrics = evaluation.metrics
            improved = self.record.validated(metrics)
            self._report(evaluation, "val", self.record.step, is_best=improved)
            self.log.info(
                f"step {self.record.step}: val exact match {metrics.get('exact_match', 0.0):.2%}"
                + (f", CER {metrics['cer']:.4f}" if "cer" in metrics else "")
                + (" (best so far)" if improved else "")
            )
            if improved:
                self.model.remember_best()
                self._save("best", rank_rng)
        elif self.record.best_step != self.record.step:  # no validation set: the latest model is the best we know
            self.record.best_step = self.record.step
            self.model.remember_best()
            self._save("best", rank_rng)
        self._save("last", rank_rng)
        self._write_metrics("running")

    def _test(self) -> None:
        assert self.model is not None
        evaluation = self.model.evaluate("test")
        if evaluation is None:
            return
        step = self.record.best_step or self.record.step
        self._report(evaluation, "test", step)
        self.record.test_metrics = evaluation.metrics
        self.log.info(f"test exact match {evaluation.metrics.get('exact_match', 0.0):.2%} (best checkpoint, step {step})")

    def _report(self, evaluation: Evaluation, split: str, step: int, is_best: Optional[bool] = None) -> None:
        fields: dict[str, Any] = {"step": step, "split": split, "size": evaluation.size, "metrics": evaluation.metrics}
        if is_best is not None:
            fields["is_best"] = is_best
        self.events.emit("eval", **fields)
        if evaluation.samples:
            self.events.emit("samples", step=step, split=split, items=evaluation.samples)
        if self.scalars is not None:
            self.scalars.add({f"{split}/{k}": v for k, v in evaluation.metrics.items() if not k.startswith("pos_")}, self.record.step)

    def _save(self, kind: str, rank_rng: Optional[list[dict[str, Any]]]) -> None:
        """Rank 0 writes checkpoint ``kind``, with the world size and every rank's random state."""
        assert self.model is not None
        assert self.config is not None
        if not self.team.is_main:
            return
        state = {"run_id": self.events.run_id, "config": self.config.to_dict(), "world_size": self.team.size, **self.record.state(rank_rng)}
        path = self.model.save(kind, state)
        self.events.emit("checkpoint", path=str(path), kind=kind, step=self.record.step, metrics=self.record.last_metrics)

    # ---- the end -----------------------------------------------------------------------
    def _checkpoint(self, kind: str) -> Optional[str]:
        if self.model is None:
            return None
        path = self.model.checkpoint_path(kind)
        return str(path) if path.exists() else None

    def _write_metrics(self, status: str, error: Optional[TrainerError] = None) -> None:
        """``metrics.json`` (the runs view reads ``val`` and ``test``) and the flat ``--metrics-file``."""
        if self.run_dir is None:
            return
        facts = self.model.facts if self.model else None
        summary = {
            "run_id": self.events.run_id,
            "status": status,
            "step": self.record.step,
            "best_step": self.record.best_step,
            "best_checkpoint": self._checkpoint("best"),
            "last_checkpoint": self._checkpoint("last"),
            "elapsed_seconds": round(self.record.elapsed, 2),
            "samples_seen": self.record.samples_seen,
            "device": facts.device if facts else None,
            "dtype": facts.dtype if facts else None,
            "attention": facts.attention if facts else None,
            "val": self.record.metrics,
            "test": self.record.test_metrics,
            "error": self.team.error_event(error),
        }
        write_json(self.run_dir / "metrics.json", summary)
        if self.options.metrics_file:
            flat = {**prefixed(self.record.best_metrics, "val"), **prefixed(self.record.test_metrics, "test")}
            write_json(Path(self.options.metrics_file), flat)

    def _finish(self, status: str, error: Optional[TrainerError]) -> None:
        try:
            self._write_metrics(status, error)
        except (OSError, ValueError) as failure:
            self.log.info(f"could not write metrics.json: {failure}")
        best = self._checkpoint("best")
        self.events.emit(
            "run_finished",
            status=status,
            step=self.record.step,
            best_checkpoint=best,
            last_checkpoint=self._checkpoint("last"),
            metrics=self.record.metrics,
            elapsed_seconds=round(time.monotonic() - self.started, 2),
            error=self.team.error_event(error),
        )
        self.team.report_end(status, error, self.cause)
        self.team.close(failed=status == "failed")
        if status == "completed" and self.model is not None and self.team.is_main:
            self._print_summary(best)
        if self.model is not None:
            self.model.close()
        if self.scalars is not None:
            self.scalars.close()
        self.events.close()
        self.log.close()

    def _print_summary(self, best: Optional[str]) -> None:
        metrics = self.record.best_metrics
        if metrics:
            parts = [f"held-out exact match {metrics.get('exact_match', 0.0):.2%}"]
            # Every metric a family measured (PaddleOCR's own evaluations have exact match and NED only).
            shown = (("cer", "CER", ".4f"), ("char_f1", "char F1", ".4f"), ("exact_match_check_digit", "check-digit decoding", ".2%"))
            for key, label, form in shown:
                if key in metrics:
                    parts.append(f"{label} {format(metrics[key], form)}")
            self.log.info(" · ".join(parts) + f" (step {self.record.best_step})")
        test = self.record.test_metrics
        if test:
            self.log.info(f"test exact match {test.get('exact_match', 0.0):.2%} · CER {test.get('cer', 0.0):.4f}")
        self.log.info(f"model saved to {best}")


__all__ = ["EXIT_CANCELLED", "EXIT_COMPLETED", "EXIT_FAILED", "Harness", "RunOptions", "provisional_run_id", "read_run_config", "train"]
