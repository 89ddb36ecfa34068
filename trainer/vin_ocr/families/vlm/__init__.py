"""Fine-tuning vision-language models (LFM2.5-VL, DeepSeek-OCR) through transformers and peft.

One implementation for both; what differs is each family's ``VlmTraits`` (``families/lfm2_vl.py``,
``families/deepseek_ocr.py``).
"""

from __future__ import annotations

from .family import VlmFamily, VlmTraits, traits_of

__all__ = ["VlmFamily", "VlmTraits", "traits_of"]
