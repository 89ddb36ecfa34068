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


def to_model_input(image: Image.Image, height: int, width: int) -> np.ndarray:
    """A float32 array [height, width] in 0..1: grey, aspect ratio kept, padded on the right/bottom.

    The image is scaled to `height` (or less, if it would be wider than `width`) and the rest is
    filled with the median of its border, so that padding looks like more background rather than
    a hard black edge. EXIF orientation from phone photos is applied first.
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"model input size must be positive, got {height}x{width}")
    if image.width <= 0 or image.height <= 0:
        raise ValueError(f"cannot prepare an empty image ({image.width}x{image.height})")
    if image.getexif():
        image = ImageOps.exif_transpose(image)
    grey = image.convert("L") if image.mode != "L" else image

    scale = min(height / grey.height, width / grey.width)
    scaled_width = max(1, min(width, round(grey.width * scale)))
    scaled_height = max(1, min(height, round(grey.height * scale)))
    resized = grey.resize((scaled_width, scaled_height), Image.BILINEAR)
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
