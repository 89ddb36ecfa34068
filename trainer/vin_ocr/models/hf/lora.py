"""LoRA adapters through peft, with the targets and ranks of the models' published recipes.

Each family registers its recipe (``families/lfm2_vl.py``, ``families/deepseek_ocr.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union


@dataclass(frozen=True)
class LoraRecipe:
    r: int
    alpha: int
    dropout: float
    # A regular expression (matched against the full module name) or a list of name suffixes.
    targets: Union[str, list[str]]


def recipe_of(family: Union[str, LoraRecipe]) -> LoraRecipe:
    if isinstance(family, LoraRecipe):
        return family
    from ...families.vlm import traits_of

    return traits_of(family).lora


def lora_config(family: Union[str, LoraRecipe], rank: Optional[int] = None) -> Any:
    from peft import LoraConfig

    recipe = recipe_of(family)
    r = rank or recipe.r
    return LoraConfig(
        r=r,
        lora_alpha=recipe.alpha * r // recipe.r,  # keep alpha/r, the effective scale, as published
        lora_dropout=recipe.dropout,
        target_modules=recipe.targets,
        bias="none",
        task_type="CAUSAL_LM",
    )


def apply_lora(model: Any, family: Union[str, LoraRecipe], rank: Optional[int] = None) -> Any:
    """``model`` wrapped with a fresh adapter of ``family``'s recipe (a family name or the recipe itself)."""
    from peft import get_peft_model

    peft_ready()
    return get_peft_model(model, lora_config(family, rank))


def peft_ready() -> None:
    """peft 0.21 reads ``torch.distributed.tensor`` when it wraps a layer without importing it: import it first."""
    try:
        import torch.distributed.tensor  # noqa: F401
    except ImportError:
        pass


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = total = 0
    for parameter in model.parameters():
        total += parameter.numel()
        if parameter.requires_grad:
            trainable += parameter.numel()
    return trainable, total
