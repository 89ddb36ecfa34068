"""A baseline checkpoint loaded for reading VINs (``evaluate`` and ``predict``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from ...config import Config, config_from_dict
from ...data.preprocess import to_model_input
from ...decoding import Read
from ...errors import CHECKPOINT_INVALID, TrainerError
from ...models import build_model
from ...training.device import Placement, choose_device, place
from ...training.evaluate import read_images
from ..protocol import CheckpointRef


class BaselineReader:
    def __init__(self, model: torch.nn.Module, config: Config[Any, Any], placement: Placement, checkpoint: Path, step: int) -> None:
        self.model = model
        self.config = config
        self.placement = placement
        self.checkpoint = checkpoint
        self.step = step
        self.check_digit = bool(config.decoding.check_digit)

    def read(self, images: Sequence[Any]) -> list[Read]:
        height, width = self.config.model.height, self.config.model.width
        return read_images(self.model, [to_model_input(image, height, width) for image in images], self.placement)


def load_reader(checkpoint: CheckpointRef, device: str, state: dict[str, Any]) -> BaselineReader:
    try:
        config = config_from_dict(state["config"], for_training=False)
        model = build_model(config.model)
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError, TypeError) as error:
        raise TrainerError(
            CHECKPOINT_INVALID,
            f"{checkpoint.path} does not match the model it describes ({error}).",
            "Use a checkpoint written by this trainer version.",
        ) from error
    # fp32 on a CPU: reading one image in bf16 was 9x slower there (47 vs 5.4 ms) and not the graph
    # that ONNX export and its parity check read; GPUs keep their half precision.
    placement = place(device, "fp32" if choose_device(device) == "cpu" else "auto")
    model.to(placement.torch_device).eval()
    return BaselineReader(model, config, placement, checkpoint.path, int(state.get("step", 0)))
