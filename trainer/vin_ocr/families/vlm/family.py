"""The vision-language families' config, fallback, checkpoints and entry points (``families/protocol.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from ...config import Config, ConfigReader, Section, parse_config
from ...errors import CHECKPOINT_INVALID, INVALID_CONFIG, TrainerError
from ...models.hf.lora import LoraRecipe
from ...models.hf.policy import Choice, Machine, choose_dtype
from ...requirements import requirements_of
from ..protocol import CheckpointRef, FamilyRun, Reader, RunContext
from . import config as vlm_config
from .checkpoints import family_of_checkpoint, find_folder


@dataclass(frozen=True)
class VlmTraits:
    """What makes one vision-language family differ from another."""

    name: str  # model.type
    model_section: Section
    lora: LoraRecipe
    # model_id, attention, trust_remote_code, from_pretrained options -> the model
    load_model: Callable[[str, str, bool, dict[str, Any]], Any]
    # model_id, trust_remote_code, revision -> what turns text and images into tensors
    load_processor: Callable[[str, bool, Optional[str]], Any]
    # processor, the config's model section -> the family's collator (training and generation batches)
    make_collator: Callable[[Any, Any], Any]
    recognises_model_id: Callable[[str], bool]
    min_transformers: Optional[tuple[int, int]] = None
    # The first transformers release that cannot run the family (DeepSeek-OCR's remote code: 4.48).
    max_transformers: Optional[tuple[int, int]] = None
    choose_dtype: Callable[[Machine, str], Choice] = choose_dtype
    # After the model is on its device (training and reading): what the family must do there, returned as
    # run_started fields, each also logged (DeepSeek-OCR: the device shim for its hard-coded CUDA calls).
    on_device: Optional[Callable[[Any, Any, str], dict[str, Any]]] = None
    # Whether gradient checkpointing with LoRA may make the embeddings' output require grad (peft and the
    # usual recipe do): DeepSeek-OCR writes image features into that output in place, which autograd refuses.
    input_require_grads: bool = True


def traits_of(family: str) -> VlmTraits:
    """The traits of a registered vision-language family (its loader, LoRA recipe …)."""
    from .. import registry

    found = registry.family(family)
    if not isinstance(found, VlmFamily):
        raise TrainerError(INVALID_CONFIG, f"'{family}' is not a vision-language model family.", "Use lfm2-vl or deepseek-ocr.")
    return found.traits


class VlmFamily:
    def __init__(self, traits: VlmTraits) -> None:
        self.traits = traits
        self.name = traits.name
        self.model_section = traits.model_section
        self.training_section = vlm_config.TRAINING_SECTION
        self.section_defaults: Mapping[str, Any] = vlm_config.SECTION_DEFAULTS
        self.recognises_model_id = traits.recognises_model_id

    def finish_config(self, config: Config[Any, Any], reader: ConfigReader) -> Config[Any, Any]:
        return vlm_config.finish_config(self.name, requirements_of(self.name).model_id, config, reader)

    def fallback(self, config: Config[Any, Any], device: str) -> Optional[tuple[str, str, Config[Any, Any]]]:
        """With ``fallback.enabled``, a model that cannot run here hands over to the baseline."""
        settings = config.model.fallback
        if not settings.get("enabled") or settings.get("type", "baseline") != "baseline":
            return None
        from ...hardware import probe
        from ...models.hf import fallback

        gpus = (probe().get("cuda_devices") or []) if device == "cuda" else []
        vram = int(gpus[0]["vram_mib"]) * 2**20 if gpus else None
        reason = fallback.fallback_reason(self.name, device, fallback.machine_memory(), vram, fallback.transformers_version())
        if reason is None:
            return None
        message = (
            f"{config.model.model_id} cannot be fine-tuned here: {reason}. Training the baseline model instead (fallback.type: baseline)."
        )
        fix = str(
            settings.get("reason")
            or "Run on a machine that meets the model's minimum (VIN OCR: Show Hardware lists them), "
            "or set fallback.enabled: false to get an error instead."
        )
        training: dict[str, Any] = {"seed": config.training.seed, "device": config.training.device}
        if config.training.max_steps:
            training["max_steps"] = config.training.max_steps
        if config.training.max_minutes:
            training["max_minutes"] = config.training.max_minutes
        data = config.data
        raw = {
            "model": {"type": "baseline"},
            "data": {"train": data.train, "val": data.val, "test": data.test, "on_bad_rows": data.on_bad_rows},
            "training": training,
            "decoding": {"check_digit": config.decoding.check_digit},
            "output_dir": config.output_dir,
        }
        baseline, _ = parse_config(raw, Path.cwd(), config.source)
        return message, fix, baseline

    def find_checkpoint(self, target: Path, prefer: str) -> Optional[CheckpointRef]:
        folder = find_folder(target, prefer)
        if folder is None or family_of_checkpoint(folder) != self.name:
            return None
        run_dir = folder.parent.parent if folder.parent.name == "checkpoints" else None
        return CheckpointRef(folder, run_dir, str(folder))

    def saved_state(self, checkpoint: CheckpointRef) -> dict[str, Any]:
        from ...models.hf.checkpoint import load_state

        return load_state(checkpoint.path)

    def start(self, context: RunContext) -> FamilyRun:
        from .run import VlmRun

        return VlmRun(self.traits, context)

    def load_reader(self, checkpoint: CheckpointRef, device: str) -> Reader:
        from .reader import load_reader

        return load_reader(self.traits, checkpoint, device, self._config_of(checkpoint))

    def _config_of(self, checkpoint: CheckpointRef) -> Config[Any, Any]:
        from ...config import config_from_dict
        from .checkpoints import saved_config

        saved = saved_config(checkpoint.path)
        if saved is not None:
            return config_from_dict(saved, for_training=False)
        base = _adapter_base_model(checkpoint.path)
        if base is None:
            raise TrainerError(
                CHECKPOINT_INVALID, f"{checkpoint.path} does not say which model it was trained from.", "Use a checkpoint folder of a run."
            )
        config, _ = parse_config({"model": {"type": self.name, "model_id": base}, "data": {"val": None}}, Path.cwd())
        return config


def _adapter_base_model(folder: Path) -> Optional[str]:
    import json

    try:
        adapter = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    base = adapter.get("base_model_name_or_path") if isinstance(adapter, dict) else None
    return str(base) if base else None
