"""Our datasets as PaddleOCR reads them: ``rec_gt_*.txt`` label files (``path<TAB>TEXT``), the 33-character
VIN dictionary, and, when ``data.train`` is synthetic, renders written to disk.

A labelled set gets the same checks as the baseline's first (file:line errors, ``data.on_bad_rows``), and
only its checked rows are written, with absolute image paths, so PaddleOCR never meets a bad row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ...config import SYNTHETIC, Config
from ...vin import ALPHABET

DICTIONARY = "vin_dict.txt"


@dataclass(frozen=True)
class PaddleData:
    folder: Path  # <run>/paddleocr/data
    dictionary: Path
    train: Path  # rec_gt_train.txt
    val: Optional[Path]
    test: Optional[Path]
    train_size: int
    val_size: int
    warnings: tuple[str, ...] = ()


def write_dictionary(folder: Path) -> Path:
    path = folder / DICTIONARY
    path.write_text("\n".join(ALPHABET) + "\n", encoding="utf-8")
    return path


def _write_labels(file: Path, rows: list[tuple[Path, str]]) -> Path:
    for image, _ in rows:
        if "\t" in str(image) or "\n" in str(image):
            raise ValueError(f"{image}: a tab or a line break in an image path cannot be written to a PaddleOCR label file")
    file.write_text("".join(f"{image}\t{vin}\n" for image, vin in rows), encoding="utf-8")
    return file


def _render(folder: Path, pairs: list[tuple[Any, str]]) -> list[tuple[Path, str]]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for index, (picture, vin) in enumerate(pairs):
        path = folder / f"{index:06d}.png"
        (picture if isinstance(picture, Image.Image) else Image.fromarray(picture)).save(path)
        rows.append((path, vin))
    return rows


def _synthetic_train(config: Config[Any, Any], count: int) -> list[tuple[Any, str]]:
    """``count`` training renders at full resolution (PaddleOCR resizes them itself), from the training seed space."""
    import random

    from ...data.synthetic import render_vin
    from ...training.data import training_typefaces
    from ...vin import random_vin

    synthetic = config.data.synthetic
    fonts = training_typefaces(synthetic.typefaces)
    pairs = []
    for index in range(count):
        rng = random.Random(f"vin-ocr/paddleocr-train/{config.training.seed}/{index}")
        vin = random_vin(rng, north_american=rng.random() < synthetic.north_american_ratio)
        pairs.append((render_vin(vin, rng, fonts), vin))
    return pairs


def _synthetic_val(config: Config[Any, Any]) -> list[tuple[Any, str]]:
    """The held-out synthetic set every run validates on (the same seed and size as the baseline's)."""
    import random

    from ...data.synthetic import _sample_rng, render_vin
    from ...vin import random_vin

    synthetic = config.data.synthetic
    pairs = []
    for index in range(synthetic.val_size):
        rng: random.Random = _sample_rng(synthetic.seed, "heldout", 0, index)
        vin = random_vin(rng, north_american=rng.random() < synthetic.north_american_ratio)
        pairs.append((render_vin(vin, rng, None), vin))
    return pairs


def _labelled(path: str, config: Config[Any, Any], what: str) -> tuple[list[tuple[Path, str]], list[str]]:
    from ...data.labels import DatasetError, load_labelled
    from ...training.data import dataset_error

    try:
        data = load_labelled(Path(path), on_bad_rows=config.data.on_bad_rows)
    except (DatasetError, ValueError) as error:
        raise dataset_error(error, what) from error
    warnings = [str(issue) for issue in data.issues if issue.severity == "warning" or config.data.on_bad_rows == "skip"]
    return list(data.rows), warnings


def _split(config: Config[Any, Any], source: Optional[str], folder: Path, name: str, what: str) -> tuple[Optional[Path], int, list[str]]:
    if source is None:
        return None, 0, []
    if source == SYNTHETIC:
        rows = _render(folder / name, _synthetic_val(config))
        warnings: list[str] = []
    else:
        rows, warnings = _labelled(source, config, what)
    return _write_labels(folder / f"rec_gt_{name}.txt", rows), len(rows), warnings


def write_dataset(config: Config[Any, Any], folder: Path, synthetic_train_size: int) -> PaddleData:
    """Writes the label files and the dictionary into ``folder`` (rendering synthetic sets there)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = config.data
    if data.train == SYNTHETIC:
        train_rows = _render(folder / "train", _synthetic_train(config, synthetic_train_size))
        train_warnings: list[str] = []
    else:
        train_rows, train_warnings = _labelled(data.train, config, "training")
    train = _write_labels(folder / "rec_gt_train.txt", train_rows)
    val, val_size, val_warnings = _split(config, data.val, folder, "val", "validation")
    test, _, test_warnings = _split(config, data.test, folder, "test", "test")
    return PaddleData(
        folder,
        write_dictionary(folder),
        train,
        val,
        test,
        len(train_rows),
        val_size,
        tuple(train_warnings + val_warnings + test_warnings),
    )
