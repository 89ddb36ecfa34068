"""``python -m vin_ocr.training.hf_finetune``: fine-tune LFM2.5-VL or DeepSeek-OCR on VIN images.

Keeps the existing vin_ocr project's flags (``--model-config/--model-id``, ``--train-labels``,
``--val-labels``, ``--test-labels``, ``--output-dir``, ``--batch-size``, ``--num-epochs``,
``--learning-rate``, ``--seed``, ``--prompt``, ``--max-new-tokens``, ``--fp16``,
``--trust-remote-code`` …) and also reads a training config (``--config FILE``, the file
"VIN OCR: Train" runs, with ``model.type: lfm2-vl``).

A run writes the same run directory and events as the baseline: ``run_started`` (with the
attention and dtype chosen and why), ``progress``, ``eval`` (VIN metrics of generated
answers), ``samples``, ``checkpoint`` (LoRA adapter folders), ``run_finished``. SIGINT/SIGTERM
finish the current step, save ``checkpoints/last`` and end as ``cancelled``; ``--resume RUN_DIR``
continues from there.
"""
from __future__ import annotations

import argparse
import io
import base64
import json
import math
import os
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any, Optional, Sequence

import yaml

from ..errors import CHECKPOINT_INVALID, INVALID_CONFIG, TrainerError, translate
from ..events import EventWriter, HumanLog, open_event_stream
from ..models.hf.settings import Settings, build_parser, resolve_settings
from .signals import CancelFlag, Cancelled

EXIT_COMPLETED, EXIT_FAILED, EXIT_CANCELLED = 0, 1, 130
PROGRESS_EVERY_SECONDS = 1.0
SAMPLE_ITEMS = 8


# ---- the run -------------------------------------------------------------------------------


