"""Synthetic VIN images: the embedded training data, so training works on a fresh machine.

A model trained on one clean font reads its own renders and little else, so every image here
varies what real VIN photos vary: typeface (font files and procedural dot-peen, stroke, stencil
and segment faces), spacing, per-character jitter and tilt (hand-stamped numbers), stroke weight
and worn ink, the surface (printed label, stamped or engraved metal, dark windshield plate, plain
document), clutter (barcodes, rules, frames, rivets, small print, "*" delimiters, a "VIN:" prefix),
geometry (stretch, slant, rotation, perspective, crop margins) and the camera (uneven light,
glare, shadow, scratches, blur, noise, low resolution, JPEG). One render costs about 2 ms on one
core once the glyph cache is warm.

Everything is driven by the `random.Random` passed in, so a seed reproduces an image exactly on
the same machine (the set of installed fonts is part of the machine).

Holding typefaces out (to measure reading fonts never trained on): `fonts.split_font_families()`
splits the families by a stable hash of their names; pass the training side as `fonts=` to
`render_vin`, `SyntheticStream` or `synthetic_split`, and evaluate on
`robustness.robustness_suite(...)` (drawn differently, held-out side by default) or on
`synthetic_split(..., fonts=held_out)`.
"""

from __future__ import annotations

import io
import random
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..vin import ALPHABET, VIN_LENGTH, random_vin
from .fonts import Face, Glyph, GlyphCache, faces_for, is_procedural
from .preprocess import to_model_input

try:
    from torch.utils.data import IterableDataset as _IterableBase
    from torch.utils.data import get_worker_info as _worker_info
except ImportError:  # pragma: no cover - the renderer itself needs no torch
    _IterableBase = object  # type: ignore[misc,assignment]

    def _worker_info():
        return None


# The renders' version: render caches on disk (render_cache.py) are reused only under the same one.
# Change it whenever a change here (or in fonts.py, preprocess.py or vin.py) changes what a seed renders,
# or every cached training run goes on training on the old renders.
RENDERER_VERSION = 1

# Cap heights (pixels) glyphs are drawn at: about twice what a 32-pixel-high model input keeps,
# enough for blur and noise to act like a camera's, small enough to cost little.
CAP_HEIGHTS = (16, 20, 24, 28, 34)
# Share of images drawn with a procedural face (stamped plates are common in the real world).
PROCEDURAL_SHARE = 0.3

# Room around the text, in cap heights: enough for the widest crop margin and for clutter.
_MARGIN_X = 0.8
_MARGIN_Y = 0.75

_glyph_cache = GlyphCache()


# --------------------------------------------------------------------------------------------
# Text layout: glyph masks pasted on a canvas with spacing and per-character jitter.


FacePool = List[Tuple[str, List[Face]]]  # (family, its faces), sorted by family
_pools: Dict[Optional[Tuple[str, ...]], Tuple[FacePool, FacePool]] = {}


def _face_pools(fonts: Optional[Sequence[str]]) -> Tuple[FacePool, FacePool]:
    """Procedural and font-file families to draw from (validated and grouped once per choice of fonts)."""
    key = tuple(sorted(set(fonts))) if fonts is not None else None
    if key not in _pools:
        by_family: Dict[str, List[Face]] = {}
        for face in faces_for(fonts):
            by_family.setdefault(face.family, []).append(face)
        ordered = sorted(by_family.items())
        _pools[key] = ([entry for entry in ordered if is_procedural(entry[0])], [entry for entry in ordered if not is_procedural(entry[0])])
    return _pools[key]


def _choose_face(rng: random.Random, fonts: Optional[Sequence[str]]) -> Face:
    procedural, files = _face_pools(fonts)
    pool = procedural if procedural and (not files or rng.random() < PROCEDURAL_SHARE) else files
    # Family first, then a face inside it: a family with eight weights must not weigh eight times.
    _, faces = rng.choice(pool)
    return rng.choice(faces)


