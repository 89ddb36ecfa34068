"""A fine-tuned vision-language checkpoint loaded for reading VINs (``evaluate`` and ``predict``).

The checkpoint is an adapter (put on top of its base model) or a whole fine-tuned model; either
way the model writes the VIN and each character gets the probability of the token that wrote it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ...config import Config
from ...decoding import Read
from ..protocol import CheckpointRef

if TYPE_CHECKING:
    from .family import VlmTraits


class VlmReader:
    def __init__(self, model: Any, collator: Any, device: Any, config: Config[Any, Any], checkpoint: Path, step: int) -> None:
        self.model = model
        self.collator = collator
        self.device = device
        self.config = config
        self.checkpoint = checkpoint
        self.step = step
        self.check_digit = bool(config.decoding.check_digit)

    def read(self, images: Sequence[Any]) -> list[Read]:
        from ...models.hf.generation import generate_reads_in_batches

        model_config = self.config.model
        return generate_reads_in_batches(
            self.model,
            self.collator,
            [image.convert("RGB") for image in images],
            self.device,
            self.config.training.eval_batch_size,
            model_config.max_new_tokens,
            model_config.constrain_alphabet,
        )


def load_reader(traits: "VlmTraits", checkpoint: CheckpointRef, device: str, config: Config[Any, Any]) -> VlmReader:
    import torch

    from ...hardware import probe
    from ...models.hf.checkpoint import read_summary
    from ...models.hf.loading import load_vlm
    from ...models.hf.policy import choose_attention, machine_from_probe
    from ...training.device import choose_device

    model_config = config.model
    chosen = choose_device(device)
    machine = machine_from_probe(chosen, probe())
    attention = choose_attention(traits.name, machine, model_config.attn_implementation)
    dtype = traits.choose_dtype(machine, "auto")
    folder = checkpoint.path
    adapter = (folder / "adapter_config.json").is_file()
    # A whole fine-tuned model loads from its folder; an adapter goes on top of its base model.
    source = model_config.model_id if adapter else str(folder)
    processor = traits.load_processor(model_config.model_id, model_config.trust_remote_code, model_config.revision)
    model = load_vlm(source, traits.name, attention.value, dtype.value, model_config.trust_remote_code, model_config.revision).model
    if adapter:
        from peft import PeftModel

        from ...models.hf.lora import peft_ready

        peft_ready()
        model = PeftModel.from_pretrained(model, str(folder))
    model = model.to(torch.device(chosen)).eval()
    if traits.on_device is not None:
        for key, text in traits.on_device(model, torch.device(chosen), "reading").items():
            print(f"{key.replace('_', ' ')}: {text}", file=sys.stderr)  # stdout carries --json output
    summary = read_summary(folder) or {}
    return VlmReader(
        model, traits.make_collator(processor, model_config), torch.device(chosen), config, folder, int(summary.get("step", 0))
    )
