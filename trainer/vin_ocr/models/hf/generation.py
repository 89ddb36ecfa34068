"""Evaluation by generation: the model writes the VIN, the VIN metrics score it.

Optionally constrained to the VIN alphabet: at each step only tokens made entirely of VIN
characters (0-9, A-Z without I, O, Q) or the end-of-answer token may be chosen, and after
17 characters only the end. A model that has not yet learnt the format then still answers
with something VIN-shaped, and metrics measure reading, not formatting.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import torch

from ...decoding import Read
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
            written = sum(self.lengths.get(int(t), 0) for t in sequence[self.prompt_length :])
            if written < self.max_chars:
                mask[row, self._ids.to(scores.device)] = 0.0
            mask[row, self.end_token_id] = 0.0
        return scores + mask


def clean_prediction(text: str) -> str:
    """The model's answer as a VIN candidate: upper-cased, without whitespace. Nothing is rewritten."""
    return "".join(normalise_label(text).split())


def move_batch(batch: Any, device: Any, float_dtype: Optional[torch.dtype] = None) -> Any:
    """Tensors (also inside DeepSeek's list of image tuples) onto ``device``; float ones cast to the model's dtype."""
    if isinstance(batch, torch.Tensor):
        moved = batch.to(device)
        return moved.to(float_dtype) if float_dtype is not None and moved.is_floating_point() else moved
    if isinstance(batch, dict):
        return {key: move_batch(value, device, float_dtype) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_batch(value, device, float_dtype) for value in batch)
    return batch


