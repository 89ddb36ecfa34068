"""The one image → model-input conversion, shared by training, evaluation and predict.

Keeping a single function is what makes evaluation numbers mean something: a model only ever
sees images prepared exactly the way it was trained on.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

# Contrast is stretched between these percentiles so that a dim stamped plate and a crisp
# printed label reach the model at similar contrast; percentiles (not min/max) ignore glare specks.
_LOW_PERCENTILE = 1.0
_HIGH_PERCENTILE = 99.0
# Below this spread the image is flat (blank or nearly so): stretching would only amplify noise.
_MIN_SPREAD = 8.0
# A VIN line is 5–13 times wider than tall, often wider than the model input. Narrowing it (up to
# this factor) before shrinking it keeps the characters' height, which carries most of their
# shape; a CTC reader needs width only for enough time steps.
DEFAULT_MAX_SQUEEZE = 2.0


def _to_grey(image: Image.Image) -> Image.Image:
    """8-bit grey from any mode: transparency laid on white, 16-bit and float scaled, not clipped."""
    if image.mode == "L":
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        values = np.asarray(image, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
        return Image.fromarray(scaled.astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    return image.convert("L")


def to_model_input(image: Image.Image, height: int, width: int, max_squeeze: float = DEFAULT_MAX_SQUEEZE) -> np.ndarray:
    """A float32 array [height, width] in 0..1: grey, contrast stretched, padded on the right/bottom.

    The image is scaled to `height`. If it is then wider than `width`, it is first narrowed
    (by at most `max_squeeze`; 1.0 keeps the aspect ratio exactly) and only then shrunk as a
    whole. The rest is filled with the median of its border, so that padding looks like more
    background rather than a hard edge. EXIF orientation from phone photos is applied first.
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"model input size must be positive, got {height}x{width}")
    if max_squeeze < 1.0:
        raise ValueError(f"max_squeeze must be at least 1 (no squeeze), got {max_squeeze}")
    if image.width <= 0 or image.height <= 0:
        raise ValueError(f"cannot prepare an empty image ({image.width}x{image.height})")
    if image.getexif():
        image = ImageOps.exif_transpose(image)
    grey = _to_grey(image)

    natural_width = grey.width * height / grey.height  # at full height, aspect kept
    squeeze = min(max_squeeze, max(1.0, natural_width / width))
    shrink = min(1.0, width / (natural_width / squeeze))
    scaled_width = max(1, min(width, round(natural_width / squeeze * shrink)))
    scaled_height = max(1, min(height, round(height * shrink)))
    resized = grey.resize((scaled_width, scaled_height), Image.Resampling.BILINEAR)
    pixels = np.asarray(resized, dtype=np.float32)

    low, high = np.percentile(pixels, (_LOW_PERCENTILE, _HIGH_PERCENTILE))
    if high - low >= _MIN_SPREAD:
        pixels = np.clip((pixels - low) / (high - low), 0.0, 1.0)
    else:
        pixels = pixels / 255.0

    border = np.concatenate((pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]))
    output = np.full((height, width), float(np.median(border)), dtype=np.float32)
    output[:scaled_height, :scaled_width] = pixels
    return output
