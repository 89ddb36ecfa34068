"""The config sections of the vision-language families (LFM2.5-VL, DeepSeek-OCR)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ... import config_checks as checks
from ...config import TRAINING_CHECKS, Config, ConfigReader, ModelConfig, Section, TrainingConfig, resolve_path
from ...models.hf.policy import attention_chain

ATTENTION = ("auto", "flash_attention_2", "sdpa", "eager")
LORA_LEARNING_RATE = 2e-4  # the published LoRA recipes'
FULL_LEARNING_RATE = 5e-5
SYNTHETIC_TRAIN_SIZE = 256  # renders to fine-tune on when data.train is synthetic and max_train_samples unset


@dataclass(frozen=True)
class VlmModel(ModelConfig):
    model_id: Optional[str] = None  # None: the family's model in data/requirements.json
    revision: Optional[str] = None
    trust_remote_code: bool = False
    attn_implementation: str = "auto"
    prompt: Optional[str] = None  # None: the family's own
    finetune: str = "lora"  # lora | full
    lora_rank: Optional[int] = None  # None: the family's recipe
    max_new_tokens: int = 32
    max_target_length: int = 32
    constrain_alphabet: bool = True
    export_merged: bool = True
    export_onnx: bool = False
    onnx_output: Optional[str] = None
    onnx_task: str = "image-to-text"
    fallback: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VlmTraining(TrainingConfig):
    batch_size: int = 2
    gradient_accumulation_steps: int = 1
    gradient_checkpointing: bool = False
    num_epochs: float = 1.0
    eval_batch_size: int = 8
    max_train_samples: Optional[int] = None
    max_eval_samples: Optional[int] = None


MODEL_CHECKS: dict[str, checks.Check] = {
    "model_id": checks.text(allow_null=True),
    "revision": checks.text(allow_null=True),
    "trust_remote_code": checks.boolean,
    "attn_implementation": checks.choice(ATTENTION),
    "prompt": checks.text(allow_null=True),
    "finetune": checks.choice(("lora", "full")),
    "lora_rank": checks.integer(1, 1024, allow_null=True),
    "max_new_tokens": checks.integer(1, 4096),
    "max_target_length": checks.integer(1, 4096),
    "constrain_alphabet": checks.boolean,
    "export_merged": checks.boolean,
    "export_onnx": checks.boolean,
    "onnx_output": checks.text(allow_null=True),
    "onnx_task": checks.text(),
    "fallback": checks.mapping_of(
        {"enabled": checks.boolean, "type": checks.choice(("baseline",)), "model_name": checks.text(), "reason": checks.text()}
    ),
}

TRAINING_SECTION = Section(
    VlmTraining,
    {
        **TRAINING_CHECKS,
        # None (a resolved config written back): decided from epochs and the data set's size.
        "max_steps": checks.integer(1, allow_null=True),
        "eval_every": checks.integer(1, allow_null=True),
        "gradient_accumulation_steps": checks.integer(1, 1024),
        "gradient_checkpointing": checks.boolean,
        "num_epochs": checks.number(0.0, exclusive_low=True),
        "eval_batch_size": checks.integer(1, 65536),
        "max_train_samples": checks.integer(1, allow_null=True),
        "max_eval_samples": checks.integer(1, allow_null=True),
    },
)

# Generation is slow: evaluate on a small synthetic set unless the config asks for more.
SECTION_DEFAULTS = {"data": {"synthetic": {"val_size": 32}}}


def model_section(family: str, cls: type = VlmModel, **extra_checks: checks.Check) -> Section:
    return Section(cls, {"type": checks.choice((family,)), **MODEL_CHECKS, **extra_checks})


def finish_config(family: str, default_model_id: str, config: Config[Any, Any], reader: ConfigReader) -> Config[Any, Any]:
    """The family's model and learning rate where the config leaves them open; attention it has."""
    model, training = config.model, config.training
    chain = attention_chain(family)
    if model.attn_implementation != "auto" and model.attn_implementation not in chain:
        reader.problem(
            ("model", "attn_implementation"),
            f"{family} does not implement attention '{model.attn_implementation}' (it supports {', '.join(chain)})",
        )
    base = Path(config.source).parent if config.source else Path.cwd()
    model = dataclasses.replace(
        model,
        model_id=model.model_id or default_model_id,
        onnx_output=resolve_path(model.onnx_output, base) if model.onnx_output else None,
    )
    if training.learning_rate is None:
        training = dataclasses.replace(training, learning_rate=LORA_LEARNING_RATE if model.finetune == "lora" else FULL_LEARNING_RATE)
    return dataclasses.replace(config, model=model, training=training)