@torch.no_grad()
def greedy_decode(
    model: Any, batch: dict[str, Any], end_token_id: int, max_new_tokens: int, constraint: Optional[Any]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy decoding through plain forward passes (no cache): for models whose generate() cannot be relied on.

    Each step re-runs the whole sequence, so it costs more than generate(); it is only used to
    evaluate DeepSeek-OCR, whose answers are 18 tokens long. Returns the new tokens and each one's
    probability.
    """
    batch = dict(batch)
    prompt_length = batch["input_ids"].shape[1]
    finished = torch.zeros(batch["input_ids"].shape[0], dtype=torch.bool, device=batch["input_ids"].device)
    probabilities: list[torch.Tensor] = []
    for _ in range(max_new_tokens):
        logits = model(**batch).logits[:, -1, :].float()
        if constraint is not None:
            logits = constraint(batch["input_ids"], logits)
        chosen = logits.argmax(dim=-1)
        probabilities.append(torch.softmax(logits, dim=-1).gather(1, chosen[:, None])[:, 0])
        chosen = torch.where(finished, torch.full_like(chosen, end_token_id), chosen)
        finished |= chosen == end_token_id
        batch["input_ids"] = torch.cat([batch["input_ids"], chosen[:, None]], dim=1)
        batch["attention_mask"] = torch.cat([batch["attention_mask"], torch.ones_like(chosen[:, None])], dim=1)
        if "images_seq_mask" in batch:
            batch["images_seq_mask"] = torch.cat([batch["images_seq_mask"], torch.zeros_like(chosen[:, None], dtype=torch.bool)], dim=1)
        if bool(finished.all()):
            break
    return batch["input_ids"][:, prompt_length:], torch.stack(probabilities, dim=1)


@torch.no_grad()
def cached_greedy_decode(
    model: Any, batch: dict[str, Any], end_token_id: int, max_new_tokens: int, constraint: Optional[Any]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy decoding through forward() with the key/value cache: the prompt and image once, then one token a step.

    For remote code whose generate() cannot be relied on off CUDA (DeepSeek-OCR's ``infer()`` hard-codes
    CUDA, bf16 images and 8192 new tokens); its forward() skips the vision encoders for one-token steps.
    Returns the new tokens and each one's probability, like :func:`greedy_decode`.
    """
    inputs = dict(batch)
    written = inputs["input_ids"]
    prompt_length = written.shape[1]
    attention = inputs["attention_mask"]
    finished = torch.zeros(written.shape[0], dtype=torch.bool, device=written.device)
    probabilities: list[torch.Tensor] = []
    output = model(**inputs, use_cache=True)
    for step in range(max_new_tokens):
        logits = output.logits[:, -1, :].float()
        if constraint is not None:
            logits = constraint(written, logits)
        chosen = logits.argmax(dim=-1)
        probabilities.append(torch.softmax(logits, dim=-1).gather(1, chosen[:, None])[:, 0])
        chosen = torch.where(finished, torch.full_like(chosen, end_token_id), chosen)
        finished |= chosen == end_token_id
        written = torch.cat([written, chosen[:, None]], dim=1)
        attention = torch.cat([attention, torch.ones_like(chosen[:, None])], dim=1)
        if bool(finished.all()) or step == max_new_tokens - 1:
            break
        following = {**inputs, "input_ids": chosen[:, None], "attention_mask": attention}
        if "images_seq_mask" in inputs:
            following["images_seq_mask"] = torch.zeros_like(chosen[:, None], dtype=torch.bool)
        output = model(**following, past_key_values=output.past_key_values, use_cache=True)
    return written[:, prompt_length:], torch.stack(probabilities, dim=1)


def _read(tokenizer: Any, tokens: list[int], probabilities: list[float], end_token_id: int) -> Read:
    """The answer as a VIN candidate; each character scored by the probability of the token that wrote it."""
    text = clean_prediction(tokenizer.decode(tokens, skip_special_tokens=True))
    answer: list[float] = []  # the probability of each token before the end of the answer
    confidences: list[float] = []
    for token, probability in zip(tokens, probabilities):
        if token == end_token_id:
            break
        answer.append(probability)
        confidences += [probability] * len(clean_prediction(tokenizer.decode([token], skip_special_tokens=True)))
    if len(confidences) != len(text):  # pieces that only make sense together: the answer's mean for each
        confidences = [sum(answer) / len(answer) if answer else 0.0] * len(text)
    confidence = 1.0
    for value in confidences:
        confidence *= value
    return Read(text, confidence if text else 0.0, confidences)


@torch.no_grad()
def generate_reads(
    model: Any,
    collator: Any,
    images: Sequence[Any],
    device: Any,
    max_new_tokens: int = 32,
    constrain: bool = True,
) -> list[Read]:
    """The model's answer for each image, as a ``Read`` (text, per-character and overall confidence)."""
    from transformers import LogitsProcessorList

    dtype = next(model.parameters()).dtype
    batch = move_batch(collator.generation_batch(images), device, dtype)
    tokenizer = collator.tokenizer
    prompt_length = batch["input_ids"].shape[1]
    constraint = VinAlphabetLogits(tokenizer, prompt_length, collator.end_of_answer) if constrain else None
    if getattr(collator, "uses_generate", True):
        output = model.generate(
            **batch,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            logits_processor=LogitsProcessorList([constraint]) if constraint else None,
            eos_token_id=collator.end_of_answer,
            pad_token_id=tokenizer.pad_token_id,
            output_scores=True,
            return_dict_in_generate=True,
        )
        new_tokens = output.sequences[:, prompt_length:]
        scores = torch.stack([step.float() for step in output.scores], dim=1)  # [batch, new tokens, vocabulary]
        probabilities = torch.softmax(scores, dim=-1).gather(2, new_tokens[:, : scores.shape[1], None])[..., 0]
    elif getattr(collator, "uses_cache", False):
        # A VIN is 17 characters and every token writes at least one: 17 tokens and the end are enough.
        limit = min(max_new_tokens, VIN_LENGTH + 1)
        new_tokens, probabilities = cached_greedy_decode(model, batch, collator.end_of_answer, limit, constraint)
    else:
        new_tokens, probabilities = greedy_decode(model, batch, collator.end_of_answer, max_new_tokens, constraint)
    return [
        _read(tokenizer, tokens, chances, collator.end_of_answer)
        for tokens, chances in zip(new_tokens.tolist(), probabilities.float().cpu().tolist())
    ]


def generate_reads_in_batches(
    model: Any,
    collator: Any,
    images: Sequence[Any],
    device: Any,
    batch_size: int,
    max_new_tokens: int = 32,
    constrain: bool = True,
) -> list[Read]:
    """``generate_reads`` over any number of images, ``batch_size`` at a time (evaluation and reading alike)."""
    reads: list[Read] = []
    for start in range(0, len(images), batch_size):
        reads += generate_reads(model, collator, images[start : start + batch_size], device, max_new_tokens, constrain)
    return reads