class FineTuneRun:
    """One fine-tuning run: set up, train with periodic evaluation, finish, export."""

    def __init__(self, settings: Settings, run_dir: Path, events: EventWriter, log: HumanLog, cancel: CancelFlag) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.events = events
        self.log = log
        self.cancel = cancel
        self.step = 0
        self.samples_seen = 0
        self.elapsed = 0.0
        self.best_score: Optional[tuple[float, float]] = None
        self.best_step: Optional[int] = None
        self.best_metrics: dict[str, float] = {}
        self.last_metrics: dict[str, float] = {}
        self.test_metrics: dict[str, float] = {}
        # Warnings found while setting up wait for run_started, so a reader always sees the run first.
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self.tensorboard: Any = None

    def open_tensorboard(self) -> None:
        """TensorBoard scalars in the run directory, like the baseline's; a warning when tensorboard is missing."""
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            from ..errors import pip_command

            self._notice("warning", code="tensorboard_missing", message="tensorboard is not installed: no TensorBoard event files for this run.", fix=pip_command("tensorboard"))
            return
        self.tensorboard = SummaryWriter(log_dir=str(self.run_dir), flush_secs=10)

    def scalars(self, values: dict[str, Any]) -> None:
        if self.tensorboard is None:
            return
        for key, value in values.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                self.tensorboard.add_scalar(key, value, self.step)

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
            self.tensorboard = None

    def _notice(self, event: str, **fields: Any) -> None:
        self._pending.append((event, fields))

    # -- set-up
    def prepare(self, resume_from: Optional[Path]) -> None:
        import torch

        from ..hardware import probe
        from ..models.hf.collate import DEFAULT_PROMPT, Lfm2VlCollator
        from ..models.hf.data import load_examples
        from ..models.hf.deepseek import DeepSeekOcrCollator
        from ..models.hf.loading import download_notice, ensure_downloadable, load_processor, load_tokenizer, load_vlm
        from ..models.hf.lora import apply_lora, count_parameters
        from ..models.hf.policy import DEEPSEEK_OCR, choose_attention, choose_dtype, family_of, machine_from_probe
        from .device import choose_device

        s = self.settings
        random.seed(s.seed)
        torch.manual_seed(s.seed)
        self.family = s.model_type or family_of(s.model_id)
        device = choose_device(s.device)
        machine = machine_from_probe(device, probe())
        self.device = torch.device(device)
        try:
            attention = choose_attention(self.family, machine, s.attn_implementation)
            dtype = choose_dtype(machine, s.precision, s.fp16)
        except ValueError as error:
            raise TrainerError(INVALID_CONFIG, str(error), "Use one of the values listed.") from error
        if device == "cpu" and s.fp16 and dtype.value == "fp32":
            self._notice("warning", code="fp16_on_cpu", message=dtype.reason, fix="Drop --fp16 on the CPU.")

        base = Path(s.base_dir)
        self.train_examples = load_examples(s.train, base, s.on_bad_rows, s.max_train_samples, s.synthetic_size, seed=s.seed)
        self.val_examples = load_examples(s.val, base, s.on_bad_rows, s.max_eval_samples or 32, 32, seed=s.seed + 1_000_003) if s.val else []
        self.test_examples = load_examples(s.test, base, s.on_bad_rows, s.max_eval_samples, 32, seed=s.seed + 2_000_003) if s.test else []

        self.log.info(f"loading {s.model_id} ({attention.value}, {dtype.value}) …")
        notice = download_notice(s.model_id, s.model_revision)
        if notice:
            ensure_downloadable(s.model_id, s.model_revision)
            self._notice("log", level="info", message=notice)
            self.log.info(notice)
        if self.family == DEEPSEEK_OCR:  # no processor: a tokenizer and the model's own image format
            self.processor = load_tokenizer(s.model_id, s.trust_remote_code, s.model_revision)
        else:
            self.processor = load_processor(s.model_id, s.trust_remote_code, s.model_revision)
        loaded = load_vlm(s.model_id, self.family, attention.value, dtype.value, s.trust_remote_code, s.model_revision)
        for line in loaded.fallbacks:
            self._notice("warning", code="attention_fallback", message=f"Could not load with {line}", fix=None)
        self.attention = loaded.attention
        self.attention_reason = attention.reason if loaded.attention == attention.value else (
            f"{attention.value} failed to load ({'; '.join(loaded.fallbacks)}); fell back to {loaded.attention}"
        )
        self.dtype, self.dtype_reason = dtype.value, dtype.reason
        model = loaded.model.to(self.device)
        if s.gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.config.use_cache = False
        if s.finetune == "lora":
            if s.gradient_checkpointing:
                model.enable_input_require_grads()
            model = apply_lora(model, self.family, s.lora_rank)
        self.model = model
        if self.family == DEEPSEEK_OCR:
            self.collator: Any = DeepSeekOcrCollator(self.processor, s.image_mode, s.prompt, s.max_target_length)
        else:
            self.collator = Lfm2VlCollator(self.processor, s.prompt or DEFAULT_PROMPT, s.max_target_length)
        trainable = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=s.lr, weight_decay=0.0)
        self.trainable_parameters, self.parameters = count_parameters(model)

        updates_per_epoch = max(1, math.ceil(len(self.train_examples) / (s.batch_size * s.gradient_accumulation_steps)))
        self.total_steps = s.max_steps or max(1, math.ceil(updates_per_epoch * s.num_epochs))
        self.eval_every = s.eval_every or max(1, min(updates_per_epoch, self.total_steps))
        self.resumed_from = None
        if resume_from is not None:
            self.restore(resume_from)

    def restore(self, folder: Path) -> None:
        import torch

        from ..models.hf.checkpoint import load_adapter_weights, load_state

        state = load_state(folder)
        if self.settings.finetune == "lora":
            load_adapter_weights(self.model, folder)
        else:
            from safetensors.torch import load_file

            weights = folder / "model.safetensors"
            if not weights.is_file():
                raise TrainerError(CHECKPOINT_INVALID, f"{folder} has no model.safetensors.", "Resume a full fine-tuning run with --full-finetune.")
            result = self.model.load_state_dict(load_file(str(weights)), strict=False)
            # save_pretrained leaves out weights tied to others (lm_head = embeddings); anything else is a mismatch.
            untied = [key for key in result.missing_keys if key not in _tied_keys(self.model)]
            if result.unexpected_keys or untied:
                raise TrainerError(
                    CHECKPOINT_INVALID,
                    f"The weights in {folder} do not fit this model ({len(result.unexpected_keys)} unexpected, {len(untied)} missing).",
                    "Resume with the same model_id the run was started with.",
                )
        self.optimizer.load_state_dict(state["optimizer"])
        self.step = int(state["step"])
        self.samples_seen = int(state.get("samples_seen", 0))
        self.elapsed = float(state.get("elapsed", 0.0))
        best = state.get("best_score")
        self.best_score = tuple(best) if best else None  # type: ignore[assignment]
        self.best_step = state.get("best_step")
        self.best_metrics = dict(state.get("best_metrics") or {})
        if "torch_rng" in state:
            torch.set_rng_state(state["torch_rng"])
        self.resumed_from = str(folder)
        self.log.info(f"resumed from {folder} at step {self.step}")

    def started_event(self) -> None:
        import transformers

        self.events.emit(
            "run_started",
            run_dir=str(self.run_dir),
            config=_jsonable(asdict(self.settings)),
            device=self.device.type,
            device_name=_device_name(self.device),
            attention=self.attention,
            attention_reason=self.attention_reason,
            dtype=self.dtype,
            dtype_reason=self.dtype_reason,
            total_steps=self.total_steps,
            start_step=self.step,
            resumed_from=self.resumed_from,
            parameters=self.parameters,
            trainable_parameters=self.trainable_parameters,
            max_minutes=self.settings.max_minutes,
            model_id=self.settings.model_id,
            finetune=self.settings.finetune,
            transformers_version=transformers.__version__,
        )
        for event, fields in self._pending:
            self.events.emit(event, **fields)
        self._pending.clear()

    # -- training
    def train_step(self, batches: Sequence[dict[str, Any]]) -> float:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        total = 0.0
        from ..models.hf.generation import move_batch

        dtype = next(self.model.parameters()).dtype
        for batch in batches:
            inputs = move_batch(batch, self.device, dtype)
            loss = self.model(**inputs).loss / len(batches)
            loss.backward()
            total += float(loss.detach())
        import torch

        torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], 1.0)
        self.optimizer.step()
        self.step += 1
        return total

    def micro_batches(self) -> Any:
        """Shuffled per epoch, deterministically from the seed, so a resumed run sees the same order."""
        s = self.settings
        per_step = s.batch_size * s.gradient_accumulation_steps
        order: list[int] = []
        epoch = -1
        position = self.step * per_step
        while True:
            needed = position + per_step
            while len(order) < needed:
                epoch += 1
                indices = list(range(len(self.train_examples)))
                random.Random(s.seed * 1_000_003 + epoch).shuffle(indices)
                order.extend(indices)
            chosen = [self.train_examples[i] for i in order[position:needed]]
            position = needed
            yield [
                self.collator.training_batch([(e.image(), e.vin) for e in chosen[j : j + s.batch_size]])
                for j in range(0, len(chosen), s.batch_size)
            ]

    def run(self, stop_after_step: Optional[int] = None) -> str:
        s = self.settings
        started = time.monotonic() - self.elapsed
        last_progress = 0.0
        status = "completed"
        batches = self.micro_batches()
        self.cancel.defer()
        max_seconds = s.max_minutes * 60 if s.max_minutes else None
        while self.step < self.total_steps:
            if max_seconds is not None and self.elapsed >= max_seconds:
                self.log.info(f"time budget of {s.max_minutes:g} min reached at step {self.step}")
                break
            step_started = time.monotonic()
            loss = self.train_step(next(batches))
            self.samples_seen += s.batch_size * s.gradient_accumulation_steps
            now = time.monotonic()
            self.elapsed = now - started
            rate = s.batch_size * s.gradient_accumulation_steps / max(now - step_started, 1e-9)
            if now - last_progress >= PROGRESS_EVERY_SECONDS or self.step in (1, self.total_steps):
                last_progress = now
                self.progress(loss, rate)
            if self.step % self.eval_every == 0 and self.step < self.total_steps:
                self.validate()
            if self.cancel.requested or (stop_after_step is not None and self.step >= stop_after_step):
                status = "cancelled"
                break
        if status == "cancelled":
            self.log.info(f"{self.cancel.signal_name or 'stop'} received: checkpoint written at step {self.step}")
            self.save("last", self.last_metrics)
            return status
        self.validate()
        if self.test_examples:
            self.test_metrics = self.evaluate(self.test_examples, "test")
        return status

    def progress(self, loss: float, rate: float) -> None:
        remaining = self.total_steps - self.step
        eta = remaining * self.settings.batch_size * self.settings.gradient_accumulation_steps / rate if rate > 0 else None
        epoch = self.samples_seen / max(1, len(self.train_examples))
        lr = self.optimizer.param_groups[0]["lr"]
        self.events.emit(
            "progress", step=self.step, total_steps=self.total_steps, epoch=round(epoch, 4), loss=loss, lr=lr,
            samples_per_sec=round(rate, 3), eta_seconds=None if eta is None else round(eta, 1),
            elapsed_seconds=round(self.elapsed, 2),
        )
        self.log.progress(self.step, self.total_steps, loss, rate, eta)
        self.scalars({"train/loss": loss, "train/lr": lr, "train/samples_per_sec": rate})

    # -- evaluation and checkpoints
    def evaluate(self, examples: Sequence[Any], split: str, emit_samples: bool = True) -> dict[str, float]:
        from ..metrics import vin_metrics
        from ..models.hf.generation import batched, generate_vins

        self.model.eval()
        predictions: list[str] = []
        images: list[Any] = []
        for chunk in batched(list(examples), self.settings.eval_batch_size):
            chunk_images = [e.image() for e in chunk]
            images.extend(chunk_images[: SAMPLE_ITEMS - len(images)] if len(images) < SAMPLE_ITEMS else [])
            predictions += generate_vins(self.model, self.collator, chunk_images, self.device, self.settings.max_new_tokens, self.settings.constrain_alphabet)
        truths = [e.vin for e in examples]
        metrics = vin_metrics(predictions, truths)
        self.events.emit("eval", step=self.step, split=split, size=len(truths), metrics=metrics,
                         is_best=split == "val" and self._improves(metrics))
        if emit_samples:
            items = [
                {"image": _thumbnail(image), "truth": truth, "prediction": prediction, "correct": truth == prediction}
                for image, truth, prediction in zip(images, truths, predictions)
            ]
            self.events.emit("samples", step=self.step, split=split, items=items)
        self.log.info(f"step {self.step}: {split} exact match {metrics['exact_match']:.2%}, CER {metrics['cer']:.4f}")
        self.scalars({f"{split}/{name}": value for name, value in metrics.items() if not name.startswith("pos_")})
        return metrics

    @staticmethod
    def _score(metrics: dict[str, float]) -> tuple[float, float]:
        return (metrics.get("exact_match") or 0.0, -(metrics.get("cer") if metrics.get("cer") is not None else 1.0))

    def _improves(self, metrics: dict[str, float]) -> bool:
        return self.best_score is None or self._score(metrics) > self.best_score

    def validate(self) -> None:
        if self.val_examples:
            metrics = self.evaluate(self.val_examples, "val")
            self.last_metrics = metrics
            if self._improves(metrics):
                self.best_score, self.best_step, self.best_metrics = self._score(metrics), self.step, metrics
                self.save("best", metrics)
        elif self.best_step != self.step:
            self.best_step = self.step
            self.save("best", {})
        self.save("last", self.last_metrics)

    def save(self, kind: str, metrics: dict[str, float]) -> Path:
        import torch

        from ..models.hf.checkpoint import save_checkpoint

        state = {
            "run_id": self.events.run_id,
            "step": self.step,
            "samples_seen": self.samples_seen,
            "elapsed": self.elapsed,
            "optimizer": self.optimizer.state_dict(),
            "best_score": list(self.best_score) if self.best_score else None,
            "best_step": self.best_step,
            "best_metrics": self.best_metrics,
            "metrics": metrics,
            "torch_rng": torch.get_rng_state(),
            "model_id": self.settings.model_id,
            "finetune": self.settings.finetune,
        }
        path = save_checkpoint(self.model, state, self.run_dir / "checkpoints" / kind)
        self.events.emit("checkpoint", path=str(path), kind=kind, step=self.step, metrics=metrics)
        return path

    # -- after training
    def export(self) -> None:
        from ..models.hf.export import export_merged, export_onnx

        s = self.settings
        if not (s.export_merged or s.export_onnx):
            return
        best = self.run_dir / "checkpoints" / "best"
        if s.finetune == "lora" and best.is_dir():
            from ..models.hf.checkpoint import load_adapter_weights

            load_adapter_weights(self.model, best)
        merged = export_merged(self.model, self.processor, self.run_dir / "export" / "merged")
        self.log.info(f"merged weights written to {merged}")
        if s.export_onnx:
            result = export_onnx(merged, Path(s.onnx_output) if s.onnx_output else self.run_dir / "export" / "onnx", s.onnx_task)
            if result.ok:
                self.log.info(f"ONNX written to {result.path}")
            else:
                self.events.emit("warning", code="onnx_export_unsupported", message=result.message, fix=result.fix)


