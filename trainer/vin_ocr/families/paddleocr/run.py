"""A PaddleOCR fine-tune driven by the run harness: ``tools/train.py`` runs in the user's clone as a child
process, and each line it logs for a step is one step of the harness's loop.

PaddleOCR owns its loop, so the family follows it instead of stepping a model itself:

* the plan is whole epochs (PaddleOCR saves ``latest`` at each epoch's end), rounded up from ``max_steps``;
* its evaluations (every ``eval_every`` steps, ``Global.eval_batch_step``) are the run's validations, so the
  best checkpoint is chosen by the same measure PaddleOCR keeps ``best_accuracy`` by (exact match);
* at the end the best weights are exported (``tools/export_model.py``) into ``<run>/inference`` and the test
  split, and a final validation PaddleOCR did not make, are read with ``paddleocr`` and scored with our VIN
  metrics;
* cancel stops the child with the run (one process group); ``last`` is PaddleOCR's ``latest``, so a resume
  continues from the last epoch's end (``Global.checkpoints``), which the log says.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import IO, Any, Iterator, Optional

from ...errors import CHECKPOINT_INVALID, PADDLEOCR_FAILED, TrainerError
from ..protocol import CheckpointRef, Clock, Evaluation, Plan, RunContext, RunFacts, StepResult
from .config import pdparams_file, settings_of
from .dataset import PaddleData, write_dataset
from .environment import check_clone, paddle_python
from .failures import classify_failure
from .log_lines import EvalLine, Record, SaveLine, StepLine, eval_metrics, parse
from .model_files import (
    BEST_WEIGHTS,
    INFERENCE,
    OUTPUT,
    WORK,
    checkpoint_file,
    export_inference,
    paddle_env,
    write_checkpoint,
)

TAIL_LINES = 40  # of tools/train.py's output, quoted when it fails
STOP_GRACE_SECONDS = 10.0


class PaddleRun:
    def __init__(self, context: RunContext) -> None:
        import yaml

        self.context = context
        config = context.config
        self.settings = settings = settings_of(config)
        self.repo = Path(str(settings.repo))
        check_clone(self.repo, Path(settings.base_config))
        if settings.pretrained_model and not pdparams_file(settings.pretrained_model).is_file():
            raise TrainerError(
                CHECKPOINT_INVALID,
                f"paddleocr.pretrained_model: {pdparams_file(settings.pretrained_model)} does not exist.",
                "Give the path of a .pdparams file (e.g. PP-OCRv5_mobile_rec_pretrained.pdparams), or remove the key.",
            )
        self.python = paddle_python()
        self.device = "cpu" if context.device == "mps" else context.device  # PaddlePaddle has no MPS backend
        self.work = context.run_dir / WORK
        self.output = self.work / OUTPUT
        self.data: PaddleData = write_dataset(config, self.work / "data", settings.synthetic_train_size)
        for warning in self.data.warnings:
            context.notice("warning", code="dataset_warning", message=warning, fix=None)
        base = yaml.safe_load(Path(settings.base_config).read_text(encoding="utf-8"))
        from .command import derived_config, steps_per_epoch

        training = config.training
        self.trained_config = self.work / "train_config.yml"
        self.trained_config.write_text(
            yaml.safe_dump(derived_config(base, settings, training.batch_size), sort_keys=False), encoding="utf-8"
        )
        per_epoch = steps_per_epoch(base, self.data.train_size, training.batch_size)
        self.epochs = max(1, math.ceil(training.max_steps / per_epoch))
        if self.epochs * per_epoch != training.max_steps:
            context.log.info(
                f"PaddleOCR trains whole epochs of {per_epoch} steps: {training.max_steps} steps become {self.epochs * per_epoch}"
            )
        self.plan = Plan(self.epochs * per_epoch, training.eval_every, self.data.train_size)
        self.facts = RunFacts(
            device=self.device,
            device_name="CUDA GPU (PaddlePaddle)" if self.device == "cuda" else "CPU (PaddlePaddle)",
            dtype="fp32",
            attention="eager",  # not a transformers model: no attention choice applies
            parameters=0,  # PaddleOCR does not report it
        )
        self.resume_from: Optional[str] = None
        self.process: Optional[subprocess.Popen[str]] = None
        self.records: Optional[Iterator[Record]] = None
        self.log_file: Optional[IO[str]] = None
        self.tail: list[str] = []
        self.last_step: Optional[StepLine] = None
        self.saved_steps: dict[str, int] = {}  # PaddleOCR prefix name (latest, best_accuracy) -> step it was written at
        self.evaluated: Optional[tuple[int, str]] = None  # (step, weights prefix) behind the latest evaluation
        self.exported: Optional[tuple[Path, float]] = None  # the weights <run>/inference was exported from

    # ---- the child process -------------------------------------------------------------
    def _command(self) -> list[str]:
        from .command import train_command, training_overrides

        training = self.context.config.training
        workers = training.num_workers
        overrides = training_overrides(
            self.settings,
            self.data,
            self.output,
            epochs=self.epochs,
            batch_size=training.batch_size,
            eval_every=training.eval_every,
            learning_rate=training.learning_rate,
            seed=training.seed,
            use_gpu=self.device == "cuda",
            num_workers=0 if workers == "auto" else int(workers),
            resume_from=self.resume_from,
        )
        return train_command(self.python, self.trained_config, overrides)

    def _start(self) -> Iterator[Record]:
        command = self._command()
        self.log_file = open(self.work / "paddleocr.log", "a", encoding="utf-8")
        self.context.log.info("PaddleOCR: " + " ".join(command))
        env = paddle_env()
        # The child stays in this process group: cancelling the run (a signal to the group) stops it too.
        self.process = subprocess.Popen(
            command, cwd=self.repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1, env=env
        )
        return self._read(self.process)

    def _read(self, process: subprocess.Popen[str]) -> Iterator[Record]:
        assert process.stdout is not None and self.log_file is not None
        for line in process.stdout:
            self.log_file.write(line)
            self.tail = (self.tail + [line.rstrip()])[-TAIL_LINES:]
            record = parse(line)
            if isinstance(record, SaveLine):
                self._saved(record)
            if record is not None:
                yield record
        self.log_file.flush()
        process.wait()

    def _saved(self, record: SaveLine) -> None:
        name = Path(record.prefix).name
        if self.last_step is not None:
            self.saved_steps[name] = self.last_step.step

    def _next(self) -> Optional[Record]:
        """The next record PaddleOCR logs; None once it has exited (a failure raises)."""
        if self.records is None:
            return None
        record = next(self.records, None)
        if record is None:
            self._ended()
        return record

    def _ended(self) -> None:
        """The child has exited: a failure becomes a TrainerError; a signal (a cancel) is a cancel."""
        from ...training.signals import Cancelled

        process, self.records = self.process, None
        code = process.returncode if process is not None else 0
        if code == 0:
            return
        if code < 0 and -code in (signal.SIGINT, signal.SIGTERM) or code in (130, 143):
            raise Cancelled()
        raise classify_failure(code, self.tail, self.repo, self.python)

    def _stop(self) -> None:
        """Ends the child: it has usually finished; after a time budget it is stopped (its last save is kept)."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self.records = None

    # ---- FamilyRun ---------------------------------------------------------------------
    def batches(self, start_step: int) -> Iterator[Any]:
        self.records = self._start()
        while True:
            record = self._next()
            if record is None:
                reached = self.last_step.step if self.last_step else 0
                raise TrainerError(
                    PADDLEOCR_FAILED,
                    f"tools/train.py ended at step {reached}, before the planned {self.plan.max_steps}.",
                    f"See {self.work / 'paddleocr.log'}.",
                )
            if isinstance(record, StepLine):
                self.last_step = record
                yield record

    def train_step(self, batch: Any, clock: Clock) -> StepResult:
        step: StepLine = batch
        return StepResult(step.loss, step.samples or self.context.config.training.batch_size)

    @property
    def learning_rate(self) -> float:
        return self.last_step.values.get("lr", 0.0) if self.last_step else 0.0

    def _paddle_evaluation(self) -> Optional[dict[str, float]]:
        """Reads on to PaddleOCR's evaluation of the current step (it follows that step's line)."""
        current: Optional[dict[str, float]] = None
        while True:
            record = self._next()
            if record is None or isinstance(record, StepLine):
                return current  # (a step line cannot come before the evaluation it follows; the child ended)
            if isinstance(record, EvalLine):
                if not record.best:
                    current = eval_metrics(record.values)
                else:
                    return current

    def evaluate(self, split: str) -> Optional[Evaluation]:
        step = self.last_step.step if self.last_step else 0
        if split == "val":
            if self.data.val is None:
                return None
            if self.process is not None and self.process.poll() is None and step % self.plan.eval_every == 0:
                metrics = self._paddle_evaluation()
                if metrics is not None:
                    self.evaluated = (step, "best_accuracy")
                    return Evaluation(metrics, self.data.val_size)
            return self._final_validation(step)
        if split == "test" and self.data.test is not None:
            return self._read_split(self.data.test, self._export_best())
        return None

    def _final_validation(self, step: int) -> Optional[Evaluation]:
        """The run's last validation, at a step PaddleOCR did not evaluate: the newest saved weights, read by us."""
        self._drain()
        latest = self.output / "latest"
        if not pdparams_file(str(latest)).is_file():
            self.context.notice(
                "warning",
                code="nothing_saved",
                message=f"training stopped at step {step}, before PaddleOCR's first save (it saves at the end of each epoch of "
                f"{self.plan.max_steps // self.epochs} steps): no weights were kept",
                fix="Give the run more time, or shorten an epoch (fewer training images: paddleocr.synthetic_train_size).",
            )
            return None
        saved_at = self.saved_steps.get("latest", step)
        if saved_at != step:
            self.context.log.info(f"PaddleOCR saves at epoch ends: the final validation reads the weights of step {saved_at}")
        folder = self.work / "latest-inference"
        export_inference(self.python, self.repo, self.output, str(latest), folder, self.context.log.info)
        self.evaluated = (saved_at, "latest")
        assert self.data.val is not None
        return self._read_split(self.data.val, folder)

    def _drain(self) -> None:
        """Lets a finished child write its last lines (the epoch's save); stops one the time budget cut short."""
        process = self.process
        if process is None:
            return
        if self.last_step is not None and self.last_step.step >= self.plan.max_steps:
            while self._next() is not None:
                pass
        self._stop()

    def _read_split(self, labels: Path, model_dir: Path) -> Evaluation:
        from .reader import read_label_file

        metrics, size, samples = read_label_file(self.python, model_dir, labels)
        return Evaluation(metrics, size, samples)

    def checkpoint_path(self, kind: str) -> Path:
        return checkpoint_file(self.context.run_dir, kind)

    def save(self, kind: str, state: dict[str, Any]) -> Path:
        if kind == "best" and self.evaluated is None:
            return write_checkpoint(self.context.run_dir, kind, {**state, "weights": None})  # nothing was kept (warned)
        if kind == "best" and self.evaluated is not None:
            step, prefix = self.evaluated
            source = pdparams_file(str(self.output / prefix))
            target = self.context.run_dir / "checkpoints" / BEST_WEIGHTS
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(source, partial)  # PaddleOCR rewrites best_accuracy in place: keep our own copy
            os.replace(partial, target)
            return write_checkpoint(self.context.run_dir, kind, {**state, "weights": str(target), "weights_step": step})
        # A resume continues from PaddleOCR's latest save (an epoch's end), so that is the step this checkpoint holds.
        latest_step = self.saved_steps.get("latest", 0)
        resume: dict[str, Any] = {"paddle_checkpoint": str(self.output / "latest") if latest_step else None, "step": latest_step}
        resume["samples_seen"] = int(state.get("samples_seen", 0) * latest_step / state["step"]) if state.get("step") else 0
        return write_checkpoint(self.context.run_dir, kind, {**state, **resume, "trained_config": str(self.output / "config.yml")})

    def restore(self, checkpoint: CheckpointRef, state: dict[str, Any]) -> None:
        prefix = state.get("paddle_checkpoint")
        if prefix and pdparams_file(prefix).is_file():
            self.resume_from = prefix
            self.context.log.info(f"PaddleOCR resumes from {prefix} (the end of the epoch at step {state.get('step')})")
            self.saved_steps["latest"] = int(state.get("step") or 0)

    def remember_best(self) -> None:
        pass  # save("best") copies the weights the evaluation read

    def use_best(self) -> None:
        self._drain()  # a completed run's child is still writing its epoch-end save: let it finish

    def _export_best(self) -> Path:
        """``<run>/inference``: the best weights as an inference model (exported once per change of them)."""
        weights = self.context.run_dir / "checkpoints" / BEST_WEIGHTS
        folder = self.context.run_dir / INFERENCE
        stamp = (weights, weights.stat().st_mtime) if weights.is_file() else None
        if stamp is not None and stamp != self.exported:
            export_inference(self.python, self.repo, self.output, str(weights.with_suffix("")), folder, self.context.log.info)
            self.exported = stamp
        return folder

    def finish(self) -> None:
        if (self.context.run_dir / "checkpoints" / BEST_WEIGHTS).is_file():
            folder = self._export_best()
            self.context.log.info(f"inference model for paddleocr / Read VIN: {folder}")
            self._prune_copies_of_best()

    def _prune_copies_of_best(self) -> None:
        """A completed run keeps its best weights twice already (checkpoints/best.pdparams and the inference model), so
        PaddleOCR's own copies of them (best_accuracy.* with optimiser state, best_model/) and the export of ``latest``
        made for the final validation go: about half of the run folder (measured: 371 of 684 MB). ``latest.*`` stays."""
        freed = 0
        for path in [*self.output.glob("best_accuracy.*"), self.output / "best_model", self.work / "latest-inference"]:
            freed += _size(path)
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        if freed:
            kept = "checkpoints/ and inference/ keep them"
            self.context.log.info(f"removed PaddleOCR's copies of the best weights ({freed / 2**20:.0f} MB; {kept})")

    def close(self) -> None:
        self._stop()
        if self.log_file is not None:
            self.log_file.close()


def _size(path: Path) -> int:
    """Bytes under ``path`` (0 when it is gone)."""
    if path.is_dir():
        return sum(child.stat().st_size for child in path.rglob("*") if child.is_file())
    return path.stat().st_size if path.is_file() else 0
