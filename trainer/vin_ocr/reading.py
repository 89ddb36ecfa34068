"""``evaluate`` and ``predict`` for any family: a checkpoint's reader, labelled data in, VINs and metrics out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence, Union

from .decoding import Read, apply_check_digit
from .families import registry
from .families.protocol import Reader

CHUNK = 64  # images opened and read at a time, so a large set never sits in memory whole


def load_reader(target: Union[str, Path], device: str = "auto") -> Reader:
    """A checkpoint file or folder, or a run directory (its best checkpoint), ready to read VINs."""
    family, checkpoint = registry.find_checkpoint(target, prefer="best")
    return family.load_reader(checkpoint, device)


def _open(path: Union[str, Path]) -> Any:
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        return image.copy()


def evaluate_labels(reader: Reader, labels: str, check_digit: Optional[bool] = None, on_bad_rows: str = "fail") -> dict[str, Any]:
    from .data.labels import DatasetError, load_labelled
    from .training.data import dataset_error
    from .training.evaluate import score

    try:
        data = load_labelled(Path(labels), on_bad_rows=on_bad_rows)
    except DatasetError as error:
        raise dataset_error(error, "evaluation") from error
    rows = list(data.rows)
    reads: list[Read] = []
    for start in range(0, len(rows), CHUNK):
        reads += reader.read([_open(image) for image, _ in rows[start : start + CHUNK]])
    use_check_digit = reader.check_digit if check_digit is None else check_digit
    metrics, _ = score(reads, [vin for _, vin in rows], use_check_digit)
    return {
        "checkpoint": str(reader.checkpoint),
        "labels": str(data.source),
        "size": len(rows),
        "skipped": data.skipped,
        "check_digit_decoding": use_check_digit,
        "metrics": metrics,
    }


def predict_files(reader: Reader, files: Sequence[str], check_digit: Optional[bool] = None) -> list[dict[str, Any]]:
    """One result per file, in order; an unreadable file gets an ``error`` instead of a read."""
    from PIL import UnidentifiedImageError

    use_check_digit = reader.check_digit if check_digit is None else check_digit
    images: list[Any] = []
    results: list[dict[str, Any]] = []
    for name in files:
        try:
            images.append(_open(name))
            results.append({"image": name})
        except (OSError, UnidentifiedImageError, ValueError) as error:
            results.append({"image": name, "error": f"cannot read image: {error}"})
    reads = reader.read(images) if images else []
    position = 0
    for result in results:
        if "error" in result:
            continue
        read = reads[position]
        position += 1
        result.update((apply_check_digit(read) if use_check_digit else read).to_json())
    return results
