"""LFM2.5-VL (``model.type: lfm2-vl``): native in transformers from 4.57, LoRA per Liquid's TRL SFT recipe.

The recipe: r=16 on the language model's attention (q/k/v/out_proj), short-convolution
(in_proj/out_proj) and feed-forward (w1/w2/w3) projections; the SigLIP2 vision tower stays frozen.
Its attention chain and memory minimums are in ``data/requirements.json``.
"""

from __future__ import annotations

from typing import Any, Optional

from ..models.hf.lora import LoraRecipe
from .vlm import VlmFamily, VlmTraits
from .vlm.config import model_section

NAME = "lfm2-vl"


def _load_model(model_id: str, attention: str, trust_remote_code: bool, options: dict[str, Any]) -> Any:
    from ..models.hf.loading import image_text_model

    return image_text_model(model_id, attention, trust_remote_code, options)


def _load_processor(model_id: str, trust_remote_code: bool, revision: Optional[str]) -> Any:
    from ..models.hf.loading import load_processor

    return load_processor(model_id, trust_remote_code, revision)


def _collator(processor: Any, model: Any) -> Any:
    from ..models.hf.collate import DEFAULT_PROMPT, Lfm2VlCollator

    return Lfm2VlCollator(processor, model.prompt or DEFAULT_PROMPT, model.max_target_length)


FAMILY = VlmFamily(
    VlmTraits(
        name=NAME,
        model_section=model_section(NAME),
        lora=LoraRecipe(r=16, alpha=32, dropout=0.05, targets=r".*language_model.*\.(q_proj|k_proj|v_proj|out_proj|in_proj|w1|w2|w3)"),
        load_model=_load_model,
        load_processor=_load_processor,
        make_collator=_collator,
        # The registry asks DeepSeek-OCR first; every other model id is taken for an LFM2-VL checkpoint.
        recognises_model_id=lambda model_id: True,
        min_transformers=(4, 57),
    )
)