def _layout_text(vin: str, face: Face, cap: int, rng: random.Random) -> Tuple[np.ndarray, Tuple[int, int, int, int]]:
    """The VIN's ink mask (float32 0..1) with room around it, and the text's box (x0, y0, x1, y1)."""
    glyphs: List[Glyph] = []
    for char in vin:
        glyph = _glyph_cache.get(face, char, cap)
        if glyph is None:  # faces are validated on discovery, so this is a bug, not bad input
            raise RuntimeError(f"font {face.family} {face.name} cannot draw {char!r}")
        glyphs.append(glyph)
    monospace = rng.random() < 0.35
    widest = max(glyph.advance for glyph in glyphs)
    tracking = cap * (rng.uniform(-0.03, 0.12) if rng.random() < 0.7 else rng.uniform(0.12, 0.45))
    jitter_x = cap * (0.02 if rng.random() < 0.7 else 0.07)
    jitter_y = cap * (0.02 if rng.random() < 0.6 else 0.09)
    # Some documents print the VIN in groups (WMI, descriptor, check digit + serial).
    group_gaps = {3: cap * rng.uniform(0.3, 0.8), 9: cap * rng.uniform(0.3, 0.8)} if rng.random() < 0.07 else {}

    # Some labels print delimiters around the VIN ("*1HG…*"): the reader must learn to skip them.
    star = _glyph_cache.get(face, "*", cap) if rng.random() < 0.08 else None
    sequence: List[Tuple[Glyph, float]] = [(glyph, group_gaps.get(index + 1, 0.0)) for index, glyph in enumerate(glyphs)]
    if star is not None:
        sequence = [(star, cap * 0.25)] + sequence + [(star, 0.0)]
    elif rng.random() < 0.04:  # "VIN" or "VIN:" printed before the number, as on many labels
        prefix = [_glyph_cache.get(face, char, cap) for char in ("VIN:" if rng.random() < 0.5 else "VIN")]
        drawn = [glyph for glyph in prefix if glyph is not None]
        if len(drawn) == len(prefix):
            gap = cap * rng.uniform(0.5, 1.2)
            sequence = [(glyph, gap if index == len(drawn) - 1 else 0.0) for index, glyph in enumerate(drawn)] + sequence
    # Hand-stamped numbers: every character struck separately, each at its own small angle.
    tilt = 7.0 if rng.random() < 0.12 else 0.0

    # Place every glyph relative to the pen (cap line at y = 0), then size the canvas to fit them all.
    placements: List[Tuple[np.ndarray, int, int]] = []
    pen_x = 0.0
    for glyph, gap in sequence:
        advance = widest if monospace else glyph.advance
        centring = (advance - glyph.advance) / 2 if monospace else 0.0
        x = int(round(pen_x + centring + glyph.left + rng.uniform(-jitter_x, jitter_x)))
        y = int(round(glyph.top + rng.uniform(-jitter_y, jitter_y)))
        mask = glyph.mask
        if tilt:
            turned = Image.fromarray(mask).rotate(rng.uniform(-tilt, tilt), Image.Resampling.BILINEAR, expand=True)
            x -= (turned.width - mask.shape[1]) // 2
            y -= (turned.height - mask.shape[0]) // 2
            mask = np.asarray(turned)
        placements.append((mask, x, y))
        pen_x += advance + tracking + gap
    x0 = min(x for _, x, _ in placements)
    y0 = min(y for _, _, y in placements)
    x1 = max(x + mask.shape[1] for mask, x, _ in placements)
    y1 = max(y + mask.shape[0] for mask, _, y in placements)
    margin_x, margin_y = int(np.ceil(cap * _MARGIN_X)), int(np.ceil(cap * _MARGIN_Y))
    canvas = np.zeros((y1 - y0 + 2 * margin_y, x1 - x0 + 2 * margin_x), dtype=np.float32)
    for mask, x, y in placements:
        top, left = y - y0 + margin_y, x - x0 + margin_x
        region = canvas[top : top + mask.shape[0], left : left + mask.shape[1]]
        np.maximum(region, mask * (1.0 / 255.0), out=region)
    return canvas, (margin_x, margin_y, margin_x + x1 - x0, margin_y + y1 - y0)


def _wear(mask: np.ndarray, box: Tuple[int, int, int, int], rng: random.Random, np_rng: np.random.Generator) -> np.ndarray:
    """Ink that did not take: a worn ribbon or dirty die (speckled gaps), or a dead thermal
    print-head dot (a thin blank line through every character)."""
    roll = rng.random()
    if roll < 0.08:
        return mask * (np_rng.random(mask.shape, dtype=np.float32) > rng.uniform(0.05, 0.3))
    if roll < 0.13:
        _, top, _, bottom = box
        worn = mask.copy()
        for _ in range(rng.randint(1, 2)):
            row = rng.randint(top + 1, max(top + 1, bottom - 2))
            worn[row : row + 1] = 0.0
        return worn
    return mask


