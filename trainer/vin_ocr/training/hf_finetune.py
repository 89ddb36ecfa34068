"""``python -m vin_ocr.training.hf_finetune``: fine-tune LFM2.5-VL or DeepSeek-OCR with the existing
vin_ocr project's flags.

The flags (``--model-id``, ``--train-labels``, ``--val-labels``, ``--test-labels``, ``--output-dir``,
``--batch-size``, ``--num-epochs``, ``--learning-rate``, ``--seed``, ``--prompt``,
``--max-new-tokens``, ``--fp16``, ``--trust-remote-code`` …) are keys of the one training config
(``schemas/training-config.schema.json``): they are laid over ``--config FILE`` and the existing
project's model profile (``--model-config``), in that order of precedence, and the result is
checked like any config file, every problem at once. The run itself is the harness's
(``training/harness.py``), the same as ``python -m vin_ocr train``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import IO, Any, Optional, Sequence

from ..config import Config, KeyPath, parse_config, read_yaml
from ..events import open_event_stream
from ..families import registry
from .harness import EXIT_CANCELLED, EXIT_COMPLETED, EXIT_FAILED, RunOptions, train

__all__ = ["EXIT_CANCELLED", "EXIT_COMPLETED", "EXIT_FAILED", "build_parser", "config_from_flags", "main"]

DEFAULT_MODEL_ID = "LiquidAI/LFM2.5-VL-1.6B"

# argparse destination -> the config key it sets. Flags left unset keep the file's value or the default.
FLAG_KEYS: dict[str, KeyPath] = {
    "model_id": ("model", "model_id"),
    "model_revision": ("model", "revision"),
    "model_type": ("model", "type"),
    "trust_remote_code": ("model", "trust_remote_code"),
    "attn_implementation": ("model", "attn_implementation"),
    "prompt": ("model", "prompt"),
    "image_mode": ("model", "image_mode"),
    "max_target_length": ("model", "max_target_length"),
    "max_new_tokens": ("model", "max_new_tokens"),
    "lora_rank": ("model", "lora_rank"),
    "constrain_alphabet": ("model", "constrain_alphabet"),
    "export_merged": ("model", "export_merged"),
    "export_onnx": ("model", "export_onnx"),
    "onnx_task": ("model", "onnx_task"),
    "onnx_output": ("model", "onnx_output"),
    "train_labels": ("data", "train"),
    "val_labels": ("data", "val"),
    "test_labels": ("data", "test"),
    "output_dir": ("output_dir",),
    "max_train_samples": ("training", "max_train_samples"),
    "max_eval_samples": ("training", "max_eval_samples"),
    "batch_size": ("training", "batch_size"),
    "eval_batch_size": ("training", "eval_batch_size"),
    "num_epochs": ("training", "num_epochs"),
    "max_steps": ("training", "max_steps"),
    "max_minutes": ("training", "max_minutes"),
    "learning_rate": ("training", "learning_rate"),
    "gradient_accumulation_steps": ("training", "gradient_accumulation_steps"),
    "gradient_checkpointing": ("training", "gradient_checkpointing"),
    "eval_every": ("training", "eval_every"),
    "seed": ("training", "seed"),
    "device": ("training", "device"),
    "precision": ("training", "precision"),
}
# Paths on the command line are relative to the working directory (in a file: to the file).
PATH_FLAGS = ("train_labels", "val_labels", "test_labels", "output_dir", "onnx_output")
# The existing project's model profile: its key -> the training config's.
PROFILE_KEYS: dict[KeyPath, KeyPath] = {
    ("model_id",): ("model", "model_id"),
    ("fallback",): ("model", "fallback"),
    ("training", "trust_remote_code"): ("model", "trust_remote_code"),
    ("training", "prompt"): ("model", "prompt"),
    ("training", "max_new_tokens"): ("model", "max_new_tokens"),
    ("training", "attn_implementation"): ("model", "attn_implementation"),
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m vin_ocr.training.hf_finetune", description="Fine-tune LFM2.5-VL or DeepSeek-OCR on VIN images."
    )
    p.add_argument("--config", help="training config YAML (model.type: lfm2-vl | deepseek-ocr)")
    p.add_argument("--model-config", help="model profile YAML (model_id, training.prompt, attn_implementation, fallback …)")
    p.add_argument("--model-id", help="Hugging Face model id or a local model folder")
    p.add_argument("--model-revision")
    p.add_argument("--model-type", choices=registry.names(), help="model family (default: from the model id)")
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
    p.add_argument(
        "--no-constrain", dest="constrain_alphabet", action="store_false", default=None, help="generate without the VIN-alphabet constraint"
    )
    p.add_argument("--export-onnx", action="store_true", default=None)
    p.add_argument("--onnx-task")
    p.add_argument("--onnx-output")
    p.add_argument("--no-export", dest="export_merged", action="store_false", default=None, help="skip writing merged weights at the end")
    p.add_argument("--resume", help="run directory (or its checkpoint folder) to continue")
    p.add_argument("--events", help="also write events here ('-' for stdout)")
    p.add_argument("--stop-after-step", type=int, help=argparse.SUPPRESS)  # tests: behave as if cancelled after this step
    return p


def _set(raw: dict[str, Any], path: KeyPath, value: Any) -> None:
    for key in path[:-1]:
        section = raw.get(key)
        if not isinstance(section, dict):
            section = raw[key] = {}
        raw = section
    raw[path[-1]] = value


def _get(raw: Any, path: KeyPath) -> Any:
    for key in path:
        if not isinstance(raw, dict) or key not in raw:
            return None
        raw = raw[key]
    return raw


def _flag_value(name: str, value: Any) -> Any:
    if name in ("val_labels", "test_labels") and value == "":
        return None  # an empty path: no such split
    if name in PATH_FLAGS and isinstance(value, str) and value != "synthetic":
        return str(Path(value).expanduser().resolve())
    if name == "max_minutes" and value <= 0:
        return None  # 0: no time limit
    return value


def config_from_flags(args: argparse.Namespace) -> tuple[Config[Any, Any], list[str]]:
    """The training config the flags, the model profile and the config file describe together."""
    raw: dict[str, Any] = {}
    locations: dict[KeyPath, str] = {}
    base, source = Path.cwd(), None
    if args.config:
        file = Path(args.config).expanduser().resolve()
        data, locations = read_yaml(file)
        raw = data if isinstance(data, dict) else {}
        base, source = file.parent, str(file)
    if args.model_config:
        profile, lines = read_yaml(Path(args.model_config).expanduser().resolve(), "model profile")
        for key, target in PROFILE_KEYS.items():
            value = _get(profile, key)
            if value is not None:
                _set(raw, target, value)
                locations[target] = lines.get(key, str(args.model_config))
    flags = vars(args)
    for name, path in FLAG_KEYS.items():
        if flags.get(name) is not None:
            _set(raw, path, _flag_value(name, flags[name]))
            locations[path] = "--" + name.replace("_", "-")
    if args.full_finetune:
        _set(raw, ("model", "finetune"), "full")
    if args.fp16 and args.precision is None:
        _set(raw, ("training", "precision"), "fp16")
    if args.train_labels and args.val_labels is None and not args.config:
        _set(raw, ("data", "val"), None)  # labelled training without a validation set: evaluate on test only
    if _get(raw, ("model", "type")) is None:
        _set(raw, ("model", "type"), registry.for_model_id(_get(raw, ("model", "model_id")) or DEFAULT_MODEL_ID).name)
    return parse_config(raw, base, source, locations)


def main(argv: Optional[Sequence[str]] = None, events_stream: Optional[IO[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    extra, owned = (events_stream, False) if events_stream is not None else open_event_stream(args.events)
    try:
        options = RunOptions(
            resume=args.resume,
            events=extra,
            stop_after_step=args.stop_after_step,
            metrics_file=args.metrics_file,
            read_config=lambda: config_from_flags(args),
        )
        return train(None, options)
    finally:
        if owned and extra is not None:
            extra.close()


if __name__ == "__main__":
    sys.exit(main())
