"""Supervised fine-tuning batches for LFM2-VL: the chat template, with the prompt masked out.

A decoder-only model learns from next-token prediction over the whole sequence. Only the
answer should be learnt, so every prompt position (chat markup, image tokens, the question)
gets label -100 and only the VIN and the end-of-turn token that closes it carry a loss.

The training sequence is built as "the exact prompt the model sees at generation time" +
"the answer's tokens", so training and inference agree token for token, whatever the
tokenizer does at the prompt/answer boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

IGNORE_INDEX = -100
DEFAULT_PROMPT = "Read the vehicle identification number (VIN) in this image. Answer with the 17 characters only."
IMAGE_KEYS = ("pixel_values", "pixel_attention_mask", "spatial_shapes")


def user_messages(prompt: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]


@dataclass
class EncodedPrompt:
    input_ids: torch.Tensor  # [length]
    images: dict[str, torch.Tensor]  # each with a leading image dimension of 1


class Lfm2VlCollator:
    """Turns (image, VIN) pairs into training batches and images into generation batches."""

    uses_generate = True  # transformers' generate() with its KV cache

    def __init__(self, processor: Any, prompt: str = DEFAULT_PROMPT, max_target_length: int = 32) -> None:
        self.processor = processor
        self.tokenizer = processor.tokenizer
        self.prompt = prompt
        self.max_target_length = max_target_length
        self.prompt_text = processor.apply_chat_template(user_messages(prompt), add_generation_prompt=True, tokenize=False)
        if self.tokenizer.pad_token_id is None:
            raise ValueError("The tokenizer has no pad token; set one before fine-tuning.")
        self.end_of_answer = self.tokenizer.eos_token_id

    def encode_prompt(self, image: Any) -> EncodedPrompt:
        encoded = self.processor(images=[[image]], text=[self.prompt_text], return_tensors="pt")
        images = {key: encoded[key] for key in IMAGE_KEYS if key in encoded}
        return EncodedPrompt(encoded["input_ids"][0], images)

    def answer_ids(self, target: str) -> list[int]:
        ids = self.tokenizer(target, add_special_tokens=False)["input_ids"][: self.max_target_length]
        return [*ids, self.end_of_answer]

    def training_batch(self, examples: Sequence[tuple[Any, str]]) -> dict[str, torch.Tensor]:
        """Right-padded ``input_ids``/``attention_mask``/``labels`` plus the image tensors."""
        if not examples:
            raise ValueError("An empty batch cannot be collated.")
        rows: list[tuple[torch.Tensor, torch.Tensor]] = []
        images: list[dict[str, torch.Tensor]] = []
        for image, target in examples:
            prompt = self.encode_prompt(image)
            answer = torch.tensor(self.answer_ids(target), dtype=torch.long)
            ids = torch.cat([prompt.input_ids, answer])
            labels = torch.cat([torch.full_like(prompt.input_ids, IGNORE_INDEX), answer])
            rows.append((ids, labels))
            images.append(prompt.images)
        width = max(len(ids) for ids, _ in rows)
        input_ids = torch.full((len(rows), width), self.tokenizer.pad_token_id, dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORE_INDEX, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for index, (ids, row_labels) in enumerate(rows):
            input_ids[index, : len(ids)] = ids
            labels[index, : len(ids)] = row_labels
            attention[index, : len(ids)] = 1
        return {"input_ids": input_ids, "attention_mask": attention, "labels": labels, **_stack_images(images)}

    def generation_batch(self, images: Sequence[Any]) -> dict[str, torch.Tensor]:
        """Left-padded prompts (generation appends on the right) plus the image tensors."""
        prompts = [self.encode_prompt(image) for image in images]
        width = max(len(p.input_ids) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(prompts), width), dtype=torch.long)
        for index, prompt in enumerate(prompts):
            input_ids[index, width - len(prompt.input_ids) :] = prompt.input_ids
            attention[index, width - len(prompt.input_ids) :] = 1
        return {"input_ids": input_ids, "attention_mask": attention, **_stack_images([p.images for p in prompts])}


def _stack_images(images: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    # Every image is already padded to the processor's fixed patch count, so they concatenate.
    return {key: torch.cat([item[key] for item in images]) for key in images[0]}
