"""Loading a trained model for evaluation and prediction (``evaluate`` / ``predict`` commands)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from ..config import Config, config_from_dict
from ..decoding import Read, apply_check_digit
from ..errors import CHECKPOINT_INVALID, TrainerError
from ..models import build_model
from .checkpoints import BEST, load_checkpoint
from .data import dataset_error
from .device import Placement, place
from .evaluate import read_images, score


@dataclass
class LoadedModel:
    model: Any
    config: Config
    placement: Placement
    checkpoint: Path
    step: int


def load_model(target: Union[str, Path], device: str = "auto") -> LoadedModel:
    """A checkpoint file or a run directory (its best checkpoint), ready for inference."""
    state, path = load_checkpoint(target, prefer=BEST)
    try:
        config = config_from_dict(state["config"])
        model = build_model(config.model)
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError, TypeError) as error:
        raise TrainerError(CHECKPOINT_INVALID, f"{path} does not match the model it describes ({error}).", "Use a checkpoint written by this trainer version.") from error
    placement = place(device, "auto")
    model.to(placement.torch_device).eval()
    return LoadedModel(model, config, placement, path, int(state.get("step", 0)))


def evaluate_labels(loaded: LoadedModel, labels: str, check_digit: Optional[bool] = None, on_bad_rows: str = "fail") -> dict[str, Any]:
    from ..data.labels import DatasetError, LabelledImages, load_labelled

    try:
        data = load_labelled(Path(labels), on_bad_rows=on_bad_rows)
    except DatasetError as error:
        raise dataset_error(error, "evaluation") from error
    dataset = LabelledImages(data, loaded.config.model.height, loaded.config.model.width)
    pairs = [dataset[i] for i in range(len(dataset))]
    use_check_digit = loaded.config.decoding.check_digit if check_digit is None else check_digit
    reads = read_images(loaded.model, [image for image, _ in pairs], loaded.placement)
    metrics, _ = score(reads, [vin for _, vin in pairs], use_check_digit)
    return {
        "checkpoint": str(loaded.checkpoint),
        "labels": str(data.source),
        "size": len(pairs),
        "skipped": data.skipped,
        "check_digit_decoding": use_check_digit,
        "metrics": metrics,
    }


def predict_files(loaded: LoadedModel, files: Sequence[str], check_digit: Optional[bool] = None) -> list[dict[str, Any]]:
    """One result per file, in order; an unreadable file gets an ``error`` instead of a read."""
    from PIL import Image, UnidentifiedImageError

    from ..data.preprocess import to_model_input

    use_check_digit = loaded.config.decoding.check_digit if check_digit is None else check_digit
    images: list[np.ndarray] = []
    results: list[dict[str, Any]] = []
    for name in files:
        try:
            with Image.open(name) as image:
                images.append(to_model_input(image, loaded.config.model.height, loaded.config.model.width))
            results.append({"image": name})
        except (OSError, UnidentifiedImageError, ValueError) as error:
            results.append({"image": name, "error": f"cannot read image: {error}"})
    reads: list[Read] = read_images(loaded.model, images, loaded.placement) if images else []
    position = 0
    for result in results:
        if "error" in result:
            continue
        read = reads[position]
        position += 1
        result.update((apply_check_digit(read) if use_check_digit else read).to_json())
    return results

