"""Typefaces drawn from geometry rather than font files: the marks stamping machines make.

Real VIN plates are often dot-peened (5×7 dot matrices), stamped with single-stroke dies, or
printed in segment or stencil styles that no desktop font resembles. Each face here draws one
character at a requested cap height as a greyscale mask (0 = empty, 255 = ink).
"""

from __future__ import annotations

import math
from typing import Callable, Dict, List, Sequence, Tuple

from PIL import Image, ImageDraw

Point = Tuple[float, float]
Stroke = Sequence[Point]

# 5×7 dot-matrix bitmaps (rows top to bottom, "1" = dot), the layout dot-peen markers use.
DOT_MATRIX_5X7: Dict[str, Tuple[str, ...]] = {
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11111", "00010", "00100", "00010", "00001", "10001", "01110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
    "A": ("01110", "10001", "10001", "11111", "10001", "10001", "10001"),
    "B": ("11110", "10001", "10001", "11110", "10001", "10001", "11110"),
    "C": ("01110", "10001", "10000", "10000", "10000", "10001", "01110"),
    "D": ("11100", "10010", "10001", "10001", "10001", "10010", "11100"),
    "E": ("11111", "10000", "10000", "11110", "10000", "10000", "11111"),
    "F": ("11111", "10000", "10000", "11110", "10000", "10000", "10000"),
    "G": ("01110", "10001", "10000", "10111", "10001", "10001", "01111"),
    "H": ("10001", "10001", "10001", "11111", "10001", "10001", "10001"),
    "J": ("00111", "00010", "00010", "00010", "00010", "10010", "01100"),
    "K": ("10001", "10010", "10100", "11000", "10100", "10010", "10001"),
    "L": ("10000", "10000", "10000", "10000", "10000", "10000", "11111"),
    "M": ("10001", "11011", "10101", "10101", "10001", "10001", "10001"),
    "N": ("10001", "10001", "11001", "10101", "10011", "10001", "10001"),
    "P": ("11110", "10001", "10001", "11110", "10000", "10000", "10000"),
    "R": ("11110", "10001", "10001", "11110", "10100", "10010", "10001"),
    "S": ("01111", "10000", "10000", "01110", "00001", "00001", "11110"),
    "T": ("11111", "00100", "00100", "00100", "00100", "00100", "00100"),
    "U": ("10001", "10001", "10001", "10001", "10001", "10001", "01110"),
    "V": ("10001", "10001", "10001", "10001", "10001", "01010", "00100"),
    "W": ("10001", "10001", "10001", "10101", "10101", "10101", "01010"),
    "X": ("10001", "10001", "01010", "00100", "01010", "10001", "10001"),
    "Y": ("10001", "10001", "01010", "00100", "00100", "00100", "00100"),
    "Z": ("11111", "00001", "00010", "00100", "01000", "10000", "11111"),
}

