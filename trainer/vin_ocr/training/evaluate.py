"""Evaluation and prediction with a model: shared by the training loop and the CLI commands."""

from __future__ import annotations

import base64
import io
from typing import Any, Sequence

import numpy as np
import torch

from ..decoding import Read, apply_check_digit, greedy_decode
from ..metrics import vin_metrics
from ..vin import VIN_LENGTH
from .device import Placement


@torch.no_grad()
def read_images(model: torch.nn.Module, images: Sequence[np.ndarray], placement: Placement, batch_size: int = 256) -> list[Read]:
    """Best-path reads of VIN length (no check-digit pass) of preprocessed images [height, width]."""
    was_training = model.training
    model.eval()
    reads: list[Read] = []
    try:
        for start in range(0, len(images), batch_size):
            chunk = torch.from_numpy(np.stack(images[start : start + batch_size])).unsqueeze(1).to(placement.torch_device)
            with torch.autocast(placement.device, dtype=placement.autocast_dtype, enabled=placement.autocast_dtype is not None):
                log_probs = model(chunk)
            reads.extend(greedy_decode(log_probs.float(), VIN_LENGTH))
    finally:
        model.train(was_training)
    return reads


def score(reads: Sequence[Read], truths: Sequence[str], check_digit: bool) -> tuple[dict[str, float], list[Read]]:
    """Metrics of the configured decoding, plus exact match with the check-digit pass off and on,
    so every evaluation shows what that pass gains (or costs)."""
    corrected = [apply_check_digit(read) for read in reads]
    greedy_texts = [read.text for read in reads]
    corrected_texts = [read.text for read in corrected]
    chosen = corrected if check_digit else list(reads)
    metrics: dict[str, float] = dict(vin_metrics([read.text for read in chosen], list(truths)))
    total = max(len(truths), 1)
    metrics["exact_match_greedy"] = sum(p == t for p, t in zip(greedy_texts, truths)) / total
    metrics["exact_match_check_digit"] = sum(p == t for p, t in zip(corrected_texts, truths)) / total
    metrics["check_digit_corrections"] = float(sum(r.corrected_position is not None for r in corrected))
    metrics["mean_confidence"] = float(np.mean([r.confidence for r in chosen])) if chosen else 0.0
    return metrics, chosen


def thumbnail(image: np.ndarray) -> str:
    """A small grey PNG of a model input, as a data URL for the `samples` event."""
    from PIL import Image

    pixels = (np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def sample_items(images: Sequence[np.ndarray], truths: Sequence[str], reads: Sequence[Read], count: int = 8) -> list[dict[str, Any]]:
    """A few examples for the UI: wrong reads first (they teach the most), then right ones."""
    order = sorted(range(len(reads)), key=lambda i: (reads[i].text == truths[i], i))[:count]
    return [
        {
            "image": thumbnail(images[i]),
            "truth": truths[i],
            "prediction": reads[i].text,
            "confidence": float(min(max(reads[i].confidence, 0.0), 1.0)),
            "correct": reads[i].text == truths[i],
        }
        for i in order
    ]
