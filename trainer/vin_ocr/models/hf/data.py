"""(image, VIN) examples for fine-tuning: labelled folders/files or synthetic renders.

Labelled data goes through the project's one loader (``vin_ocr.data.labels.load_labelled``:
labels.txt, metadata.jsonl/csv, every bad row reported). Images are opened lazily, as RGB,
when a batch needs them; the vision-language processor does its own resizing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from PIL import Image

from ...errors import INVALID_DATASET, MISSING_DEPENDENCY, TrainerError

SYNTHETIC = "synthetic"


@dataclass(frozen=True)
class Example:
    vin: str
    path: Optional[Path] = None
    seed: Optional[int] = None  # synthetic: the render seed

    def image(self) -> Image.Image:
        if self.path is not None:
            try:
                with Image.open(self.path) as opened:
                    return opened.convert("RGB")
            except OSError as error:
                raise TrainerError(
                    INVALID_DATASET, f"Cannot read image {self.path}: {error}", "Fix or remove that row of the labels file."
                ) from error
        return _render(self.vin, self.seed or 0)


def load_examples(
    source: str, base: Path, on_bad_rows: str = "fail", limit: Optional[int] = None, synthetic_size: int = 64, seed: int = 0
) -> list[Example]:
    """Examples from a labels path (relative to ``base``) or ``synthetic`` (``synthetic_size`` renders)."""
    if source == SYNTHETIC:
        return synthetic_examples(limit or synthetic_size, seed)
    from ...data.labels import DatasetError, load_labelled

    path = Path(source)
    if not path.is_absolute():
        path = base / path
    try:
        data = load_labelled(path, on_bad_rows=on_bad_rows)
    except DatasetError as error:
        issues = [str(issue) for issue in getattr(error, "issues", [])]
        raise TrainerError(
            INVALID_DATASET, f"{path} has {len(issues)} bad row(s).", "Fix the rows listed, or set data.on_bad_rows: skip.", issues=issues
        ) from error
    except FileNotFoundError as error:
        raise TrainerError(
            INVALID_DATASET, f"{path} does not exist.", "Check the path (relative paths are relative to the config file)."
        ) from error
    rows = [Example(vin=vin, path=Path(image)) for image, vin in data.rows]
    if not rows:
        raise TrainerError(INVALID_DATASET, f"{path} has no usable rows.", "Add labelled images: image/path<TAB>VIN per line.")
    return rows[:limit] if limit else rows


def synthetic_examples(count: int, seed: int) -> list[Example]:
    from ...vin import random_vin

    rng = random.Random(seed)
    return [Example(vin=random_vin(rng, rng.random() < 0.6), seed=rng.randrange(2**31)) for _ in range(count)]


def _render(vin: str, seed: int) -> Image.Image:
    try:
        from ...data.synthetic import render_vin
    except ImportError as error:
        raise TrainerError(
            MISSING_DEPENDENCY,
            "The synthetic VIN renderer (vin_ocr.data.synthetic) is not available in this trainer.",
            "Train on a labelled dataset (data.train: path/to/labels.txt).",
        ) from error
    return render_vin(vin, random.Random(seed)).convert("RGB")


def images_of(examples: Sequence[Example]) -> list[Any]:
    return [example.image() for example in examples]
