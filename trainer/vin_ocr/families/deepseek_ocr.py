"""DeepSeek-OCR (``model.type: deepseek-ocr``): its own modelling code (``trust_remote_code``),
its own prompt and image format (``models/hf/deepseek.py``), LoRA per the published recipe
(r=16 on the language model's q/k/v/o_proj and gate/up/down_proj).

What its real remote code requires (measured: ``docs/deepseek-ocr.md``):

* transformers 4.46.3–4.47.x (4.48 removed ``LlamaFlashAttention2``, which it imports), ``AutoModel`` only;
* eager attention off CUDA (it refuses sdpa; flash_attention_2 needs CUDA and flash-attn): the chain in
  ``data/requirements.json`` is flash_attention_2, eager;
* a device shim for the ``.cuda()`` in its ``forward`` on CPU and MPS, and its stdout banners kept out of
  the event stream (``models/hf/remote_code.py``); a torchvision stand-in where torchvision cannot load;
* the vision encoders and projector run under ``no_grad``: LoRA targets only the language model, and a
  full fine-tune freezes them; gradient checkpointing is non-reentrant and never makes the embeddings'
  output require grad (the image features are scattered into it in place).
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
# The language model's attention and MLP projections (dense, routed and shared experts), by full name:
# the vision encoders have q/k/v-like names too (qkv, qkv_proj, out_proj, fc1 …) and get no gradients.
LORA_TARGETS = r"(.*\.)?model\.layers\.\d+\.(self_attn\.(q|k|v|o)_proj|mlp\.((experts\.\d+|shared_experts)\.)?(gate|up|down)_proj)"
TOO_NEW = (4, 48)


@dataclass(frozen=True)
class DeepSeekModel(VlmModel):
    type: str = NAME
    image_mode: str = "base"  # tiny 512, small 640, base 1024, large 1280, gundam (1024 + 640 crops)


def _check_transformers() -> None:
    import transformers

    from ..errors import MISSING_DEPENDENCY, TrainerError
    from ..models.hf.fallback import _major_minor

    if _major_minor(transformers.__version__) >= TOO_NEW:
        raise TrainerError(
            MISSING_DEPENDENCY,
            f"DeepSeek-OCR's code cannot be imported by transformers {transformers.__version__} "
            "(4.48 removed LlamaFlashAttention2, which it imports); it needs transformers 4.46.3 to 4.47.x.",
            'Train DeepSeek-OCR in its own environment (transformers==4.46.3): "VIN OCR: Set Up DeepSeek-OCR Environment" in VS Code, or '
            "scripts/setup-deepseek.sh (.deepseek-venv, which vin-ocr train finds; --deepseek-python PATH for another).",
        )


def _load_model(model_id: str, attention: str, trust_remote_code: bool, options: dict[str, Any]) -> Any:
    from ..models.hf.loading import remote_code_model
    from ..models.hf.remote_code import prepare_remote_code

    _check_transformers()
    prepare_remote_code()
    return remote_code_model(model_id, attention, trust_remote_code, options)


def _load_tokenizer(model_id: str, trust_remote_code: bool, revision: Optional[str]) -> Any:
    from ..models.hf.loading import load_tokenizer

    return load_tokenizer(model_id, trust_remote_code, revision)  # no processor: the model's own image format


def _collator(tokenizer: Any, model: Any) -> Any:
    from ..models.hf.deepseek import DeepSeekOcrCollator

    return DeepSeekOcrCollator(tokenizer, model.image_mode, model.prompt, model.max_target_length)


def _on_device(model: Any, device: Any, finetune: str) -> dict[str, Any]:
    """The device shim (CPU/MPS) and quiet forward; a full fine-tune leaves the vision side frozen."""
    from ..models.hf.remote_code import attach, ensure_torchvision, freeze_vision

    facts: dict[str, Any] = {}
    shim = attach(model, device)
    if shim:
        facts["device_shim"] = shim
    stand_in = ensure_torchvision()
    if stand_in:
        facts["torchvision_stand_in"] = stand_in
    if finetune == "full":
        frozen = freeze_vision(model)
        facts["frozen_vision_parameters"] = frozen
    return facts


def _is_deepseek_ocr(model_id: str) -> bool:
    name = model_id.lower()
    return "deepseek" in name and "ocr" in name


FAMILY = VlmFamily(
    VlmTraits(
        name=NAME,
        model_section=model_section(NAME, DeepSeekModel, image_mode=checks.choice(tuple(MODES))),
        lora=LoraRecipe(r=16, alpha=32, dropout=0.05, targets=LORA_TARGETS),
        load_model=_load_model,
        load_processor=_load_tokenizer,
        make_collator=_collator,
        recognises_model_id=_is_deepseek_ocr,
        max_transformers=TOO_NEW,
        on_device=_on_device,
        input_require_grads=False,
    )
)
