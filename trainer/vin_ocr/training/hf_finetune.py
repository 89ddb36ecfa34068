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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Optional, Sequence

from ..errors import CHECKPOINT_INVALID, INVALID_CONFIG, TrainerError, translate
from ..events import EventWriter, HumanLog, open_event_stream
from .signals import CancelFlag, Cancelled

EXIT_COMPLETED, EXIT_FAILED, EXIT_CANCELLED = 0, 1, 130
PROGRESS_EVERY_SECONDS = 1.0
SAMPLE_ITEMS = 8


@dataclass
class Settings:
    """Everything a run needs, resolved from flags, the training config and the model profile."""

    model_id: str = "LiquidAI/LFM2.5-VL-1.6B"
    model_type: Optional[str] = None  # lfm2-vl | deepseek-ocr; None: from the model id
    model_revision: Optional[str] = None
    trust_remote_code: bool = False
    attn_implementation: str = "auto"
    prompt: Optional[str] = None
    image_mode: str = "base"  # DeepSeek-OCR only
    train: str = "synthetic"
    val: Optional[str] = "synthetic"
    test: Optional[str] = None
    on_bad_rows: str = "fail"
    base_dir: str = "."
    output_dir: str = "runs"
    metrics_file: Optional[str] = None
    max_train_samples: Optional[int] = None
    max_eval_samples: Optional[int] = None
    synthetic_size: int = 256
    batch_size: int = 2
    eval_batch_size: int = 8
    num_epochs: float = 1.0
    max_steps: Optional[int] = None
    max_minutes: Optional[float] = None
    learning_rate: Optional[float] = None  # None: 2e-4 for LoRA (the recipes), 5e-5 for full fine-tuning
    gradient_accumulation_steps: int = 1
    gradient_checkpointing: bool = False
    eval_every: Optional[int] = None
    seed: int = 42
    device: str = "auto"
    precision: str = "auto"
    fp16: bool = False
    finetune: str = "lora"  # lora | full
    lora_rank: Optional[int] = None
    max_target_length: int = 32
    max_new_tokens: int = 32
    constrain_alphabet: bool = True
    export_merged: bool = True
    export_onnx: bool = False
    onnx_task: str = "image-to-text"
    onnx_output: Optional[str] = None
    fallback: dict[str, Any] = field(default_factory=dict)

    @property
    def lr(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return 2e-4 if self.finetune == "lora" else 5e-5


# ---- settings from the command line and files --------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vin_ocr.training.hf_finetune", description=__doc__.splitlines()[0])
    p.add_argument("--config", help="training config YAML (model.type: lfm2-vl | deepseek-ocr)")
    p.add_argument("--model-config", help="model profile YAML (model_id, training.prompt, attn_implementation, fallback …)")
    p.add_argument("--model-id", help="Hugging Face model id or a local model folder")
    p.add_argument("--model-revision")
    p.add_argument("--model-type", choices=["lfm2-vl", "deepseek-ocr"], help="model family (default: from the model id)")
    p.add_argument("--trust-remote-code", action="store_true", default=None)
    p.add_argument("--attn-implementation", choices=["auto", "flash_attention_2", "sdpa", "eager"])
    p.add_argument("--train-labels")
    p.add_argument("--val-labels")
    p.add_argument("--test-labels")
    p.add_argument("--output-dir")
    p.add_argument("--metrics-file")
    p.add_argument("--max-train-samples", type=int)
    p.add_argument("--max-eval-samples", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--eval-batch-size", type=int)
    p.add_argument("--num-epochs", type=float)
    p.add_argument("--max-steps", type=int)
    p.add_argument("--max-minutes", type=float)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--gradient-accumulation-steps", type=int)
    p.add_argument("--gradient-checkpointing", action="store_true", default=None)
    p.add_argument("--eval-every", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--prompt")
    p.add_argument("--image-mode", choices=["tiny", "small", "base", "large", "gundam"], help="DeepSeek-OCR resolution mode")
    p.add_argument("--max-target-length", type=int)
    p.add_argument("--max-new-tokens", type=int)
    p.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"])
    p.add_argument("--precision", choices=["auto", "bf16", "fp16", "fp32"])
    p.add_argument("--fp16", action="store_true", default=None, help="train in fp16 (same as --precision fp16)")
    p.add_argument("--full-finetune", action="store_true", default=None, help="train every weight instead of a LoRA adapter")
    p.add_argument("--lora-rank", type=int)
    p.add_argument("--no-constrain", dest="constrain_alphabet", action="store_false", default=None, help="generate without the VIN-alphabet constraint")
    p.add_argument("--export-onnx", action="store_true", default=None)
    p.add_argument("--onnx-task")
    p.add_argument("--onnx-output")
    p.add_argument("--no-export", dest="export_merged", action="store_false", default=None, help="skip writing merged weights at the end")
    p.add_argument("--resume", help="run directory (or its checkpoint folder) to continue")
    p.add_argument("--events", help="also write events here ('-' for stdout)")
    p.add_argument("--stop-after-step", type=int, help=argparse.SUPPRESS)  # tests: behave as if cancelled after this step
    return p


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise TrainerError(INVALID_CONFIG, f"{path} does not exist.", "Check the path.") from error
    except yaml.YAMLError as error:
        raise TrainerError(INVALID_CONFIG, f"{path} is not valid YAML: {error}", "Fix the YAML syntax.") from error
    if not isinstance(loaded, dict):
        raise TrainerError(INVALID_CONFIG, f"{path} must hold a mapping at the top level.", "See examples/*.yaml.")
    return loaded


def _section(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise TrainerError(INVALID_CONFIG, f"'{key}' must be a mapping.", "See examples/*.yaml.")
    return value


def settings_from_training_config(path: Path, settings: Settings) -> None:
    raw = _read_yaml(path)
    model, data, training = _section(raw, "model"), _section(raw, "data"), _section(raw, "training")
    settings.base_dir = str(path.parent.resolve())
    model_type = model.get("type", "lfm2-vl")
    if model_type not in ("lfm2-vl", "deepseek-ocr"):
        raise TrainerError(INVALID_CONFIG, f"model.type '{model_type}' is not a vision-language model.", "Use `python -m vin_ocr train` for the baseline.")
    settings.model_type = model_type
    _apply(settings, model, {
        "model_id": "model_id", "revision": "model_revision", "trust_remote_code": "trust_remote_code",
        "attn_implementation": "attn_implementation", "prompt": "prompt", "image_mode": "image_mode",
        "finetune": "finetune", "lora_rank": "lora_rank", "max_new_tokens": "max_new_tokens",
        "max_target_length": "max_target_length", "constrain_alphabet": "constrain_alphabet",
        "export_onnx": "export_onnx", "onnx_output": "onnx_output", "export_merged": "export_merged",
        "fallback": "fallback",
    })
    _apply(settings, data, {"train": "train", "on_bad_rows": "on_bad_rows"})
    for split in ("val", "test"):  # an explicit null means "no such split", unlike a missing key
        if split in data:
            setattr(settings, split, data[split])
    synthetic = data.get("synthetic") or {}
    if isinstance(synthetic, dict) and "val_size" in synthetic:
        settings.max_eval_samples = settings.max_eval_samples or int(synthetic["val_size"])
    _apply(settings, training, {
        "max_steps": "max_steps", "max_minutes": "max_minutes", "batch_size": "batch_size",
        "learning_rate": "learning_rate", "seed": "seed", "eval_every": "eval_every", "device": "device",
        "precision": "precision", "num_epochs": "num_epochs", "gradient_accumulation_steps": "gradient_accumulation_steps",
        "gradient_checkpointing": "gradient_checkpointing", "eval_batch_size": "eval_batch_size",
        "max_train_samples": "max_train_samples", "max_eval_samples": "max_eval_samples",
    })
    if raw.get("output_dir"):
        settings.output_dir = str((path.parent / str(raw["output_dir"])).resolve())


def settings_from_model_profile(path: Path, settings: Settings) -> None:
    """The existing project's model profile: model_id at the top, training.* and fallback."""
    raw = _read_yaml(path)
    _apply(settings, raw, {"model_id": "model_id", "fallback": "fallback"})
    _apply(settings, _section(raw, "training"), {
        "trust_remote_code": "trust_remote_code", "prompt": "prompt", "max_new_tokens": "max_new_tokens",
        "attn_implementation": "attn_implementation",
    })


def _apply(settings: Settings, source: dict[str, Any], mapping: dict[str, str]) -> None:
    for key, attribute in mapping.items():
        if key in source and source[key] is not None:
            setattr(settings, attribute, source[key])


def resolve_settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if args.config:
        settings_from_training_config(Path(args.config), settings)
    if args.model_config:
        settings_from_model_profile(Path(args.model_config), settings)
    flags = {
        "model_id": args.model_id, "model_revision": args.model_revision, "model_type": args.model_type, "trust_remote_code": args.trust_remote_code,
        "attn_implementation": args.attn_implementation, "train": args.train_labels, "val": args.val_labels,
        "test": args.test_labels, "output_dir": args.output_dir, "metrics_file": args.metrics_file,
        "max_train_samples": args.max_train_samples, "max_eval_samples": args.max_eval_samples,
        "batch_size": args.batch_size, "eval_batch_size": args.eval_batch_size, "num_epochs": args.num_epochs,
        "max_steps": args.max_steps, "max_minutes": args.max_minutes, "learning_rate": args.learning_rate,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "gradient_checkpointing": args.gradient_checkpointing, "eval_every": args.eval_every, "seed": args.seed,
        "prompt": args.prompt, "image_mode": args.image_mode, "max_target_length": args.max_target_length,
        "max_new_tokens": args.max_new_tokens, "device": args.device, "precision": args.precision, "fp16": args.fp16,
        "lora_rank": args.lora_rank, "constrain_alphabet": args.constrain_alphabet, "export_onnx": args.export_onnx,
        "onnx_task": args.onnx_task, "onnx_output": args.onnx_output, "export_merged": args.export_merged,
    }
    for attribute, value in flags.items():
        if value is not None:
            setattr(settings, attribute, value)
    if args.full_finetune:
        settings.finetune = "full"
    if args.train_labels and not args.val_labels and not args.config:
        settings.val = None  # labelled training without a validation set: evaluate on test only
    problems = []
    if settings.batch_size < 1:
        problems.append(f"batch size must be at least 1 (got {settings.batch_size})")
    if settings.gradient_accumulation_steps < 1:
        problems.append(f"gradient accumulation steps must be at least 1 (got {settings.gradient_accumulation_steps})")
    if settings.finetune not in ("lora", "full"):
        problems.append(f"finetune must be lora or full (got {settings.finetune!r})")
    if settings.max_steps is not None and settings.max_steps < 1:
        problems.append(f"max steps must be at least 1 (got {settings.max_steps})")
    if problems:
        raise TrainerError(INVALID_CONFIG, "The fine-tuning settings are invalid.", "Fix the values listed.", issues=problems)
    return settings


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
        (run_dir / "config.json").write_text(json.dumps(_jsonable(asdict(settings)), indent=2), encoding="utf-8")
        run = FineTuneRun(settings, run_dir, events, log, cancel)
        run.prepare(resume_from)
        run.started_event()
        status = run.run(args.stop_after_step)
        if status == "completed":
            run.export()
            _write_metrics(run, settings)
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
    import yaml

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


def _write_metrics(run: FineTuneRun, settings: Settings) -> None:
    from ..metrics import prefixed

    metrics: dict[str, Any] = {"step": run.step, "best_step": run.best_step}
    metrics.update(prefixed(run.best_metrics, "val"))
    metrics.update(prefixed(run.test_metrics, "test"))
    (run.run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    if settings.metrics_file:
        Path(settings.metrics_file).write_text(json.dumps(metrics, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())


# ---- `python -m vin_ocr train CONFIG` with a vision-language model -------------------------

VLM_TYPES = ("lfm2-vl", "deepseek-ocr")


def is_vlm_config(path: str) -> bool:
    """True when the training config's model.type is a vision-language model (this trainer's job).

    Unreadable files answer False so that the baseline trainer reports the problem as usual.
    """
    import yaml

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