def _spread(mask: np.ndarray, combine: Callable[..., np.ndarray]) -> np.ndarray:
    """3×3 dilation (np.maximum) or erosion (np.minimum), separably; far faster than PIL's rank filter."""
    rows = mask.copy()
    combine(rows[:, 1:], mask[:, :-1], out=rows[:, 1:])
    combine(rows[:, :-1], mask[:, 1:], out=rows[:, :-1])
    result = rows.copy()
    combine(result[1:], rows[:-1], out=result[1:])
    combine(result[:-1], rows[1:], out=result[:-1])
    return result


def _stroke_weight(mask: np.ndarray, cap: int, rng: random.Random) -> np.ndarray:
    """Bolder or lighter strokes than the face's own (one typeface, many printers and dies)."""
    roll = rng.random()
    if roll < 0.2:
        mask = _spread(mask, np.maximum)
        return _spread(mask, np.maximum) if cap >= 28 and rng.random() < 0.5 else mask
    if roll < 0.3 and cap >= 24:
        return _spread(mask, np.minimum)
    return mask


# --------------------------------------------------------------------------------------------
# Clutter drawn around the text before the geometry, so it bends with the plate.


def _draw_clutter(mask: np.ndarray, box: Tuple[int, int, int, int], cap: int, rng: random.Random, printed: bool) -> np.ndarray:
    """Another mask with things that are not the VIN: barcode, rules, frame, rivets, small print."""
    height, width = mask.shape
    x0, y0, x1, y1 = box
    layer = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(layer)
    drew = False
    if printed and rng.random() < 0.45:  # barcode band above or below, as on door-jamb labels
        band = int(cap * rng.uniform(0.5, 1.1))
        gap = int(cap * rng.uniform(0.25, 0.6))
        top = y0 - gap - band if rng.random() < 0.5 else y1 + gap
        x = x0 + rng.randint(-cap // 2, cap // 2)
        end = x1 + rng.randint(-cap // 2, cap // 2)
        while x < end:
            bar = rng.choice((1, 1, 2, 3))
            draw.rectangle((x, top, x + bar - 1, top + band), fill=255)
            x += bar + rng.choice((1, 2, 2, 3))
        drew = True
    if rng.random() < 0.2:  # horizontal rules of a form or plate edge
        for _ in range(rng.randint(1, 2)):
            y = y0 - int(cap * rng.uniform(0.3, 0.7)) if rng.random() < 0.5 else y1 + int(cap * rng.uniform(0.3, 0.7))
            draw.line((0, y, width, y), fill=255, width=rng.randint(1, 2))
        drew = True
    if rng.random() < 0.1:  # a frame around the number
        pad = int(cap * rng.uniform(0.25, 0.5))
        draw.rectangle((x0 - pad, y0 - pad, x1 + pad, y1 + pad), outline=255, width=rng.randint(1, 2))
        drew = True
    if not printed and rng.random() < 0.2:  # rivets holding a plate
        radius = int(cap * rng.uniform(0.15, 0.3))
        cy = (y0 + y1) // 2
        for cx in (x0 - int(cap * 0.6), x1 + int(cap * 0.6)):
            draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=255, width=2)
        drew = True
    if printed and rng.random() < 0.15:  # small print (model names, dates) well away from the VIN
        small = max(4, cap // 3)
        y = y0 - int(cap * 0.55) - small if rng.random() < 0.5 else y1 + int(cap * 0.55)
        x = x0 + rng.randint(0, cap)
        for _ in range(rng.randint(6, 20)):
            w = int(small * rng.uniform(0.4, 0.7))
            draw.rectangle((x, y, x + w, y + small), fill=255 if rng.random() < 0.5 else 0, outline=255)
            x += w + max(1, small // 3)
        drew = True
    if not drew:
        return np.zeros_like(mask)
    return np.asarray(layer, dtype=np.float32) / 255.0


# --------------------------------------------------------------------------------------------
# Geometry: the crop, then stretch, slant, rotation and perspective in one projective transform.


def _solve_homography(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Coefficients (a..h) mapping `source` points onto `target` points, as PIL's PERSPECTIVE wants."""
    rows: list[tuple[float, ...]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(source, target):
        rows.append((x, y, 1, 0, 0, 0, -u * x, -u * y))
        rows.append((0, 0, 0, x, y, 1, -v * x, -v * y))
        rhs.extend((u, v))
    return np.linalg.solve(np.asarray(rows, dtype=np.float64), np.asarray(rhs, dtype=np.float64))


def _crop_box(text_box: Tuple[int, int, int, int], shape: Tuple[int, int], cap: float, rng: random.Random) -> Tuple[int, int, int, int]:
    """Margins from tight (a detector's crop) to generous (a photo of the plate), never cutting text."""
    height, width = shape
    x0, y0, x1, y1 = text_box
    tight = rng.random() < 0.4
    side = (0.03, 0.3) if tight else (0.2, _MARGIN_X)
    top = (0.03, 0.2) if tight else (0.15, _MARGIN_Y)
    left = max(0, int(x0 - cap * rng.uniform(*side)))
    right = min(width, int(np.ceil(x1 + cap * rng.uniform(*side))))
    upper = max(0, int(y0 - cap * rng.uniform(*top)))
    lower = min(height, int(np.ceil(y1 + cap * rng.uniform(*top))))
    return left, upper, max(right, left + 1), max(lower, upper + 1)


def _warp(layers: Sequence[np.ndarray], cap: int, rng: random.Random) -> List[np.ndarray]:
    """The (already cropped) layers under one random projective transform: stretch, slant,
    rotation and perspective. The output is the warped crop's bounding box; corners the crop
    does not reach are simply empty (the surface paints background there)."""
    height, width = layers[0].shape
    stretch = float(np.exp(rng.uniform(np.log(0.7), np.log(1.35))))
    shear = rng.uniform(-0.25, 0.25) if rng.random() < 0.25 else rng.uniform(-0.05, 0.05)
    angle = np.radians(rng.uniform(-6, 6) if rng.random() < 0.15 else rng.uniform(-2, 2))
    cos, sin = np.cos(angle), np.sin(angle)
    corners = np.array([(0, 0), (width, 0), (width, height), (0, height)], dtype=np.float64)
    shifted = corners - corners.mean(axis=0)
    affine = np.array([[stretch, -shear], [0.0, 1.0]])
    rotation = np.array([[cos, -sin], [sin, cos]])
    moved = shifted @ affine.T @ rotation.T
    if rng.random() < 0.5:  # perspective: corners pushed independently (a plate seen at an angle)
        moved += np.array([[rng.uniform(-0.04, 0.04) * width, rng.uniform(-0.1, 0.1) * cap] for _ in range(4)])
    moved -= moved.min(axis=0)
    out_width, out_height = (max(2, int(np.ceil(value))) for value in moved.max(axis=0))
    inverse = _solve_homography(moved, corners)  # PIL maps output pixels back to input pixels

    warped = []
    for layer in layers:
        if not layer.any():
            warped.append(np.zeros((out_height, out_width), dtype=np.float32))
            continue
        image = Image.fromarray((layer * 255).astype(np.uint8))
        result = image.transform((out_width, out_height), Image.Transform.PERSPECTIVE, tuple(inverse), Image.Resampling.BILINEAR)
        warped.append(np.asarray(result, dtype=np.float32) / 255.0)
    return warped


# --------------------------------------------------------------------------------------------
# Surfaces: how ink, paint or a die turns a mask into pixels.


def _low_frequency(shape: Tuple[int, int], np_rng: np.random.Generator, cells: Tuple[int, int] = (3, 6)) -> np.ndarray:
    """Smooth random field in -1..1 (stains, uneven paint, lighting)."""
    coarse = (np_rng.random(cells, dtype=np.float32) * 255).astype(np.uint8)
    field = Image.fromarray(coarse).resize((shape[1], shape[0]), Image.Resampling.BICUBIC)
    return np.asarray(field, dtype=np.float32) / 127.5 - 1.0


def _brushed(shape: Tuple[int, int], np_rng: np.random.Generator, strength: float) -> np.ndarray:
    """Streaks along one direction, like brushed or rolled metal."""
    height, width = shape
    coarse = (np_rng.random((height, max(2, width // 24)), dtype=np.float32) * 255).astype(np.uint8)
    streaks = np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)
    return (streaks / 127.5 - 1.0) * strength


def _printed_label(mask, clutter, cap, rng, np_rng):
    shape = mask.shape
    paper = rng.uniform(185, 250)
    ink = rng.uniform(0, 70)
    background = paper + _low_frequency(shape, np_rng) * rng.uniform(0, 12)
    ink_layer = np.maximum(mask, clutter)
    return background + (ink - background) * ink_layer * rng.uniform(0.8, 1.0)


def _plain_document(mask, clutter, cap, rng, np_rng):
    paper = rng.uniform(215, 255)
    ink = rng.uniform(0, 60)
    return paper + (ink - paper) * np.maximum(mask, clutter * 0.8)


def _dark_plate(mask, clutter, cap, rng, np_rng):
    shape = mask.shape
    base = rng.uniform(5, 70)
    text = rng.uniform(max(base + 70, 140), 255)
    background = base + _low_frequency(shape, np_rng) * rng.uniform(0, 15)
    return background + (text - background) * np.maximum(mask, clutter * rng.uniform(0.4, 0.9))


def _metal_background(shape, rng, np_rng) -> Tuple[np.ndarray, float]:
    """Metal texture, and its mean tone (ink must stand apart from it)."""
    base = rng.uniform(70, 200)
    background = base + _low_frequency(shape, np_rng) * rng.uniform(5, 25)
    if rng.random() < 0.7:
        background = background + _brushed(shape, np_rng, rng.uniform(4, 18))
    return background, base


def _emboss(mask: np.ndarray, cap: int, rng: random.Random) -> np.ndarray:
    """Light and shadow on the edges of raised or pressed-in characters (a light from one side)."""
    if rng.random() < 0.35:  # crisp die, hard light: only thin outlines show, nearly hollow letters
        radius, shift = rng.uniform(0.4, 0.8), 1
    else:
        radius = max(0.6, cap * rng.uniform(0.02, 0.06))
        shift = max(1, int(round(cap * rng.uniform(0.03, 0.08))))
    soft = np.asarray(Image.fromarray((mask * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32) / 255.0
    dy, dx = rng.choice(((shift, shift), (shift, 0), (0, shift), (shift, -shift)))
    moved = np.roll(soft, (dy, dx), axis=(0, 1))
    relief = soft - moved  # positive on edges facing the light, negative on the far side
    # Normalised, so thin strokes (whose blurred edges are faint) stay as visible as bold ones.
    return relief / max(float(np.abs(relief).max()), 0.05)


def _stamped_metal(mask, clutter, cap, rng, np_rng):
    background, _ = _metal_background(mask.shape, rng, np_rng)
    relief = _emboss(np.maximum(mask, clutter), cap, rng) * rng.uniform(60, 120) * rng.choice((1, -1))
    # The stamped face may catch light differently from the plate, or exactly like it (edges only).
    interior = rng.uniform(-35, 35) * mask if rng.random() < 0.6 else 0.0
    return background + relief + interior


def _engraved(mask, clutter, cap, rng, np_rng):
    background, base = _metal_background(mask.shape, rng, np_rng)
    dark = base > 120 or rng.random() < 0.5
    tone = max(0.0, base - rng.uniform(60, 140)) if dark else min(255.0, base + rng.uniform(60, 140))
    rough = 1.0 - np_rng.random(mask.shape, dtype=np.float32) * rng.uniform(0.0, 0.5)
    ink = np.maximum(mask, clutter) * rough
    return background + (tone - background) * ink


Surface = Callable[[np.ndarray, np.ndarray, int, random.Random, np.random.Generator], np.ndarray]
SURFACES: Tuple[Tuple[str, Surface, float, bool], ...] = (
    # name, painter, weight, printed (paper-like clutter) or plate (rivets)
    ("printed_label", _printed_label, 0.25, True),
    ("plain_document", _plain_document, 0.12, True),
    ("dark_plate", _dark_plate, 0.18, False),
    ("stamped_metal", _stamped_metal, 0.25, False),
    ("engraved_metal", _engraved, 0.2, False),
)


# --------------------------------------------------------------------------------------------
# Camera: light, blur, noise, resolution and compression.


class _Budget:
    """How many severe degradations one image may stack. Each alone is realistic; glare, shadow,
    heavy blur, low resolution and harsh JPEG all at once make an image nobody can read, whose
    label only teaches the model noise."""

    def __init__(self, rng: Optional[random.Random]):
        self.left = rng.choice((1, 2, 2, 3)) if rng is not None else 0

    def allow(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


def _lighting(image: np.ndarray, cap: int, rng: random.Random, budget: _Budget) -> np.ndarray:
    height, width = image.shape
    if rng.random() < 0.5:  # a light gradient across the plate
        direction = rng.uniform(0, 2 * np.pi)
        ys, xs = np.ogrid[0:height, 0:width]
        ramp = np.cos(direction) * xs / max(1, width) + np.sin(direction) * ys / max(1, height)
        image = image * (1.0 + rng.uniform(-0.45, 0.45) * (ramp - ramp.mean()))
    if rng.random() < 0.2 and budget.allow():  # glare: a bright soft spot that washes contrast out
        ys, xs = np.ogrid[0:height, 0:width]
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        sx, sy = rng.uniform(0.5, 3.0) * cap, rng.uniform(0.4, 1.5) * cap
        spot = np.exp(-(((xs - cx) / sx) ** 2 + ((ys - cy) / sy) ** 2))
        image = image + spot * rng.uniform(40, 110)
    if rng.random() < 0.15 and budget.allow():  # a shadow over part of the plate
        cut = rng.uniform(0.2, 0.8) * width
        xs = np.arange(width, dtype=np.float32)
        soft = np.clip((xs - cut) / max(1.0, cap * rng.uniform(0.2, 1.0)), 0, 1)
        if rng.random() < 0.5:
            soft = 1 - soft
        image = image * (1 - soft * rng.uniform(0.15, 0.45))[None, :]
    return image


def _scratches(image: np.ndarray, cap: int, rng: random.Random) -> np.ndarray:
    """Thin scratches and a small smudge: light occlusion a reader must see through."""
    height, width = image.shape
    picture = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    for _ in range(rng.randint(1, 4)):
        x0, y0 = rng.uniform(0, width), rng.uniform(0, height)
        length, angle = rng.uniform(0.5, 3) * cap, rng.uniform(-0.6, 0.6)
        x1, y1 = x0 + length * np.cos(angle), y0 + length * np.sin(angle)
        draw.line((x0, y0, x1, y1), fill=int(rng.uniform(0, 255)), width=1)
    if rng.random() < 0.3:
        cx, cy = rng.uniform(0, width), rng.choice((0, height))
        r = cap * rng.uniform(0.1, 0.25)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=int(rng.uniform(0, 255)))
    return np.asarray(picture, dtype=np.float32)


def _camera(image: np.ndarray, cap: int, rng: random.Random, np_rng: np.random.Generator, budget: _Budget) -> Image.Image:
    image = _lighting(image, cap, rng, budget)
    if rng.random() < 0.12:
        image = _scratches(image, cap, rng)
    picture = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8))
    roll = rng.random()
    if roll < 0.45:
        radius = rng.uniform(0.3, 0.045 * cap + 0.4)
        mild = 0.025 * cap + 0.5
        if radius > mild and not budget.allow():
            radius = mild
        picture = picture.filter(ImageFilter.GaussianBlur(radius))
    elif roll < 0.55:  # motion blur along the line of text
        size = rng.choice((3, 5))
        kernel = [0.0] * (size * size)
        for column in range(size):
            kernel[(size // 2) * size + column] = 1.0
        picture = picture.filter(ImageFilter.Kernel((size, size), kernel, scale=size))
    if rng.random() < 0.3:  # low resolution: a distant or cheap camera
        factor = rng.uniform(0.3, 0.7)
        if factor < 0.5 and not budget.allow():
            factor = 0.5
        small = (max(8, int(picture.width * factor)), max(4, int(picture.height * factor)))
        resample = rng.choice((Image.Resampling.BILINEAR, Image.Resampling.NEAREST, Image.Resampling.BICUBIC))
        picture = picture.resize(small, resample).resize(picture.size, Image.Resampling.BILINEAR)
    if rng.random() < 0.7:
        pixels = np.asarray(picture, dtype=np.float32)
        sigma = rng.uniform(2, 18)
        if sigma > 10 and not budget.allow():
            sigma = 10.0
        pixels = pixels + np_rng.standard_normal(pixels.shape, dtype=np.float32) * sigma
        if rng.random() < 0.3 and budget.allow():  # contrast squeezed (dim light, worn paint)
            low, high = rng.uniform(0, 90), rng.uniform(160, 255)
            pixels = low + pixels * (high - low) / 255.0
        picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if rng.random() < 0.4:
        buffer = io.BytesIO()
        quality = rng.randint(12, 85)
        if quality < 35 and not budget.allow():
            quality = 35
        picture.save(buffer, format="JPEG", quality=quality)
        buffer.seek(0)
        picture = Image.open(buffer)
        picture.load()
    return picture


# --------------------------------------------------------------------------------------------
# Legibility: every image must still show every character.

LEGIBLE_SCORE = 1.0
REPAINTS = 3  # after these the render is kept as it is (under 1 in 100), so the cost stays bounded
_BANDS = 17


def legibility(picture: Image.Image, mask: np.ndarray, height: int = 32) -> float:
    """How well the faintest character stands out at model resolution (`height` pixels).

    The text is cut into 17 column bands; in each, the mean distance of the ink that shows (see
    `_visible_means`) from the background's mean is divided by the background's spread (its mean
    absolute deviation scaled to a standard deviation, plus 3 grey levels). Blur, washed-out contrast, a glare spot or noise over a
    character lower its band's figure; clutter beside the text does not. The image scores its
    worst band: one lost character is enough to make the label unlearnable. Embossed strokes
    count as ink whether they catch light or shadow, because the distance is absolute.
    Vectorised per band (bincount): it runs on every render, so it must cost a fraction of one.
    """
    pixels = np.asarray(picture, dtype=np.float32)
    width = max(_BANDS, round(pixels.shape[1] * height / max(1, pixels.shape[0])))
    image = np.asarray(Image.fromarray(pixels).resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)
    ink = np.asarray(Image.fromarray(mask * 255.0).resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0
    # Ink is what covers at least half as much of a pixel as the boldest stroke does: a hairline
    # font covers under half of any pixel at model resolution, and is still ink.
    peak = float(ink.max())
    if peak < 0.1:
        return 0.0
    columns = np.flatnonzero(ink.max(axis=0) > peak / 2)
    left, right = columns[0], columns[-1] + 1
    rows = np.flatnonzero(ink[:, left:right].max(axis=1) > peak / 2)
    region, region_ink = image[rows[0] : rows[-1] + 1, left:right], ink[rows[0] : rows[-1] + 1, left:right]
    bands = np.broadcast_to(np.arange(right - left) * _BANDS // (right - left), region.shape)
    strokes, ground = region_ink > peak / 2, region_ink < 0.05
    ground_bands, ground_values = bands[ground], region[ground]
    ground_count = np.bincount(ground_bands, minlength=_BANDS)
    stroke_count = np.bincount(bands[strokes], minlength=_BANDS)
    usable = (ground_count >= 2) & (stroke_count >= 2)  # not a gap between groups, not all ink
    if not usable.any():
        return 0.0
    level = np.bincount(ground_bands, ground_values, _BANDS) / np.maximum(ground_count, 1)
    spread = np.bincount(ground_bands, np.abs(ground_values - level[ground_bands]), _BANDS) / np.maximum(ground_count, 1)
    stroke_bands = bands[strokes]
    distance = _visible_means(stroke_bands, np.abs(region[strokes] - level[stroke_bands]), stroke_count)
    return float(np.min(distance[usable] / (spread[usable] * 1.2533 + 3.0)))


def _visible_means(bands: np.ndarray, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per band, the mean of the `values` at or above the band's mean: the part of a stroke that
    shows. A stamped character shows only on its lit and shaded edges, its face as grey as the
    plate; a mean over the whole stroke called 57 % of stamped plates illegible, people read most."""
    means = np.bincount(bands, values, _BANDS) / np.maximum(counts, 1)
    upper = values >= means[bands]
    return np.bincount(bands[upper], values[upper], _BANDS) / np.maximum(np.bincount(bands[upper], minlength=_BANDS), 1)


# --------------------------------------------------------------------------------------------
# Public API.


def render_vin(vin: str, rng: random.Random, fonts: Optional[Sequence[str]] = None) -> Image.Image:
    """One realistic image of `vin` (mode "L", roughly 16–90 px tall, as wide as the text needs).

    `fonts` restricts the typeface families used (names from `font_families()`, e.g. the training
    side of `split_font_families()`); None uses every family on the machine.
    """
    if len(vin) != VIN_LENGTH or any(char not in ALPHABET for char in vin):
        raise ValueError(f"render_vin needs a 17-character VIN from the VIN alphabet, got {vin!r}")
    face = _choose_face(rng, fonts)
    cap = rng.choice(CAP_HEIGHTS)
    np_rng = np.random.default_rng(rng.getrandbits(64))
    mask, box = _layout_text(vin, face, cap, rng)
    mask = _wear(_stroke_weight(mask, cap, rng), box, rng, np_rng)
    weights = [weight for _, _, weight, _ in SURFACES]
    surface, paint, _, printed = rng.choices(SURFACES, weights=weights)[0]
    budget = _Budget(rng)
    if surface == "stamped_metal":
        budget.allow()  # relief alone is already low contrast: leave room for less on top
    clutter = _draw_clutter(mask, box, cap, rng, printed)
    left, top, right, bottom = _crop_box(box, mask.shape, cap, rng)
    mask, clutter = _warp((mask[top:bottom, left:right], clutter[top:bottom, left:right]), cap, rng)
    painted = paint(mask, clutter, cap, rng, np_rng)
    picture = _camera(painted, cap, rng, np_rng, budget)
    for _ in range(REPAINTS):
        if legibility(picture, mask) >= LEGIBLE_SCORE:
            break
        # A character was lost, and its label would only teach noise. The surface loses it as
        # often as the camera does (faint relief on brushed metal; a second photo alone rescued
        # none of 240 such renders), so paint the plate again (same kind of surface, new draw)
        # and photograph it without the severe effects.
        painted = paint(mask, clutter, cap, rng, np_rng)
        picture = _camera(painted, cap, rng, np_rng, _Budget(None))
    return picture


def _sample_rng(seed: int, space: str, worker: int, index: int) -> random.Random:
    # A string seed is hashed (SHA-512) by `random`, so nearby seeds and indices give unrelated streams.
    return random.Random(f"vin-ocr/{space}/{seed}/{worker}/{index}")


def _render_sample(
    seed: int, space: str, worker: int, index: int, height: int, width: int, north_american_ratio: float, fonts: Optional[Sequence[str]]
) -> Tuple[np.ndarray, str]:
    rng = _sample_rng(seed, space, worker, index)
    vin = random_vin(rng, north_american=rng.random() < north_american_ratio)
    return to_model_input(render_vin(vin, rng, fonts), height, width), vin


def _check_ratio(north_american_ratio: float) -> None:
    if not 0.0 <= north_american_ratio <= 1.0:
        raise ValueError(f"north_american_ratio must lie in 0..1, got {north_american_ratio}")


class SyntheticStream(_IterableBase):
    """An endless stream of `(float32 array [height, width], vin)` for a torch DataLoader.

    Each DataLoader worker renders its own share: sample k of worker w depends only on
    (seed, w, k), so a run is reproducible for a given seed and worker count, and `start`
    skips the first samples of every worker (for resuming mid-stream).
    """

    def __init__(
        self, seed: int, height: int, width: int, north_american_ratio: float = 0.6, fonts: Optional[Sequence[str]] = None, start: int = 0
    ):
        _check_ratio(north_american_ratio)
        faces_for(fonts)  # fail now, in the parent process, on an unknown family
        self.seed = seed
        self.height = height
        self.width = width
        self.north_american_ratio = north_american_ratio
        self.fonts = list(fonts) if fonts is not None else None
        self.start = start

    def __iter__(self) -> Iterator[Tuple[np.ndarray, str]]:
        info = _worker_info()
        worker = info.id if info is not None else 0
        index = self.start
        while True:
            yield _render_sample(self.seed, "stream", worker, index, self.height, self.width, self.north_american_ratio, self.fonts)
            index += 1


def synthetic_split(
    seed: int, size: int, height: int, width: int, north_american_ratio: float = 0.6, fonts: Optional[Sequence[str]] = None
) -> List[Tuple[np.ndarray, str]]:
    """A fixed, pre-rendered held-out set: the same seed gives the same images, and none of them
    comes from `SyntheticStream` (a separate seed space), so it measures generalisation."""
    _check_ratio(north_american_ratio)
    if size < 0:
        raise ValueError(f"size must not be negative, got {size}")
    return [_render_sample(seed, "heldout", 0, index, height, width, north_american_ratio, fonts) for index in range(size)]
