"""Evaluation by generation: the model writes the VIN, the VIN metrics score it.

Optionally constrained to the VIN alphabet: at each step only tokens made entirely of VIN
characters (0-9, A-Z without I, O, Q) or the end-of-answer token may be chosen, and after
17 characters only the end. A model that has not yet learnt the format then still answers
with something VIN-shaped, and metrics measure reading, not formatting.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

import torch

from ...vin import ALPHABET, VIN_LENGTH, normalise_label


def vin_token_lengths(tokenizer: Any) -> dict[int, int]:
    """Token id -> number of VIN characters, for every token that is made only of VIN characters."""
    allowed: dict[int, int] = {}
    alphabet = set(ALPHABET)
    for token_id in range(len(tokenizer)):
        text = tokenizer.decode([token_id], skip_special_tokens=True)
        if text and all(ch in alphabet for ch in text):
            allowed[token_id] = len(text)
    return allowed


class VinAlphabetLogits:
    """A logits processor: mask everything but VIN-alphabet tokens and the end token."""

    def __init__(self, tokenizer: Any, prompt_length: int, end_token_id: int, max_chars: int = VIN_LENGTH) -> None:
        self.lengths = vin_token_lengths(tokenizer)
        if not self.lengths:
            raise ValueError("The tokenizer has no token made of VIN characters; alphabet-constrained decoding is impossible.")
        self.prompt_length = prompt_length
        self.end_token_id = end_token_id
        self.max_chars = max_chars
        self._ids = torch.tensor(sorted(self.lengths), dtype=torch.long)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        mask = torch.full_like(scores, float("-inf"))
        for row, sequence in enumerate(input_ids):
            written = sum(self.lengths.get(int(t), 0) for t in sequence[self.prompt_length:])
            if written < self.max_chars:
                mask[row, self._ids.to(scores.device)] = 0.0
            mask[row, self.end_token_id] = 0.0
        return scores + mask


def clean_prediction(text: str) -> str:
    """The model's answer as a VIN candidate: upper-cased, without whitespace. Nothing is rewritten."""
    return "".join(normalise_label(text).split())


@torch.no_grad()
def generate_vins(
    model: Any,
    collator: Any,
    images: Sequence[Any],
    device: Any,
    max_new_tokens: int = 32,
    constrain: bool = True,
) -> list[str]:
    from transformers import LogitsProcessorList

    batch = {k: v.to(device) for k, v in collator.generation_batch(images).items()}
    tokenizer = collator.tokenizer
    processors: Optional[Any] = None
    if constrain:
        processors = LogitsProcessorList(
            [VinAlphabetLogits(tokenizer, batch["input_ids"].shape[1], collator.end_of_answer)]
        )
    output = model.generate(
        **batch,
        max_new_tokens=max_new_tokens,
        do_sample=False,
        num_beams=1,
        logits_processor=processors,
        eos_token_id=collator.end_of_answer,
        pad_token_id=tokenizer.pad_token_id,
    )
    new_tokens = output[:, batch["input_ids"].shape[1]:]
    return [clean_prediction(text) for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


def batched(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