def _tied_keys(model: Any) -> set[str]:
    tied = getattr(model, "_tied_weights_keys", None) or {}
    return set(tied.keys() if isinstance(tied, dict) else tied)


def _thumbnail(image: Any) -> str:
    copy = image.convert("L")
    copy.thumbnail((192, 48))
    buffer = io.BytesIO()
    copy.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _device_name(device: Any) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({os.cpu_count() or 1} cores)"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# ---- entry ---------------------------------------------------------------------------------


def _run_dir(settings: Settings, resume: Optional[str]) -> tuple[Path, str, Optional[Path]]:
    """(run directory, run id, checkpoint folder to resume from)."""
    from ..models.hf.checkpoint import find_checkpoint
    from .loop import new_run_id

    if resume:
        target = Path(resume).resolve()
        if (target / "trainer_state.pt").is_file():  # a checkpoint folder inside <run>/checkpoints/
            return target.parent.parent, target.parent.parent.name, target
        checkpoint = find_checkpoint(target)
        if checkpoint is None:
            raise TrainerError(CHECKPOINT_INVALID, f"No fine-tuning checkpoint in {target}.", "Pass a run directory that reached its first checkpoint.")
        return target, target.name, checkpoint
    output = Path(settings.output_dir)
    if not output.is_absolute():
        output = Path(settings.base_dir) / output
    output.mkdir(parents=True, exist_ok=True)
    from ..models.hf.policy import family_of

    family = settings.model_type or family_of(settings.model_id)
    run_id = new_run_id(output, family)
    return output / run_id, run_id, None


