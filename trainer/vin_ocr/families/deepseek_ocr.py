"""DeepSeek-OCR (``model.type: deepseek-ocr``): its own modelling code (``trust_remote_code``),
its own prompt and image format (``models/hf/deepseek.py``), LoRA per the published recipe
(r=16 on q/k/v/o_proj and gate/up/down_proj). Its remote code implements flash_attention_2 and
eager only: the chain in ``data/requirements.json`` has no sdpa.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .. import config_checks as checks
from ..models.hf.deepseek import MODES
from ..models.hf.lora import LoraRecipe
from .vlm import VlmFamily, VlmTraits
from .vlm.config import VlmModel, model_section

NAME = "deepseek-ocr"


@dataclass(frozen=True)
class DeepSeekModel(VlmModel):
    type: str = NAME
    image_mode: str = "base"  # tiny 512, small 640, base 1024, large 1280, gundam (1024 + 640 crops)


def _load_model(model_id: str, attention: str, trust_remote_code: bool, options: dict[str, Any]) -> Any:
    from ..models.hf.loading import remote_code_model

    return remote_code_model(model_id, attention, trust_remote_code, options)


def _load_tokenizer(model_id: str, trust_remote_code: bool, revision: Optional[str]) -> Any:
    from ..models.hf.loading import load_tokenizer

    return load_tokenizer(model_id, trust_remote_code, revision)  # no processor: the model's own image format


def _collator(tokenizer: Any, model: Any) -> Any:
    from ..models.hf.deepseek import DeepSeekOcrCollator

    return DeepSeekOcrCollator(tokenizer, model.image_mode, model.prompt, model.max_target_length)


def _is_deepseek_ocr(model_id: str) -> bool:
    name = model_id.lower()
    return "deepseek" in name and "ocr" in name


FAMILY = VlmFamily(
    VlmTraits(
        name=NAME,
        model_section=model_section(NAME, DeepSeekModel, image_mode=checks.choice(tuple(MODES))),
        lora=LoraRecipe(
            r=16, alpha=32, dropout=0.05, targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
        ),
        load_model=_load_model,
        load_processor=_load_tokenizer,
        make_collator=_collator,
        recognises_model_id=_is_deepseek_ocr,
    )
)
