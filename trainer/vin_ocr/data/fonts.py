"""Typefaces for the synthetic renderer: discovery, validation, and a cache of rendered glyphs.

Faces come from three places, so a fresh machine with no fonts still renders a varied set:
1. the free-licensed fonts shipped in `vin_ocr/fonts/` (SIL OFL 1.1, from the Fontsource packages);
2. fonts installed on the machine (the usual system folders, plus folders in `VIN_OCR_FONT_DIRS`);
3. procedural faces drawn from geometry (dot peen, stroke, stencil, segment: `procedural_glyphs`).

A *family* (e.g. "Roboto Mono", "Procedural Dot Peen") is the unit a font split holds out, so a
robustness test can measure reading on typefaces the model never saw in training.
"""

from __future__ import annotations

import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..vin import ALPHABET
from .procedural_glyphs import ProceduralFace, procedural_faces

BUNDLED_FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".woff", ".pfb", ".t1")  # a .ttc collection: its first face
# Characters the renderer may draw besides the VIN: delimiters some labels print around it.
EXTRA_CHARS = "*"
# Fonts whose letters are pictures or flourishes: a VIN is never printed in them.
_EXCLUDED_FAMILY_WORDS = ("dingbat", "symbol", "d050000l", "z003", "chancery", "emoji", "webdings", "wingdings", "marlett", "math")
_PROBE_SIZE = 48


def _system_font_dirs() -> List[Path]:
    home = Path.home()
    dirs = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), home / ".fonts", home / ".local/share/fonts"]
    if sys.platform == "darwin":
        dirs += [Path("/System/Library/Fonts"), Path("/Library/Fonts"), home / "Library/Fonts"]
    if sys.platform == "win32":
        dirs += [Path(os.environ.get("WINDIR", "C:\\Windows")) / "Fonts"]
    extra = os.environ.get("VIN_OCR_FONT_DIRS", "")
    dirs += [Path(entry) for entry in extra.split(os.pathsep) if entry]
    return dirs


@dataclass(frozen=True)
class Glyph:
    """A rendered character: ink mask, where it sits relative to the pen, and how far the pen moves.

    `left`/`top` place the mask's top-left corner relative to the pen position on the cap line
    (the top of capital letters), so glyphs from any face line up on the same baseline.
    """

    mask: np.ndarray  # uint8 [h, w], 255 = ink
    left: int
    top: int
    advance: float


class TrueTypeFace:
    """A font file, sized so that its capital letters are `cap_height` pixels tall."""

    def __init__(self, path: Path, family: str, style: str, cap_ratio: float):
        self.path = path
        self.family = family
        self.name = style
        self._cap_ratio = cap_ratio  # cap height / font size
        self._fonts: Dict[int, ImageFont.FreeTypeFont] = {}

    def font_for(self, cap_height: int) -> ImageFont.FreeTypeFont:
        font = self._fonts.get(cap_height)
        if font is None:
            size = max(4, int(round(cap_height / self._cap_ratio)))
            font = ImageFont.truetype(str(self.path), size)
            self._fonts[cap_height] = font
        return font

    def glyph(self, char: str, cap_height: int) -> Glyph:
        font = self.font_for(cap_height)
        left, top, right, bottom = (int(edge) for edge in font.getbbox(char, anchor="ls"))  # whole pixels for FreeType fonts
        width, height = max(1, right - left), max(1, bottom - top)
        canvas = Image.new("L", (width, height), 0)
        ImageDraw.Draw(canvas).text((-left, -top), char, font=font, fill=255, anchor="ls")
        # bbox is relative to the baseline; the cap line lies cap_height above it.
        return Glyph(np.asarray(canvas), left, top + cap_height, font.getlength(char))


class _ProceduralAdapter:
    """Gives a procedural face the same `glyph()` as a font file."""

    def __init__(self, face: ProceduralFace):
        self.face = face
        self.family = face.family
        self.name = face.name
        self.path: Optional[Path] = None

    def glyph(self, char: str, cap_height: int) -> Glyph:
        if char not in ALPHABET:
            raise KeyError(f"procedural face {self.family} draws only VIN characters, not {char!r}")
        image = self.face.glyph(char, cap_height)
        pad = (image.height - cap_height) // 2
        advance = self.face.aspect * cap_height + 0.22 * cap_height
        return Glyph(np.asarray(image), -pad, -pad, advance)


Face = Union[TrueTypeFace, _ProceduralAdapter]


def _excluded(family: str) -> bool:
    lowered = family.lower()
    return any(word in lowered for word in _EXCLUDED_FAMILY_WORDS)


