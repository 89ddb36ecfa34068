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
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

from .vin import ALPHABET, VIN_LENGTH, has_valid_check_digit, is_valid_vin_syntax

if TYPE_CHECKING:  # never imported at run time: the ONNX Runtime reader decodes with this module and no torch
    import torch

LogProbs = Union[np.ndarray, "torch.Tensor"]

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
            "characters": [{"char": char, "confidence": round(conf, 6)} for char, conf in zip(self.text, self.char_confidences)],
            "check_digit_valid": has_valid_check_digit(self.text),
            "corrected_position": None if self.corrected_position is None else self.corrected_position + 1,
        }


def as_log_probs(log_probs: Any) -> np.ndarray:
    """float32 numpy [batch, frames, classes] from a numpy array or a torch tensor (any device or
    dtype), recognised by duck typing so that this module never imports torch."""
    if hasattr(log_probs, "detach"):
        log_probs = log_probs.detach().float().cpu().numpy()
    return np.asarray(log_probs, dtype=np.float32)


def greedy_decode(log_probs: LogProbs, length: Optional[int] = None) -> list[Read]:
    """log_probs [batch, frames, classes] → one Read per image (blanks dropped, repeats merged).

    With `length`, a read of any other length is replaced by the most probable frame path that
    spells exactly `length` characters (a VIN always has 17): a dropped or doubled character
    becomes the model's best guess at the missing or extra one instead of a certain miss.
    A read that already has that length is the best path overall, so it never changes.
    Plain numpy, shared by the PyTorch and the ONNX Runtime readers.
    """
    values = as_log_probs(log_probs)
    probs = np.exp(values)
    best = probs.argmax(-1)
    best_prob = np.take_along_axis(probs, best[..., None], -1)[..., 0]
    # The few most probable classes per frame, most probable first (the alternatives' source).
    top_classes = np.argsort(-probs, axis=-1, kind="stable")[..., : min(TOP_ALTERNATIVES + 2, probs.shape[-1])]
    top_probs = np.take_along_axis(probs, top_classes, -1)
    reads: list[Read] = []
    for b in range(probs.shape[0]):
        read = _read_path(best[b].tolist(), best_prob[b].tolist(), top_probs[b], top_classes[b])
        if length is not None and len(read.text) != length:
            path = fixed_length_path(values[b], length)
            if path is not None:
                on_path = probs[b, np.arange(len(path)), np.array(path)].tolist()
                read = _read_path(path, on_path, top_probs[b], top_classes[b])
        reads.append(read)
    return reads


def _read_path(path: list[int], confidences: list[float], top_probs: np.ndarray, top_classes: np.ndarray) -> Read:
    """The Read a frame path spells (`confidences`: each frame's probability of its symbol on the
    path): each character scored by its run's most confident frame."""
    text: list[str] = []
    char_conf: list[float] = []
    peaks: list[int] = []
    previous = BLANK
    for t, (cls, confidence) in enumerate(zip(path, confidences)):
        if cls != BLANK and cls != previous:
            text.append(ALPHABET[cls - 1])
            char_conf.append(confidence)
            peaks.append(t)
        elif cls != BLANK and cls == previous and confidence > char_conf[-1]:
            char_conf[-1] = confidence  # the run's most confident frame speaks for it
            peaks[-1] = t
        previous = cls
    alternatives = []
    for t, char in zip(peaks, text):
        options = [
            (ALPHABET[c - 1], p) for p, c in zip(top_probs[t].tolist(), top_classes[t].tolist()) if c != BLANK and ALPHABET[c - 1] != char
        ]
        alternatives.append(options[:TOP_ALTERNATIVES])
    confidence = 1.0
    for value in char_conf:
        confidence *= value
    return Read("".join(text), confidence if text else 0.0, char_conf, alternatives)


def fixed_length_path(log_probs: np.ndarray, length: int) -> Optional[list[int]]:
    """The most probable CTC frame path (log_probs [frames, classes]) that spells exactly `length`
    labels, or None when the frames cannot hold that many. Viterbi over the states (labels so far,
    symbol at this frame); a label repeats only across a blank, as CTC requires."""
    frames, classes = log_probs.shape
    score = np.full((length + 1, classes), -np.inf)
    score[0, BLANK] = log_probs[0, BLANK]
    if length:
        score[1, 1:] = log_probs[0, 1:]
    state_ids = np.arange(score.size).reshape(score.shape)
    came_from = np.zeros((frames, score.size), dtype=np.int64)
    for t in range(1, frames):
        best, origin = score.copy(), state_ids.copy()  # the same symbol again: no new label
        rows = np.arange(length + 1)
        symbol = score.argmax(axis=1)  # any symbol, then a blank: no new label either
        _keep_better(best[:, BLANK], origin[:, BLANK], score[rows, symbol], state_ids[rows, symbol])
        if length:
            candidate, candidate_id = _new_label_sources(score, state_ids)
            _keep_better(best[1:, 1:], origin[1:, 1:], candidate, candidate_id)
        score = best + log_probs[t]
        came_from[t] = origin.reshape(-1)
    end = int(score[length].argmax())
    if not np.isfinite(score[length, end]):
        return None
    state = int(state_ids[length, end])
    path = [BLANK] * frames
    for t in range(frames - 1, -1, -1):
        path[t] = state % classes
        state = int(came_from[t, state])
    return path


def _keep_better(best: np.ndarray, origin: np.ndarray, candidate: np.ndarray, candidate_id: np.ndarray) -> None:
    better = candidate > best
    best[better] = candidate[better]
    origin[better] = candidate_id[better]


def _new_label_sources(score: np.ndarray, state_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a new label c reaching count k + 1: the best state at count k it can follow (the blank,
    or any character but c itself), as scores and state ids [length, characters]."""
    chars, char_ids = score[:-1, 1:], state_ids[:-1, 1:]
    rows = np.arange(chars.shape[0])[:, None]
    order = np.argsort(chars, axis=1)
    first = order[:, -1:]
    second = order[:, -2:-1] if chars.shape[1] > 1 else first
    is_first = np.arange(chars.shape[1])[None, :] == first
    other = np.where(is_first, chars[rows, second], chars[rows, first])
    if chars.shape[1] == 1:
        other = np.full_like(other, -np.inf)  # one character class: nothing else to follow
    other_id = np.where(is_first, char_ids[rows, second], char_ids[rows, first])
    blank, blank_id = score[:-1, BLANK][:, None], state_ids[:-1, BLANK][:, None]
    from_blank = blank >= other
    return np.where(from_blank, blank, other), np.where(from_blank, blank_id, other_id)


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


def decode(log_probs: LogProbs, check_digit: bool = False) -> list[Read]:
    reads = greedy_decode(log_probs, VIN_LENGTH)
    return [apply_check_digit(r) for r in reads] if check_digit else reads
