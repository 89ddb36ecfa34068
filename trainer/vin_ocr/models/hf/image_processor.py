"""LFM2-VL image preprocessing without torchvision.

transformers' own ``Lfm2VlImageProcessor`` is built on its torchvision backend. PyPI offers
torchvision only as a CUDA build, which cannot load next to a CPU-only torch (the case on CI
and on many laptops), so the processor cannot even be constructed there. This class produces
the same outputs (``pixel_values`` as padded patch sequences, ``pixel_attention_mask``,
``spatial_shapes`` and the row/column/size facts the processor needs to expand ``<image>``)
for the single-tile path: the image is resized, keeping its aspect ratio, so that both sides
are multiples of patch size x downsample factor and the token count lies within
``[min_image_tokens, max_image_tokens]``. Large images are scaled down instead of being
tiled; VIN crops are small and wide, so tiling rarely applies to them anyway.
The real class is always preferred when torchvision works (see ``loading.load_processor``).
"""

from __future__ import annotations

import math
from typing import Any, Iterator, Optional

import numpy as np
from PIL import Image
from transformers.image_processing_backends import PilBackend
from transformers.image_processing_utils import BatchFeature
from transformers.image_utils import IMAGENET_STANDARD_MEAN, IMAGENET_STANDARD_STD, PILImageResampling
from transformers.processing_utils import ImagesKwargs


class Lfm2VlImagesKwargs(ImagesKwargs, total=False):  # type: ignore[call-arg]  # transformers is not type-checked here
    """The keyword arguments LFM2-VL's processor passes on; declared so transformers accepts them."""

    downsample_factor: int
    do_image_splitting: bool
    min_tiles: int
    max_tiles: int
    use_thumbnail: bool
    min_image_tokens: int
    max_image_tokens: int
    encoder_patch_size: int
    tile_size: int
    max_pixels_tolerance: float
    do_pad: bool
    return_row_col_info: bool