def main(argv: Optional[Sequence[str]] = None, events_stream: Optional[IO[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    log = HumanLog()
    cancel = CancelFlag().install()
    extra, owned = (events_stream, False) if events_stream is not None else open_event_stream(args.events)
    events = EventWriter("setup", extra)
    run: Optional[FineTuneRun] = None
    started = time.monotonic()
    try:
        settings = resolve_settings(args)
        if not args.resume:
            fallback_code = _train_fallback_if_needed(settings, events, extra)
            if fallback_code is not None:
                return fallback_code
        run_dir, run_id, resume_from = _run_dir(settings, args.resume)
        run_dir.mkdir(parents=True, exist_ok=True)
        events.run_id = run_id
        events.attach_file(run_dir / "events.jsonl")
        log.attach_file(run_dir / "train.log")
        # The resolved settings, like the baseline's config.yaml: what this run really used.
        (run_dir / "config.yaml").write_text(yaml.safe_dump(_jsonable(asdict(settings)), sort_keys=False), encoding="utf-8")
        run = FineTuneRun(settings, run_dir, events, log, cancel)
        run.open_tensorboard()
        run.prepare(resume_from)
        run.started_event()
        status = run.run(args.stop_after_step)
        if status == "completed":
            run.export()
            _write_metrics(run, settings, status)
        best = run_dir / "checkpoints" / "best"
        last = run_dir / "checkpoints" / "last"
        events.emit(
            "run_finished", status=status, step=run.step,
            best_checkpoint=str(best) if best.is_dir() else None, last_checkpoint=str(last) if last.is_dir() else None,
            metrics=run.best_metrics or run.last_metrics, elapsed_seconds=round(time.monotonic() - started, 2), error=None,
        )
        return EXIT_COMPLETED if status == "completed" else EXIT_CANCELLED
    except Cancelled:
        events.emit("run_finished", status="cancelled", step=run.step if run else 0, best_checkpoint=None,
                    last_checkpoint=None, error=None, elapsed_seconds=round(time.monotonic() - started, 2))
        return EXIT_CANCELLED
    except Exception as error:  # every failure ends as a failed run with a code, never a bare traceback
        import traceback

        problem = translate(error, device="cpu", batch_size=run.settings.batch_size if run else 0)
        log.info(traceback.format_exc())
        log.info(str(problem))
        events.emit("run_finished", status="failed", step=run.step if run else 0, best_checkpoint=None,
                    last_checkpoint=None, error=problem.to_event(), elapsed_seconds=round(time.monotonic() - started, 2))
        return EXIT_FAILED
    finally:
        if run is not None:
            run.close()
        cancel.restore()
        events.close()
        log.close()
        if owned and extra is not None:
            extra.close()


def _train_fallback_if_needed(settings: Settings, events: EventWriter, stream: Optional[IO[str]]) -> Optional[int]:
    """With ``fallback.enabled``, a model that cannot run here hands over to the baseline (exit code of that run)."""
    fallback = settings.fallback if isinstance(settings.fallback, dict) else {}
    if not fallback.get("enabled") or fallback.get("type", "baseline") != "baseline":
        return None
    from ..hardware import probe
    from ..models.hf.fallback import baseline_config, fallback_reason, machine_memory, transformers_version
    from ..models.hf.policy import family_of

    facts = probe()
    family = settings.model_type or family_of(settings.model_id)
    device = settings.device if settings.device != "auto" else ("cuda" if facts.get("cuda_available") else "mps" if facts.get("mps_available") else "cpu")
    gpus = facts.get("cuda_devices") or []
    vram = int(gpus[0]["vram_mib"]) * 2**20 if device == "cuda" and gpus else None
    reason = fallback_reason(family, device, machine_memory(), vram, transformers_version())
    if reason is None:
        return None
    from .loop import RunOptions
    from .session import train

    events.run_id = "fallback"
    events.emit(
        "warning",
        code="model_fallback",
        message=f"{settings.model_id} cannot be fine-tuned here: {reason}. Training the baseline model instead (fallback.type: baseline).",
        fix=str(fallback.get("reason") or "Run on a machine that meets the model's minimum (VIN OCR: Show Hardware lists them), or set fallback.enabled: false to get an error instead."),
    )
    config = baseline_config(settings)
    output = Path(config["output_dir"])
    output.mkdir(parents=True, exist_ok=True)
    path = output / "fallback-baseline.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return train(str(path), RunOptions(events=stream))


def _write_metrics(run: FineTuneRun, settings: Settings, status: str) -> None:
    """``metrics.json`` in the baseline's shape (the runs view reads ``val`` and ``test``); ``--metrics-file``
    in the existing project's flat ``val_*``/``test_*`` shape."""
    from ..metrics import prefixed

    best, last = run.run_dir / "checkpoints" / "best", run.run_dir / "checkpoints" / "last"
    summary = {
        "run_id": run.events.run_id,
        "status": status,
        "step": run.step,
        "best_step": run.best_step,
        "best_checkpoint": str(best) if best.is_dir() else None,
        "last_checkpoint": str(last) if last.is_dir() else None,
        "elapsed_seconds": round(run.elapsed, 2),
        "samples_seen": run.samples_seen,
        "device": run.device.type,
        "dtype": run.dtype,
        "attention": run.attention,
        "val": run.best_metrics,
        "test": run.test_metrics,
    }
    (run.run_dir / "metrics.json").write_text(json.dumps(_jsonable(summary), indent=2), encoding="utf-8")
    if settings.metrics_file:
        flat: dict[str, Any] = {**prefixed(run.best_metrics, "val"), **prefixed(run.test_metrics, "test")}
        Path(settings.metrics_file).write_text(json.dumps(flat, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())


# ---- `python -m vin_ocr train CONFIG` with a vision-language model -------------------------

VLM_TYPES = ("lfm2-vl", "deepseek-ocr")


def is_vlm_config(path: str) -> bool:
    """True when the training config's model.type is a vision-language model (this trainer's job).

    Unreadable files answer False so that the baseline trainer reports the problem as usual.
    """

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    model = raw.get("model") if isinstance(raw, dict) else None
    return isinstance(model, dict) and model.get("type") in VLM_TYPES


def train_from_cli(args: argparse.Namespace, events_stream: Optional[IO[str]]) -> int:
    """Runs ``python -m vin_ocr train``'s arguments (config, --output-dir, --max-steps, …) through here."""
    argv = ["--config", args.config]
    for flag, value in (("--output-dir", args.output_dir), ("--max-steps", args.max_steps),
                        ("--max-minutes", args.max_minutes), ("--resume", args.resume), ("--device", args.device)):
        if value is not None:
            argv += [flag, str(value)]
    return main(argv, events_stream=events_stream)