# Single-stroke glyphs (polylines on a 4-wide, 6-tall grid, y downwards): the shape of
# continuous-path scribing and of many stamping dies.
STROKES: Dict[str, Tuple[Stroke, ...]] = {
    "0": (((0, 1), (1, 0), (3, 0), (4, 1), (4, 5), (3, 6), (1, 6), (0, 5), (0, 1)),),
    "1": (((1, 1), (2, 0), (2, 6)), ((1, 6), (3, 6))),
    "2": (((0, 1), (1, 0), (3, 0), (4, 1), (4, 2), (0, 6), (4, 6)),),
    "3": (((0, 0), (4, 0), (2, 2.5), (3, 2.5), (4, 3.5), (4, 5), (3, 6), (1, 6), (0, 5)),),
    "4": (((3, 6), (3, 0), (0, 4), (4, 4)),),
    "5": (((4, 0), (0, 0), (0, 2.5), (3, 2.5), (4, 3.5), (4, 5), (3, 6), (0, 6)),),
    "6": (((3, 0), (1, 0), (0, 1), (0, 5), (1, 6), (3, 6), (4, 5), (4, 3.5), (3, 2.5), (0, 2.5)),),
    "7": (((0, 0), (4, 0), (1.5, 6)),),
    "8": (
        ((1, 0), (3, 0), (4, 1), (4, 2), (3, 3), (1, 3), (0, 2), (0, 1), (1, 0)),
        ((1, 3), (0, 4), (0, 5), (1, 6), (3, 6), (4, 5), (4, 4), (3, 3)),
    ),
    "9": (((4, 3.5), (1, 3.5), (0, 2.5), (0, 1), (1, 0), (3, 0), (4, 1), (4, 5), (3, 6), (1, 6)),),
    "A": (((0, 6), (2, 0), (4, 6)), ((0.7, 4), (3.3, 4))),
    "B": (((0, 0), (0, 6), (3, 6), (4, 5), (4, 4), (3, 3), (0, 3)), ((0, 0), (3, 0), (4, 1), (4, 2), (3, 3))),
    "C": (((4, 1), (3, 0), (1, 0), (0, 1), (0, 5), (1, 6), (3, 6), (4, 5)),),
    "D": (((0, 0), (0, 6), (2.5, 6), (4, 4.5), (4, 1.5), (2.5, 0), (0, 0)),),
    "E": (((4, 0), (0, 0), (0, 6), (4, 6)), ((0, 3), (3, 3))),
    "F": (((4, 0), (0, 0), (0, 6)), ((0, 3), (3, 3))),
    "G": (((4, 1), (3, 0), (1, 0), (0, 1), (0, 5), (1, 6), (3, 6), (4, 5), (4, 3.5), (2.5, 3.5)),),
    "H": (((0, 0), (0, 6)), ((4, 0), (4, 6)), ((0, 3), (4, 3))),
    "J": (((1.5, 0), (4, 0)), ((3, 0), (3, 5), (2, 6), (1, 6), (0, 5))),
    "K": (((0, 0), (0, 6)), ((4, 0), (0, 3.5)), ((1.3, 2.6), (4, 6))),
    "L": (((0, 0), (0, 6), (4, 6)),),
    "M": (((0, 6), (0, 0), (2, 3.5), (4, 0), (4, 6)),),
    "N": (((0, 6), (0, 0), (4, 6), (4, 0)),),
    "P": (((0, 6), (0, 0), (3, 0), (4, 1), (4, 2), (3, 3), (0, 3)),),
    "R": (((0, 6), (0, 0), (3, 0), (4, 1), (4, 2), (3, 3), (0, 3)), ((2, 3), (4, 6))),
    "S": (((4, 1), (3, 0), (1, 0), (0, 1), (0, 2), (1, 3), (3, 3), (4, 4), (4, 5), (3, 6), (1, 6), (0, 5)),),
    "T": (((0, 0), (4, 0)), ((2, 0), (2, 6))),
    "U": (((0, 0), (0, 5), (1, 6), (3, 6), (4, 5), (4, 0)),),
    "V": (((0, 0), (2, 6), (4, 0)),),
    "W": (((0, 0), (1, 6), (2, 2.5), (3, 6), (4, 0)),),
    "X": (((0, 0), (4, 6)), ((4, 0), (0, 6))),
    "Y": (((0, 0), (2, 3), (4, 0)), ((2, 3), (2, 6))),
    "Z": (((0, 0), (4, 0), (0, 6), (4, 6)),),
}

# Fourteen-segment display: segment endpoints on the same 4×6 grid, and which segments light per character.
_SEGMENTS: Dict[str, Tuple[Point, Point]] = {
    "a": ((0, 0), (4, 0)),
    "b": ((4, 0), (4, 3)),
    "c": ((4, 3), (4, 6)),
    "d": ((0, 6), (4, 6)),
    "e": ((0, 3), (0, 6)),
    "f": ((0, 0), (0, 3)),
    "g1": ((0, 3), (2, 3)),
    "g2": ((2, 3), (4, 3)),
    "h": ((0, 0), (2, 3)),
    "i": ((2, 0), (2, 3)),
    "j": ((4, 0), (2, 3)),
    "k": ((2, 3), (0, 6)),
    "l": ((2, 3), (2, 6)),
    "m": ((2, 3), (4, 6)),
}
FOURTEEN_SEGMENT: Dict[str, Tuple[str, ...]] = {
    "0": ("a", "b", "c", "d", "e", "f", "j", "k"),
    "1": ("b", "c", "j"),
    "2": ("a", "b", "g1", "g2", "e", "d"),
    "3": ("a", "b", "c", "d", "g2"),
    "4": ("f", "g1", "g2", "b", "c"),
    "5": ("a", "f", "g1", "g2", "c", "d"),
    "6": ("a", "f", "e", "d", "c", "g1", "g2"),
    "7": ("a", "b", "c"),
    "8": ("a", "b", "c", "d", "e", "f", "g1", "g2"),
    "9": ("a", "b", "c", "d", "f", "g1", "g2"),
    "A": ("a", "b", "c", "e", "f", "g1", "g2"),
    "B": ("a", "b", "c", "d", "i", "l", "g2"),
    "C": ("a", "d", "e", "f"),
    "D": ("a", "b", "c", "d", "i", "l"),
    "E": ("a", "d", "e", "f", "g1"),
    "F": ("a", "e", "f", "g1"),
    "G": ("a", "c", "d", "e", "f", "g2"),
    "H": ("b", "c", "e", "f", "g1", "g2"),
    "J": ("b", "c", "d", "e"),
    "K": ("e", "f", "g1", "j", "m"),
    "L": ("d", "e", "f"),
    "M": ("b", "c", "e", "f", "h", "j"),
    "N": ("b", "c", "e", "f", "h", "m"),
    "P": ("a", "b", "e", "f", "g1", "g2"),
    "R": ("a", "b", "e", "f", "g1", "g2", "m"),
    "S": ("a", "h", "g2", "c", "d"),
    "T": ("a", "i", "l"),
    "U": ("b", "c", "d", "e", "f"),
    "V": ("e", "f", "k", "j"),
    "W": ("b", "c", "e", "f", "k", "m"),
    "X": ("h", "j", "k", "m"),
    "Y": ("h", "j", "l"),
    "Z": ("a", "j", "k", "d"),
}

