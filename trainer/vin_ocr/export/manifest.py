"""``vin-ocr-model.json``: everything a deployment must know to read VINs with ``model.onnx``.

Written by the exporter, read by the ONNX Runtime reader (``vin_ocr.onnx_reader``): the input and
output of the graph, the exact preprocessing (``data/preprocess.py::to_model_input``, spelled out
step by step for a deployment in another language), the alphabet and blank index of the CTC
classes, the decoding settings, and where the weights came from. Torch-free on purpose.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from .. import decoding
from ..data import preprocess
from ..errors import CHECKPOINT_INVALID, TrainerError
from ..vin import ALPHABET, VIN_LENGTH

FORMAT = "vin-ocr-onnx"
FORMAT_VERSION = 1
MODEL_FILE = "model.onnx"
MANIFEST_FILE = "vin-ocr-model.json"
INPUT_NAME = "images"
OUTPUT_NAME = "log_probs"

# to_model_input's steps in words, for a deployment that cannot call it. Every number they use is a
# field of "preprocessing" (the reader checks those against this trainer's, so they cannot drift).
PREPROCESSING_STEPS = (
    "Apply the EXIF orientation (Pillow ImageOps.exif_transpose) when the image has EXIF data.",
    "Convert to 8-bit grey: mode L as it is; 16-bit and float images scaled from their min..max to 0..255 (all 0 when flat); "
    "images with transparency laid on white first; every other mode through Pillow's convert('L') (ITU-R 601-2 luma).",
    "natural_width = image_width * height / image_height; squeeze = min(max_squeeze, max(1, natural_width / width)); "
    "shrink = min(1, width / (natural_width / squeeze)).",
    "scaled_width = max(1, min(width, round(natural_width / squeeze * shrink))); "
    "scaled_height = max(1, min(height, round(height * shrink))); round() is Python's (halves to even).",
    "Resize the grey image to scaled_width x scaled_height with Pillow's BILINEAR filter; take its pixels as float32.",
    "low, high = numpy.percentile(pixels, (low_percentile, high_percentile)) (linear interpolation); "
    "if high - low >= min_spread: pixels = clip((pixels - low) / (high - low), 0, 1); else pixels = pixels / 255.",
    "Start from a height x width float32 array filled with the median of the resized pixels' border "
    "(first row, last row, first column, last column, corners counted twice), and put the pixels at its top left.",
    "Stack the images as float32 [batch, 1, height, width] in 0..1 (the graph subtracts 0.5 itself).",
)


def preprocessing_facts(height: int, width: int) -> dict[str, Any]:
    # preprocess's constants are private there (no caller should pass other values); they are
    # written here because a deployment must reproduce them.
    return {
        "function": "vin_ocr.data.preprocess.to_model_input",
        "height": height,
        "width": width,
        "channels": 1,
        "grey": True,
        "layout": "NCHW float32 [batch, 1, height, width]",
        "value_range": [0.0, 1.0],
        "normalisation": "contrast stretched between percentiles to 0..1; the graph subtracts 0.5",
        "max_squeeze": preprocess.DEFAULT_MAX_SQUEEZE,
        "resample": "bilinear",
        "low_percentile": preprocess._LOW_PERCENTILE,
        "high_percentile": preprocess._HIGH_PERCENTILE,
        "min_spread": preprocess._MIN_SPREAD,
        "padding": "right and bottom, with the median of the resized image's border",
        "steps": list(PREPROCESSING_STEPS),
    }


def decoding_facts(check_digit: bool) -> dict[str, Any]:
    return {
        "alphabet": ALPHABET,
        "blank_index": decoding.BLANK,
        "classes": len(ALPHABET) + 1,
        "class_of_character": "alphabet[i] is class i + 1; class 0 is the CTC blank",
        "method": "greedy CTC (best class per frame, repeats merged, blanks dropped); a read of another length than "
        "vin_length is replaced by the most probable frame path spelling exactly vin_length characters",
        "vin_length": VIN_LENGTH,
        "check_digit": check_digit,
        "check_digit_uncertain_below": decoding.UNCERTAIN_BELOW,
        "check_digit_min_alternative": decoding.MIN_ALTERNATIVE,
        "top_alternatives": decoding.TOP_ALTERNATIVES,
        "implementation": "vin_ocr.decoding.decode",
    }


@dataclass(frozen=True)
class Manifest:
    folder: Path
    data: dict[str, Any]

    @property
    def model_path(self) -> Path:
        return self.folder / str(self.data["model"]["file"])

    @property
    def input_size(self) -> tuple[int, int]:
        facts = self.data["preprocessing"]
        return int(facts["height"]), int(facts["width"])

    @property
    def max_squeeze(self) -> float:
        return float(self.data["preprocessing"]["max_squeeze"])

    @property
    def check_digit(self) -> bool:
        return bool(self.data["decoding"]["check_digit"])

    @property
    def step(self) -> int:
        return int(self.data["source"].get("step") or 0)


def staging_path(path: Path) -> Path:
    """Where a file is written before it is renamed over ``path`` (same folder, so the rename is atomic;
    an ordinary file, unlike mkstemp's, so it gets the usual permissions)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_manifest(folder: Path, data: dict[str, Any]) -> Path:
    """Atomically, so a reader never sees half a file (the parity result is added in a second write)."""
    path = folder / MANIFEST_FILE
    temporary = staging_path(path)
    try:
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def export_folder(target: Union[str, Path]) -> Path:
    """The export folder named by ``target``: the folder itself, or the folder of its model.onnx or JSON."""
    path = Path(target).expanduser()
    return path if path.is_dir() else path.parent


def is_export(target: Union[str, Path]) -> bool:
    """Whether ``target`` names an ONNX export (its folder, model.onnx or JSON) rather than a checkpoint."""
    path = Path(target).expanduser()
    return path.suffix != ".pt" and path.exists() and (export_folder(path) / MANIFEST_FILE).is_file()


def read_manifest(target: Union[str, Path]) -> Manifest:
    """The export at ``target``, checked against this trainer (alphabet, preprocessing numbers)."""
    path = Path(target).expanduser()
    folder = export_folder(path)
    file = folder / MANIFEST_FILE
    if not path.exists() or not file.is_file():
        raise TrainerError(
            CHECKPOINT_INVALID,
            f"{path} is not an ONNX export (no {MANIFEST_FILE} {'in' if path.is_dir() else 'beside'} it).",
            "Export one with: python -m vin_ocr export --checkpoint RUN_OR_CHECKPOINT --format onnx --output DIR; "
            "or read a .pt checkpoint or run directory with --backend torch.",
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        manifest = Manifest(folder, data)
        _ = (manifest.input_size, manifest.max_squeeze, manifest.check_digit, manifest.step)  # every field the reader uses is there
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TrainerError(
            CHECKPOINT_INVALID, f"{file} is not a readable VIN OCR export description ({error}).", "Export the checkpoint again."
        ) from error
    if int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise TrainerError(CHECKPOINT_INVALID, f"{file} was written by a newer trainer.", "Update the VIN OCR extension.")
    _check_matches_this_trainer(manifest, file)
    if not manifest.model_path.is_file():
        raise TrainerError(CHECKPOINT_INVALID, f"{manifest.model_path} is missing beside {file}.", "Export the checkpoint again.")
    return manifest


def _check_matches_this_trainer(manifest: Manifest, file: Path) -> None:
    """The reader decodes with this trainer's alphabet and prepares images with its to_model_input:
    an export that describes other numbers would be read wrongly without a word, so refuse it."""
    expected = preprocessing_facts(*manifest.input_size)
    facts = manifest.data["preprocessing"]
    differences = [key for key in ("low_percentile", "high_percentile", "min_spread", "resample") if facts.get(key) != expected[key]]
    decoding_data = manifest.data["decoding"]
    if decoding_data.get("alphabet") != ALPHABET or decoding_data.get("blank_index") != decoding.BLANK:
        differences.append("alphabet")
    if differences:
        raise TrainerError(
            CHECKPOINT_INVALID,
            f"{file} describes a different {', '.join(differences)} than this trainer uses.",
            "Read it with the trainer version that exported it, or export the checkpoint again with this one.",
        )
