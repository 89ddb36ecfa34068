"""LoRA adapters through peft, with the targets and ranks of the models' published recipes.

* LFM2.5-VL (Liquid's TRL SFT recipe): r=16 on the language model's attention
  (q/k/v/out_proj), short-convolution (in_proj/out_proj) and feed-forward (w1/w2/w3)
  projections; the SigLIP2 vision tower stays frozen.
* DeepSeek-OCR (the published LoRA recipe): r=16 on q/k/v/o_proj and gate/up/down_proj.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

from .policy import DEEPSEEK_OCR, LFM2_VL


@dataclass(frozen=True)
class LoraRecipe:
    r: int
    alpha: int
    dropout: float
    # A regular expression (matched against the full module name) or a list of name suffixes.
    targets: Union[str, list[str]]


RECIPES = {
    LFM2_VL: LoraRecipe(
        r=16,
        alpha=32,
        dropout=0.05,
        targets=r".*language_model.*\.(q_proj|k_proj|v_proj|out_proj|in_proj|w1|w2|w3)",
    ),
    DEEPSEEK_OCR: LoraRecipe(
        r=16,
        alpha=32,
        dropout=0.05,
        targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    ),
}


def lora_config(family: str, rank: Optional[int] = None) -> Any:
    from peft import LoraConfig

    recipe = RECIPES[family]
    r = rank or recipe.r
    return LoraConfig(
        r=r,
        lora_alpha=recipe.alpha * r // recipe.r,  # keep alpha/r, the effective scale, as published
        lora_dropout=recipe.dropout,
        target_modules=recipe.targets,
        bias="none",
        task_type="CAUSAL_LM",
    )


def apply_lora(model: Any, family: str, rank: Optional[int] = None) -> Any:
    from peft import get_peft_model

    return get_peft_model(model, lora_config(family, rank))


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = total = 0
    for parameter in model.parameters():
        total += parameter.numel()
        if parameter.requires_grad:
            trainable += parameter.numel()
    return trainable, total