GRID_WIDTH = 4.0
GRID_HEIGHT = 6.0
# Supersampling: shapes are drawn this many times larger and shrunk, which anti-aliases them.
_SUPERSAMPLE = 2


class ProceduralFace:
    """One procedural typeface variant: draws a character's mask at a cap height in pixels."""

    def __init__(self, family: str, name: str, draw: Callable[[ImageDraw.ImageDraw, str, float, float], None], aspect: float, pad: float):
        self.family = family
        self.name = name
        self._draw = draw
        self.aspect = aspect  # glyph width / cap height
        self.pad = pad  # ink may reach this far (in cap heights) beyond the grid: round dots, thick strokes

    def glyph(self, char: str, cap_height: int) -> Image.Image:
        scale = cap_height * _SUPERSAMPLE
        pad = int(math.ceil(self.pad * scale)) + 1
        width = int(round(self.aspect * scale)) + 2 * pad
        height = scale + 2 * pad
        canvas = Image.new("L", (width, height), 0)
        self._draw(ImageDraw.Draw(canvas), char, scale, pad)
        return canvas.resize((max(1, width // _SUPERSAMPLE), max(1, height // _SUPERSAMPLE)), Image.Resampling.BILINEAR)


def _grid_mapper(scale: float, pad: float, aspect: float, italic: float = 0.0) -> Callable[[Point], Point]:
    unit_x = aspect * scale / GRID_WIDTH
    unit_y = scale / GRID_HEIGHT

    def to_pixels(point: Point) -> Point:
        x, y = point
        return pad + x * unit_x + italic * (GRID_HEIGHT - y) * unit_y, pad + y * unit_y

    return to_pixels


def _dot_matrix(dot_ratio: float, square: bool, aspect: float):
    def draw(canvas: ImageDraw.ImageDraw, char: str, scale: float, pad: float) -> None:
        rows = DOT_MATRIX_5X7[char]
        pitch_x = aspect * scale / 4.0  # five columns → four gaps between centres
        pitch_y = scale / 6.0  # seven rows → six gaps
        radius = dot_ratio * min(pitch_x, pitch_y) / 2.0
        for row_index, row in enumerate(rows):
            for column_index, bit in enumerate(row):
                if bit != "1":
                    continue
                cx = pad + column_index * pitch_x
                cy = pad + row_index * pitch_y
                box = (cx - radius, cy - radius, cx + radius, cy + radius)
                if square:
                    canvas.rectangle(box, fill=255)
                else:
                    canvas.ellipse(box, fill=255)

    return draw


def _polyline_strokes(char_strokes: Sequence[Stroke], to_pixels: Callable[[Point], Point]) -> List[List[Point]]:
    return [[to_pixels(point) for point in stroke] for stroke in char_strokes]


def _stroke_font(width_ratio: float, aspect: float, italic: float):
    def draw(canvas: ImageDraw.ImageDraw, char: str, scale: float, pad: float) -> None:
        to_pixels = _grid_mapper(scale, pad, aspect, italic)
        width = max(1, int(round(width_ratio * scale)))
        radius = width / 2.0
        for points in _polyline_strokes(STROKES[char], to_pixels):
            canvas.line(points, fill=255, width=width, joint="curve")
            for x, y in (points[0], points[-1]):  # round caps, as a stylus or die leaves them
                canvas.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)

    return draw


def _dotted_strokes(dot_ratio: float, spacing_ratio: float, aspect: float):
    """Dots placed along the single-stroke paths: what a pin marker following a path leaves."""

    def draw(canvas: ImageDraw.ImageDraw, char: str, scale: float, pad: float) -> None:
        to_pixels = _grid_mapper(scale, pad, aspect)
        radius = dot_ratio * scale / 2.0
        spacing = spacing_ratio * scale
        for points in _polyline_strokes(STROKES[char], to_pixels):
            for (x0, y0), (x1, y1) in zip(points, points[1:]):
                length = math.hypot(x1 - x0, y1 - y0)
                steps = max(1, int(round(length / spacing)))
                for step in range(steps + 1):
                    t = step / steps
                    x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
                    canvas.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)

    return draw


def _stencil(width_ratio: float, gap_ratio: float, aspect: float):
    """Strokes cut short at every joint and end, leaving the bridges a stencil needs."""

    def draw(canvas: ImageDraw.ImageDraw, char: str, scale: float, pad: float) -> None:
        to_pixels = _grid_mapper(scale, pad, aspect)
        width = max(1, int(round(width_ratio * scale)))
        gap = gap_ratio * scale
        for points in _polyline_strokes(STROKES[char], to_pixels):
            for (x0, y0), (x1, y1) in zip(points, points[1:]):
                length = math.hypot(x1 - x0, y1 - y0)
                if length <= 2 * gap + 1:
                    canvas.line(((x0, y0), (x1, y1)), fill=255, width=width)
                    continue
                ux, uy = (x1 - x0) / length, (y1 - y0) / length
                start = (x0 + ux * gap, y0 + uy * gap)
                end = (x1 - ux * gap, y1 - uy * gap)
                canvas.line((start, end), fill=255, width=width)

    return draw


def _fourteen_segment(width_ratio: float, aspect: float, italic: float):
    def draw(canvas: ImageDraw.ImageDraw, char: str, scale: float, pad: float) -> None:
        to_pixels = _grid_mapper(scale, pad, aspect, italic)
        width = max(1, int(round(width_ratio * scale)))
        shrink = 0.12  # segments stop short of each other, as on a display
        for segment in FOURTEEN_SEGMENT[char]:
            (x0, y0), (x1, y1) = _SEGMENTS[segment]
            dx, dy = x1 - x0, y1 - y0
            start = to_pixels((x0 + dx * shrink, y0 + dy * shrink))
            end = to_pixels((x1 - dx * shrink, y1 - dy * shrink))
            canvas.line((start, end), fill=255, width=width)

    return draw


def procedural_faces() -> List[ProceduralFace]:
    """Every procedural face, grouped by family name (a family is the unit a font split holds out)."""
    faces = [
        ProceduralFace("Procedural Dot Peen", "round 0.8", _dot_matrix(0.8, False, 0.62), 0.62, 0.12),
        ProceduralFace("Procedural Dot Peen", "round 0.55", _dot_matrix(0.55, False, 0.7), 0.7, 0.1),
        ProceduralFace("Procedural Dot Peen", "narrow 0.9", _dot_matrix(0.9, False, 0.5), 0.5, 0.12),
        ProceduralFace("Procedural Pixel Matrix", "square 0.95", _dot_matrix(0.95, True, 0.62), 0.62, 0.12),
        ProceduralFace("Procedural Pixel Matrix", "square 0.7", _dot_matrix(0.7, True, 0.7), 0.7, 0.1),
        ProceduralFace("Procedural Stroke", "thin", _stroke_font(0.08, 0.6, 0.0), 0.6, 0.08),
        ProceduralFace("Procedural Stroke", "bold", _stroke_font(0.16, 0.62, 0.0), 0.62, 0.12),
        ProceduralFace("Procedural Stroke", "slanted", _stroke_font(0.11, 0.58, 0.15), 0.58 + 0.15, 0.1),
        ProceduralFace("Procedural Dotted Stroke", "fine", _dotted_strokes(0.09, 0.11, 0.6), 0.6, 0.08),
        ProceduralFace("Procedural Dotted Stroke", "coarse", _dotted_strokes(0.13, 0.17, 0.62), 0.62, 0.1),
        ProceduralFace("Procedural Stencil", "regular", _stencil(0.14, 0.1, 0.62), 0.62, 0.1),
        ProceduralFace("Procedural Stencil", "light", _stencil(0.09, 0.07, 0.58), 0.58, 0.08),
        ProceduralFace("Procedural Fourteen Segment", "upright", _fourteen_segment(0.1, 0.6, 0.0), 0.6, 0.08),
        ProceduralFace("Procedural Fourteen Segment", "italic", _fourteen_segment(0.12, 0.6, 0.12), 0.72, 0.1),
    ]
    return faces