def fit_to_token_budget(
    height: int, width: int, patch_size: int, downsample_factor: int, min_tokens: int, max_tokens: int
) -> tuple[int, int]:
    """Target (height, width): multiples of patch x downsample, aspect kept, token count within budget.

    One token covers a (patch x downsample)^2 square, so the budget in pixels is tokens x that area.
    """
    unit = patch_size * downsample_factor
    area = height * width
    if area > max_tokens * unit * unit:  # shrink: rounding down keeps the count within the maximum
        scale = math.sqrt(max_tokens * unit * unit / area)
        target_h = max(unit, math.floor(height * scale / unit) * unit)
        target_w = max(unit, math.floor(width * scale / unit) * unit)
    elif area < min_tokens * unit * unit:  # grow: rounding up reaches the minimum
        scale = math.sqrt(min_tokens * unit * unit / area)
        target_h = math.ceil(height * scale / unit) * unit
        target_w = math.ceil(width * scale / unit) * unit
    else:
        target_h = max(unit, round(height / unit) * unit)
        target_w = max(unit, round(width / unit) * unit)
    # A very thin image can still overshoot (one side clamped to a whole unit): trim its long side.
    while (target_h // unit) * (target_w // unit) > max_tokens:
        if target_w > unit and (width >= height or target_h <= unit):
            target_w -= unit
        else:
            target_h -= unit
    return target_h, target_w


class Lfm2VlImageProcessorPil(PilBackend):
    """Drop-in for ``Lfm2VlImageProcessor`` (single tile) that needs only Pillow and NumPy."""

    downsample_factor = 2
    do_image_splitting = False
    min_tiles = 2
    max_tiles = 10
    use_thumbnail = False
    min_image_tokens = 64
    max_image_tokens = 256
    encoder_patch_size = 16
    tile_size = 512
    max_pixels_tolerance = 2.0
    do_resize = True
    size = {"height": 512, "width": 512}
    resample = PILImageResampling.BILINEAR
    do_rescale = True
    rescale_factor = 1 / 255
    do_normalize = True
    do_pad = True
    do_convert_rgb = True
    return_row_col_info = False
    image_mean = IMAGENET_STANDARD_MEAN
    image_std = IMAGENET_STANDARD_STD
    model_input_names = ["pixel_values", "pixel_attention_mask", "spatial_shapes"]
    valid_kwargs = Lfm2VlImagesKwargs

    def __init__(self, **kwargs: Any) -> None:
        known = {k: v for k, v in kwargs.items() if not k.startswith("_") and k != "image_processor_type"}
        super().__init__()
        for key, value in known.items():
            setattr(self, key, value)

    @property
    def max_num_patches(self) -> int:
        """Length every patch sequence is padded to: the same rule as the torchvision class."""
        thumbnail = self.max_image_tokens * self.downsample_factor**2
        tile = (self.tile_size // self.encoder_patch_size) ** 2 if self.do_image_splitting else 0
        return max(thumbnail, tile)

    def __call__(self, images: Any, **kwargs: Any) -> BatchFeature:
        return self.preprocess(images, **kwargs)

    def preprocess(
        self, images: Any, return_tensors: Optional[str] = None, return_row_col_info: Optional[bool] = None, **_: Any
    ) -> BatchFeature:
        flat = list(_flatten(images))
        if not flat:
            raise ValueError("No image was given to the LFM2-VL image processor.")
        patch, factor = self.encoder_patch_size, self.downsample_factor
        pixel_values, masks, shapes, sizes = [], [], [], []
        for image in flat:
            rgb = _to_rgb(image)
            height, width = fit_to_token_budget(rgb.height, rgb.width, patch, factor, self.min_image_tokens, self.max_image_tokens)
            array: np.ndarray = np.asarray(rgb.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32)
            array = (array * self.rescale_factor - np.asarray(self.image_mean, np.float32)) / np.asarray(self.image_std, np.float32)
            patches = _to_patches(array, patch)
            padded = np.zeros((self.max_num_patches, patches.shape[1]), dtype=np.float32)
            padded[: len(patches)] = patches
            mask = np.zeros((self.max_num_patches,), dtype=np.int32)
            mask[: len(patches)] = 1
            pixel_values.append(padded)
            masks.append(mask)
            shapes.append([height // patch, width // patch])
            sizes.append([height, width])
        data: dict[str, Any] = {
            "pixel_values": np.stack(pixel_values),
            "pixel_attention_mask": np.stack(masks),
            "spatial_shapes": np.asarray(shapes, dtype=np.int64),
        }
        if return_row_col_info if return_row_col_info is not None else self.return_row_col_info:
            data["image_rows"] = [1] * len(flat)
            data["image_cols"] = [1] * len(flat)
            data["image_sizes"] = sizes
        return BatchFeature(data=data, tensor_type=return_tensors)

    def to_dict(self) -> dict[str, Any]:
        config = super().to_dict()
        # Saved under the real class's name so that an environment with torchvision loads the real one.
        config["image_processor_type"] = "Lfm2VlImageProcessor"
        return config


def _flatten(images: Any) -> Iterator[Image.Image]:
    if isinstance(images, (list, tuple)):
        for item in images:
            yield from _flatten(item)
    else:
        yield images


def _to_rgb(image: Any) -> Image.Image:
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    array = np.asarray(image)
    if array.dtype != np.uint8:  # float images in 0..1, as vin_ocr's preprocessing produces
        array = np.clip(array * 255.0, 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = np.moveaxis(array, 0, -1)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    return Image.fromarray(array).convert("RGB")


def _to_patches(array: np.ndarray, patch: int) -> np.ndarray:
    """[H, W, C] -> [patches, patch*patch*C], row-major patches, each flattened (row, col, channel)."""
    height, width, channels = array.shape
    grid = array.reshape(height // patch, patch, width // patch, patch, channels)
    return grid.transpose(0, 2, 1, 3, 4).reshape(-1, patch * patch * channels)
