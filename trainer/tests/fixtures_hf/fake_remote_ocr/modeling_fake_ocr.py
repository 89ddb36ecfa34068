"""A minimal remote-code model that behaves like DeepSeek-OCR's towards flash_attn.

Like the real one it imports flash_attn unguarded at module level (transformers refuses to
load remote code whose imports are missing) and builds its attention class as
"mha_" + attn_implementation, defining only eager and flash_attention_2 (no sdpa).
"""
import torch
from flash_attn import flash_attn_func  # noqa: F401 - the import the stub exists for
from transformers import PreTrainedModel

from .configuration_fake_ocr import FakeOcrConfig


class EagerAttention(torch.nn.Module):
    def __init__(self, size):
        super().__init__()
        self.qkv = torch.nn.Linear(size, 3 * size)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        weights = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1)
        return weights @ v


class FlashAttention(EagerAttention):
    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return flash_attn_func(q, k, v)


ATTENTION_CLASSES = {"mha_eager": EagerAttention, "mha_flash_attention_2": FlashAttention}


class FakeOcrModel(PreTrainedModel):
    config_class = FakeOcrConfig
    _supports_flash_attn_2 = True
    _supports_flash_attn = True
    _supports_sdpa = False

    def __init__(self, config):
        super().__init__(config)
        implementation = config._attn_implementation or "eager"
        key = "mha_" + implementation
        if key not in ATTENTION_CLASSES:
            raise ValueError(f"FakeOcrModel does not support attention {implementation!r}")
        self.embed = torch.nn.Embedding(config.vocab_size, config.hidden_size)
        self.attention = ATTENTION_CLASSES[key](config.hidden_size)
        self.post_init()

    def forward(self, input_ids):
        return self.attention(self.embed(input_ids))
