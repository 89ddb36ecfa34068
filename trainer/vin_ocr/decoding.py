"""Turning the model's per-frame probabilities into VIN reads.

Greedy CTC decoding restricted to the VIN alphabet (the model has no other classes), with a
confidence per character, plus an optional check-digit-aware pass. That pass is deliberately
timid, unlike the existing project's post-processing that rewrote valid characters:

* it only touches reads that claim to be North-American (first character 1–5: USA, Canada,
  Mexico), 17 characters long, whose check digit does not verify — a European VIN whose
  position 9 does not verify is left exactly as read;
* it only changes one character, at a position where the model itself was uncertain
  (confidence below a threshold), to the model's own runner-up there;
* among such changes that make the check digit verify it keeps the most probable one, and
  changes nothing when there is none.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import torch

from .vin import ALPHABET, VIN_LENGTH, has_valid_check_digit, is_valid_vin_syntax

BLANK = 0
NORTH_AMERICAN_REGIONS = frozenset("12345")
UNCERTAIN_BELOW = 0.9  # a character the model is at least this sure of is never changed
MIN_ALTERNATIVE = 0.02  # runner-ups the model gives almost no mass are not worth considering
TOP_ALTERNATIVES = 3


@dataclass
class Read:
    text: str
    confidence: float  # product of the character confidences: how sure the model is of the whole read
    char_confidences: list[float]
    # For each character: the model's runner-ups at its most confident frame, as (char, probability).
    alternatives: list[list[tuple[str, float]]] = field(default_factory=list)
    corrected_position: Optional[int] = None  # 0-based position the check-digit pass changed

    def to_json(self) -> dict:
        return {
            "vin": self.text,
            "confidence": round(self.confidence, 6),
            "characters": [
                {"char": char, "confidence": round(conf, 6)} for char, conf in zip(self.text, self.char_confidences)
            ],
            "check_digit_valid": has_valid_check_digit(self.text),
            "corrected_position": None if self.corrected_position is None else self.corrected_position + 1,
        }


def greedy_decode(log_probs: torch.Tensor) -> list[Read]:
    """log_probs [batch, frames, classes] → one Read per image (blanks dropped, repeats merged)."""
    probs = log_probs.detach().float().exp().cpu()
    best_prob, best = probs.max(-1)
    top_probs, top_classes = probs.topk(min(TOP_ALTERNATIVES + 2, probs.shape[-1]), dim=-1)
    reads: list[Read] = []
    for b in range(probs.shape[0]):
        classes = best[b].tolist()
        confidences = best_prob[b].tolist()
        text: list[str] = []
        char_conf: list[float] = []
        peaks: list[int] = []
        previous = BLANK
        for t, cls in enumerate(classes):
            if cls != BLANK and cls != previous:
                text.append(ALPHABET[cls - 1])
                char_conf.append(confidences[t])
                peaks.append(t)
            elif cls != BLANK and cls == previous and confidences[t] > char_conf[-1]:
                char_conf[-1] = confidences[t]  # the run's most confident frame speaks for it
                peaks[-1] = t
            previous = cls
        alternatives = []
        for t, char in zip(peaks, text):
            options = [
                (ALPHABET[c - 1], p)
                for p, c in zip(top_probs[b, t].tolist(), top_classes[b, t].tolist())
                if c != BLANK and ALPHABET[c - 1] != char
            ]
            alternatives.append(options[:TOP_ALTERNATIVES])
        confidence = 1.0
        for value in char_conf:
            confidence *= value
        reads.append(Read("".join(text), confidence if text else 0.0, char_conf, alternatives))
    return reads


def claims_north_american(text: str) -> bool:
    return is_valid_vin_syntax(text) and text[0] in NORTH_AMERICAN_REGIONS


def apply_check_digit(read: Read, uncertain_below: float = UNCERTAIN_BELOW) -> Read:
    """The check-digit-aware pass described in the module docstring; returns a new Read or ``read``."""
    if len(read.text) != VIN_LENGTH or not claims_north_american(read.text) or has_valid_check_digit(read.text):
        return read
    best: Optional[tuple[float, int, str, float]] = None
    for position, (confidence, options) in enumerate(zip(read.char_confidences, read.alternatives)):
        if confidence >= uncertain_below:
            continue
        for char, probability in options:
            if probability < MIN_ALTERNATIVE:
                continue
            candidate = read.text[:position] + char + read.text[position + 1 :]
            if not has_valid_check_digit(candidate):
                continue
            # How much less likely the candidate is than the read, under the model's own probabilities.
            ratio = probability / max(confidence, 1e-9)
            if best is None or ratio > best[0]:
                best = (ratio, position, char, probability)
    if best is None:
        return read
    _, position, char, probability = best
    text = read.text[:position] + char + read.text[position + 1 :]
    char_conf = list(read.char_confidences)
    old = char_conf[position]
    char_conf[position] = probability
    confidence = read.confidence / max(old, 1e-9) * probability
    return Read(text, confidence, char_conf, read.alternatives, corrected_position=position)


def decode(log_probs: torch.Tensor, check_digit: bool = False) -> list[Read]:
    reads = greedy_decode(log_probs)
    return [apply_check_digit(r) for r in reads] if check_digit else reads
