"""Fine-tuning settings: the existing project's flags, the training config and the model profile.

Precedence: command-line flags, then the model profile (``--model-config``), then the
training config (``--config``, the file "VIN OCR: Train" runs), then the defaults below.
Every problem found is reported at once as an ``invalid_config`` error.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ...errors import INVALID_CONFIG, TrainerError


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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vin_ocr.training.hf_finetune", description="Fine-tune LFM2.5-VL or DeepSeek-OCR on VIN images.")
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