def _picture(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    """The character's rendered pixels with their size, b"" when it draws nothing."""
    left, top, right, bottom = (int(edge) for edge in font.getbbox(char))
    if right <= left or bottom <= top:
        return b""
    canvas = Image.new("L", (right - left, bottom - top), 0)
    ImageDraw.Draw(canvas).text((-left, -top), char, font=font, fill=255)
    data = canvas.tobytes()
    return f"{canvas.size}".encode() + data if any(data) else b""


def _probe_font_file(path: Path) -> Optional[TrueTypeFace]:
    """A face for `path`, or None when it cannot draw every VIN character distinctly."""
    try:
        font = ImageFont.truetype(str(path), _PROBE_SIZE)
        family, style = font.getname()
    except (OSError, ValueError):
        return None
    family = family or path.stem
    if _excluded(family):
        return None
    try:
        missing = _picture(font, "\ue000")  # a private-use code point: what "no glyph" looks like
        masks = set()
        for char in ALPHABET:
            picture = _picture(font, char)
            if not picture or picture == missing:
                return None
            masks.add(picture)
        if len(masks) < len(ALPHABET) - 1:  # several letters share one picture: not a text font
            return None
        _, cap_top, _, cap_bottom = font.getbbox("H", anchor="ls")
    except (OSError, ValueError):
        return None
    cap_ratio = (cap_bottom - cap_top) / _PROBE_SIZE
    if cap_ratio <= 0.2:
        return None
    return TrueTypeFace(path, family, style or "Regular", cap_ratio)


def _font_files(dirs: Iterable[Path]) -> List[Path]:
    files: List[Path] = []
    for directory in dirs:
        if not directory.is_dir():
            continue
        try:
            files.extend(p for p in directory.rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file())
        except OSError:
            continue
    return sorted(set(files))


_catalogue: Optional[List[Face]] = None


def all_faces() -> List[Face]:
    """Every usable face on this machine (discovered once per process, in a stable order)."""
    global _catalogue
    if _catalogue is None:
        faces: List[Face] = []
        seen = set()
        for path in _font_files([BUNDLED_FONT_DIR] + _system_font_dirs()):
            face = _probe_font_file(path)
            if face is None or (face.family, face.name) in seen:
                continue  # the same face installed twice (e.g. .otf and .t1) would weigh double
            seen.add((face.family, face.name))
            faces.append(face)
        faces.extend(_ProceduralAdapter(face) for face in procedural_faces())
        _catalogue = faces
    return _catalogue


def font_families() -> List[str]:
    """The family names available to `render_vin(..., fonts=...)`, sorted."""
    return sorted({face.family for face in all_faces()})


def is_procedural(family: str) -> bool:
    return family.startswith("Procedural ")


def split_font_families(holdout_fraction: float = 0.25, salt: str = "vin-ocr") -> Tuple[List[str], List[str]]:
    """Families to train on and families held out, e.g. for a test on typefaces never seen in training.

    Membership depends only on each family's name (a stable hash), not on which other fonts are
    installed, so the same family lands on the same side on every machine. Procedural families
    are split the same way, and each side keeps at least one family.
    """
    if not 0.0 < holdout_fraction < 1.0:
        raise ValueError(f"holdout_fraction must lie strictly between 0 and 1, got {holdout_fraction}")
    families = font_families()
    threshold = int(holdout_fraction * 10_000)
    held = [name for name in families if zlib.crc32(f"{salt}:{name}".encode()) % 10_000 < threshold]
    train = [name for name in families if name not in held]
    if not held and families:
        held, train = [train[-1]], train[:-1]
    if not train and families:
        train, held = [held[0]], held[1:]
    return train, held


def faces_for(families: Optional[Sequence[str]]) -> List[Face]:
    """The faces of the named families (all faces when None); unknown names are an error."""
    faces = all_faces()
    if families is None:
        return faces
    wanted = set(families)
    known = {face.family for face in faces}
    unknown = sorted(wanted - known)
    if unknown:
        raise ValueError(
            f"unknown font famil{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)}; available: {', '.join(sorted(known))}"
        )
    chosen = [face for face in faces if face.family in wanted]
    if not chosen:
        raise ValueError("no font families chosen: pass None for all, or at least one family name")
    return chosen


class GlyphCache:
    """Rendered glyphs by (face, character, cap height): rendering text becomes pasting arrays."""

    def __init__(self) -> None:
        self._glyphs: Dict[Tuple[int, str, int], Optional[Glyph]] = {}

    def get(self, face: Face, char: str, cap_height: int) -> Optional[Glyph]:
        """The glyph, or None when this face cannot draw `char` (only possible for EXTRA_CHARS)."""
        key = (id(face), char, cap_height)
        if key not in self._glyphs:
            try:
                glyph: Optional[Glyph] = face.glyph(char, cap_height)
            except KeyError:
                glyph = None
            if glyph is not None and not glyph.mask.any():
                glyph = None
            self._glyphs[key] = glyph
        return self._glyphs[key]
