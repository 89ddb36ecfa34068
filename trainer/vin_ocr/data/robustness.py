"""A robustness test set drawn *unlike* the training renderer, one named condition at a time.

A model can score 99% on renders from its own generator and still fail on a different font or
a glare spot. This module draws VINs a different way from `synthetic` — the whole string in one
`ImageDraw.text` call (the font's own kerning), Pillow's built-in filters instead of the
renderer's effects — and applies one condition per image, so a benchmark can say *which*
condition breaks a model. Pair it with `split_font_families()`: train with `fonts=train`, test
here with the held-out families, and the figure measures reading typefaces never seen.
"""

from __future__ import annotations

import io
import random
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from ..vin import random_vin
from .fonts import TrueTypeFace, faces_for, is_procedural, split_font_families
from .preprocess import to_model_input

_TEXT_HEIGHT = 36  # cap height of the clean line, pixels


def _clean(vin: str, face: TrueTypeFace, rng: random.Random) -> Image.Image:
    """Black text on white with even margins: the base every condition starts from."""
    font = face.font_for(_TEXT_HEIGHT)
    left, top, right, bottom = (int(edge) for edge in font.getbbox(vin, anchor="ls"))
    margin_x, margin_y = int(_TEXT_HEIGHT * 0.5), int(_TEXT_HEIGHT * 0.35)
    image = Image.new("L", (right - left + 2 * margin_x, bottom - top + 2 * margin_y), 255)
    ImageDraw.Draw(image).text((margin_x - left, margin_y - top), vin, font=font, fill=0, anchor="ls")
    return image


def _noise(size: Tuple[int, int], mean: float, sigma: float, rng: random.Random) -> Image.Image:
    # Seeded from `rng` (Pillow's effect_noise is not), so the set is the same on every run.
    pixels = np.random.default_rng(rng.getrandbits(64)).normal(mean, sigma, (size[1], size[0]))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _stamped(image: Image.Image, rng: random.Random) -> Image.Image:
    relief = ImageOps.invert(image).filter(ImageFilter.GaussianBlur(1.2)).filter(ImageFilter.EMBOSS)
    return Image.blend(_noise(image.size, 140, 6, rng), ImageOps.autocontrast(relief), 0.6)


def _dark_plate(image: Image.Image, rng: random.Random) -> Image.Image:
    light_on_dark = ImageOps.invert(image).point(lambda value: 25 + value * 0.8)
    return Image.blend(light_on_dark, _noise(image.size, 128, 30, rng), 0.15)


def _glare(image: Image.Image, rng: random.Random) -> Image.Image:
    width, height = image.size
    ys, xs = np.ogrid[0:height, 0:width]
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.3, 0.7) * height
    spot = np.exp(-(((xs - cx) / (0.15 * width)) ** 2 + ((ys - cy) / (0.6 * height)) ** 2))
    pixels = np.asarray(image, dtype=np.float32) * 0.75 + 40 + spot * 150
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _blur(image: Image.Image, rng: random.Random) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(_TEXT_HEIGHT * rng.uniform(0.06, 0.09)))


def _jpeg(image: Image.Image, rng: random.Random) -> Image.Image:
    small = image.resize((image.width // 2, image.height // 2), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=rng.randint(8, 15))
    buffer.seek(0)
    return Image.open(buffer).convert("L")


def _perspective(image: Image.Image, rng: random.Random) -> Image.Image:
    width, height = image.size
    lift = rng.uniform(0.15, 0.3) * height
    # QUAD maps the output rectangle onto this quadrilateral of the input: one end looks farther away.
    quad = (
        (0, -lift, 0, height + lift, width, height, width, 0)
        if rng.random() < 0.5
        else (0, 0, 0, height, width, height + lift, width, -lift)
    )
    return image.transform((width, height), Image.Transform.QUAD, quad, Image.Resampling.BILINEAR, fillcolor=255)


def _low_res(image: Image.Image, rng: random.Random) -> Image.Image:
    factor = 11 / _TEXT_HEIGHT  # characters about 11 pixels tall
    return image.resize((max(1, int(image.width * factor)), max(1, int(image.height * factor))), Image.Resampling.BOX)


CONDITIONS: Dict[str, Optional[Callable[[Image.Image, random.Random], Image.Image]]] = {
    "clean": None,
    "stamped": _stamped,
    "dark_plate": _dark_plate,
    "glare": _glare,
    "blur": _blur,
    "jpeg": _jpeg,
    "perspective": _perspective,
    "low_res": _low_res,
}


def font_file_families(families: Optional[Sequence[str]]) -> List[str]:
    """The families among `families` (all when None) that come from font files, not procedural faces."""
    chosen = sorted({face.family for face in faces_for(families) if not is_procedural(face.family)})
    if not chosen:
        raise ValueError("the robustness set needs at least one font-file family (procedural faces are excluded)")
    return chosen


def render_unlike(vin: str, rng: random.Random, condition: str, fonts: Optional[Sequence[str]] = None) -> Image.Image:
    """`vin` drawn in a font-file family from `fonts` (all when None) under one named condition."""
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
    family = rng.choice(font_file_families(fonts))
    face = rng.choice([face for face in faces_for([family]) if isinstance(face, TrueTypeFace)])
    image = _clean(vin, face, rng)
    effect = CONDITIONS[condition]
    return effect(image, rng) if effect is not None else image


def robustness_suite(
    seed: int, per_condition: int, height: int, width: int, fonts: Optional[Sequence[str]] = None, north_american_ratio: float = 0.6
) -> Dict[str, List[Tuple[np.ndarray, str]]]:
    """For every condition, `per_condition` model inputs and their VINs (deterministic by seed).

    `fonts` defaults to the held-out side of `split_font_families()`: a model trained with
    `fonts=` the training side has never seen them.
    """
    if per_condition <= 0:
        raise ValueError(f"per_condition must be positive, got {per_condition}")
    if fonts is None:
        fonts = split_font_families()[1]
    families = font_file_families(fonts)
    suite: Dict[str, List[Tuple[np.ndarray, str]]] = {}
    for condition in CONDITIONS:
        samples = []
        for index in range(per_condition):
            rng = random.Random(f"vin-ocr/robustness/{seed}/{condition}/{index}")
            vin = random_vin(rng, north_american=rng.random() < north_american_ratio)
            samples.append((to_model_input(render_unlike(vin, rng, condition, families), height, width), vin))
        suite[condition] = samples
    return suite
