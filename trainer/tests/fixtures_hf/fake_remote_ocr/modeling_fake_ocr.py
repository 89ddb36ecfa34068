"""A tiny remote-code OCR model that behaves like DeepSeek-OCR where the trainer meets it.

* It imports flash_attn unguarded at module level: transformers refuses to load remote code
  whose imports are missing, which is what the flash-attn stub is for.
* It builds its attention as "mha_" + attn_implementation and defines only eager and
  flash_attention_2 (no sdpa), as DeepSeek-OCR does.
* Its forward takes DeepSeek-OCR's inputs (input_ids, attention_mask, labels, images as a list
  of (crops, global view) tensors, images_seq_mask, images_spatial_crop): the image features
  replace the embeddings where images_seq_mask is true, and labels give a causal LM loss.
"""

import torch
from flash_attn import flash_attn_func  # noqa: F401 - the import the stub exists for
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutput

from .configuration_fake_ocr import FakeOcrConfig


class EagerAttention(torch.nn.Module):
    def __init__(self, size):
        super().__init__()
        self.qkv = torch.nn.Linear(size, 3 * size)
        self.out = torch.nn.Linear(size, size)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
        causal = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool, device=x.device).triu(1)
        return x + self.out(torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1) @ v)


class FlashAttention(EagerAttention):
    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return flash_attn_func(q, k, v, causal=True)


ATTENTION_CLASSES = {"mha_eager": EagerAttention, "mha_flash_attention_2": FlashAttention}


class FakeOcrForCausalLM(PreTrainedModel, GenerationMixin):  # a causal LM, like DeepSeek-OCR
    config_class = FakeOcrConfig
    _supports_flash_attn_2 = True
    _supports_flash_attn = True
    _supports_sdpa = False

    def __init__(self, config):
        super().__init__(config)
        implementation = config._attn_implementation or "eager"
        key = "mha_" + implementation
        if key not in ATTENTION_CLASSES:
            raise ValueError(f"FakeOcrForCausalLM does not support attention {implementation!r}")
        self.embed = torch.nn.Embedding(config.vocab_size, config.hidden_size)
        self.vision = torch.nn.Linear(3 * 4 * 4, config.hidden_size)
        self.q_proj = torch.nn.Linear(config.hidden_size, config.hidden_size)  # a LoRA target name of the recipe
        self.attention = ATTENTION_CLASSES[key](config.hidden_size)
        self.lm_head = torch.nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, labels=None, images=None, images_seq_mask=None, images_spatial_crop=None, **_):
        x = self.embed(input_ids)
        if images is not None and images_seq_mask is not None:
            rows = []
            for index, (_crops, global_view) in enumerate(images):
                pooled = torch.nn.functional.adaptive_avg_pool2d(global_view, 4).flatten(1)  # [1, 48]
                feature = self.vision(pooled.to(x.dtype))
                mask = images_seq_mask[index].unsqueeze(-1)
                rows.append(torch.where(mask, feature.expand_as(x[index]), x[index]))
            x = torch.stack(rows)
        logits = self.lm_head(self.attention(self.q_proj(x)))
        loss = None
        if labels is not None:
            loss = torch.nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100
            )
        return CausalLMOutput(loss=loss, logits=logits)
