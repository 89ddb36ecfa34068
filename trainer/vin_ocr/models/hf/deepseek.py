"""DeepSeek-OCR's prompt format and image modes, for fine-tuning on VIN crops.

DeepSeek-OCR ships its own modelling code (``trust_remote_code``) and its own input format,
not a processor: a plain prompt with an ``<image>`` placeholder (``"<image>\\nFree OCR."``),
which becomes a run of image tokens whose length follows from the resolution mode:

* a global view: the image padded (aspect kept, mean-grey border) to ``base_size`` square,
  or, for the small modes (base <= 640), resized to ``image_size`` square;
* in crop mode ("gundam"), images larger than one tile are also cut into a grid of
  ``image_size`` tiles (2 to 9 tiles, the grid whose aspect ratio is closest to the image's).

Each view of side S gives q = ceil(S / 16 / 4) rows of q tokens plus one row-end token per
row; the global view is followed by one separator token. This module computes the views, the
token layout and the training labels (prompt masked, answer learnt); the model consumes
``input_ids``, ``images_seq_mask``, ``images_spatial_crop`` and the view tensors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from PIL import Image, ImageOps

IMAGE_PLACEHOLDER = "<image>"
FREE_OCR = "<image>\nFree OCR."
GROUNDING_OCR = "<image>\n<|grounding|>OCR this image."
PATCH_SIZE = 16
DOWNSAMPLE = 4
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)
MIN_TILES, MAX_TILES = 2, 9
IGNORE_INDEX = -100


@dataclass(frozen=True)
class ImageMode:
    name: str
    base_size: int
    image_size: int
    crop_mode: bool


MODES = {
    "tiny": ImageMode("tiny", 512, 512, False),
    "small": ImageMode("small", 640, 640, False),
    "base": ImageMode("base", 1024, 1024, False),
    "large": ImageMode("large", 1280, 1280, False),
    "gundam": ImageMode("gundam", 1024, 640, True),
}


def image_mode(name: str) -> ImageMode:
    try:
        return MODES[name.lower()]
    except KeyError:
        raise ValueError(f"Unknown DeepSeek-OCR image mode '{name}'; use one of {', '.join(MODES)}") from None


def vin_prompt(prompt: Optional[str] = None) -> str:
    """The prompt with exactly one ``<image>`` placeholder, first, as the model was trained."""
    text = (prompt or FREE_OCR).strip()
    count = text.count(IMAGE_PLACEHOLDER)
    if count > 1:
        raise ValueError(f"A DeepSeek-OCR prompt takes one image; this one has {count} '<image>' placeholders.")
    if count == 0:
        text = f"{IMAGE_PLACEHOLDER}\n{text}"
    return text


def queries(side: int) -> int:
    """Tokens per row (and rows) for a square view of ``side`` pixels."""
    return math.ceil(side / PATCH_SIZE / DOWNSAMPLE)


def tile_grid(width: int, height: int, min_tiles: int = MIN_TILES, max_tiles: int = MAX_TILES) -> tuple[int, int]:
    """(columns, rows) of the tile grid whose aspect ratio best matches the image."""
    aspect = width / height
    candidates = sorted(
        {
            (c, r)
            for n in range(min_tiles, max_tiles + 1)
            for c in range(1, n + 1)
            for r in range(1, n + 1)
            if min_tiles <= c * r <= max_tiles
        },
        key=lambda grid: grid[0] * grid[1],
    )
    best, best_diff = (1, 1), float("inf")
    for columns, rows in candidates:
        diff = abs(aspect - columns / rows)
        if diff < best_diff:
            best, best_diff = (columns, rows), diff
    return best


@dataclass
class Views:
    global_view: Image.Image
    crops: list[Image.Image]
    grid: tuple[int, int]  # (columns, rows); (1, 1) without crops


def prepare_views(image: Image.Image, mode: ImageMode) -> Views:
    rgb = image.convert("RGB")
    fill = tuple(int(m * 255) for m in MEAN)
    crops: list[Image.Image] = []
    grid = (1, 1)
    if mode.crop_mode and (rgb.width > mode.image_size or rgb.height > mode.image_size):
        grid = tile_grid(rgb.width, rgb.height)
        columns, rows = grid
        resized = rgb.resize((columns * mode.image_size, rows * mode.image_size), Image.Resampling.BICUBIC)
        for row in range(rows):
            for column in range(columns):
                left, top = column * mode.image_size, row * mode.image_size
                crops.append(resized.crop((left, top, left + mode.image_size, top + mode.image_size)))
    if not mode.crop_mode and mode.base_size <= 640:
        global_view = rgb.resize((mode.image_size, mode.image_size), Image.Resampling.LANCZOS)
    else:
        global_view = ImageOps.pad(rgb, (mode.base_size, mode.base_size), color=fill)
    return Views(global_view, crops, grid)


def image_token_count(mode: ImageMode, grid: tuple[int, int] = (1, 1)) -> int:
    """Image tokens the ``<image>`` placeholder expands to."""
    base = mode.image_size if (not mode.crop_mode and mode.base_size <= 640) else mode.base_size
    q = queries(base)
    count = (q + 1) * q + 1  # global view: q rows of q tokens + a row-end token each, then a separator
    columns, rows = grid
    if mode.crop_mode and columns * rows > 1:
        local = queries(mode.image_size)
        count += (local * columns + 1) * (local * rows)
    return count


def to_tensor(image: Image.Image) -> Any:
    import numpy as np
    import torch

    array = (np.asarray(image, dtype=np.float32) / 255.0 - np.asarray(MEAN, np.float32)) / np.asarray(STD, np.float32)
    return torch.from_numpy(array).permute(2, 0, 1).contiguous()


@dataclass
class DeepSeekExample:
    input_ids: list[int]
    labels: list[int]
    images_seq_mask: list[bool]
    views: Views


def encode_example(
    tokenizer: Any,
    image: Image.Image,
    answer: Optional[str],
    mode: ImageMode,
    image_token_id: int,
    prompt: Optional[str] = None,
) -> DeepSeekExample:
    """Tokens for one (image, answer) pair: BOS, prompt text with the image run, answer, EOS.

    With ``answer=None`` only the prompt is encoded (for generation).
    """
    text = vin_prompt(prompt)
    before, after = text.split(IMAGE_PLACEHOLDER)
    views = prepare_views(image, mode)
    image_run = [image_token_id] * image_token_count(mode, views.grid)
    encode = lambda part: tokenizer.encode(part, add_special_tokens=False) if part else []  # noqa: E731
    prompt_ids = [tokenizer.bos_token_id, *encode(before), *image_run, *encode(after)]
    mask = [False] * (1 + len(encode(before))) + [True] * len(image_run) + [False] * len(encode(after))
    answer_ids = [*encode(answer), tokenizer.eos_token_id] if answer is not None else []
    return DeepSeekExample(
        input_ids=prompt_ids + answer_ids,
        labels=[IGNORE_INDEX] * len(prompt_ids) + answer_ids,
        images_seq_mask=mask + [False] * len(answer_ids),
        views=views,
    )


def collate(examples: Sequence[DeepSeekExample], pad_token_id: int) -> dict[str, Any]:
    """A right-padded batch in the keyword arguments DeepSeek-OCR's ``forward`` takes."""
    import torch

    width = max(len(e.input_ids) for e in examples)
    batch = len(examples)
    input_ids = torch.full((batch, width), pad_token_id, dtype=torch.long)
    labels = torch.full((batch, width), IGNORE_INDEX, dtype=torch.long)
    attention = torch.zeros((batch, width), dtype=torch.long)
    seq_mask = torch.zeros((batch, width), dtype=torch.bool)
    images = []
    spatial = []
    for index, example in enumerate(examples):
        n = len(example.input_ids)
        input_ids[index, :n] = torch.tensor(example.input_ids)
        labels[index, :n] = torch.tensor(example.labels)
        attention[index, :n] = 1
        seq_mask[index, :n] = torch.tensor(example.images_seq_mask)
        global_view = to_tensor(example.views.global_view).unsqueeze(0)
        crops = (
            torch.stack([to_tensor(c) for c in example.views.crops])
            if example.views.crops
            else torch.zeros((1, 3, example.views.global_view.height, example.views.global_view.width))
        )
        images.append((crops, global_view))
        spatial.append(list(example.views.grid))
    return {
        "input_ids": input_ids,
        "attention_mask": attention,
        "labels": labels,
        "images": images,
        "images_seq_mask": seq_mask,
        "images_spatial_crop": torch.tensor(spatial, dtype=torch.long),
    }


def left_pad(examples: Sequence[DeepSeekExample], pad_token_id: int) -> dict[str, Any]:
    """Prompt-only examples, left-padded so that every row continues at the same position."""
    import torch

    batch = collate(examples, pad_token_id)
    width = batch["input_ids"].shape[1]
    for index, example in enumerate(examples):
        shift = width - len(example.input_ids)
        if shift:
            for key in ("input_ids", "attention_mask", "images_seq_mask"):
                batch[key][index] = torch.roll(batch[key][index], shifts=shift)
    del batch["labels"]
    return batch


class DeepSeekOcrCollator:
    """The DeepSeek-OCR counterpart of ``Lfm2VlCollator``: same interface, DeepSeek's input format."""

    # DeepSeek-OCR's generate()/infer() path assumes CUDA and differs between its releases; evaluation
    # decodes greedily through forward() with the key/value cache instead (generation.cached_greedy_decode),
    # at most a VIN's length, which only needs the documented inputs and runs on CPU, MPS and CUDA.
    uses_generate = False
    uses_cache = True

    def __init__(self, tokenizer: Any, mode: str = "base", prompt: Optional[str] = None, max_target_length: int = 32) -> None:
        self.tokenizer = tokenizer
        self.mode = image_mode(mode)
        self.prompt = vin_prompt(prompt)
        self.max_target_length = max_target_length
        self.image_token_id = tokenizer.convert_tokens_to_ids(IMAGE_PLACEHOLDER)
        if self.image_token_id is None or self.image_token_id == getattr(tokenizer, "unk_token_id", object()):
            raise ValueError("The tokenizer has no '<image>' token; is this a DeepSeek-OCR checkpoint?")
        self.end_of_answer = tokenizer.eos_token_id
        self.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def training_batch(self, examples: Sequence[tuple[Any, str]]) -> dict[str, Any]:
        if not examples:
            raise ValueError("An empty batch cannot be collated.")
        encoded = [
            encode_example(self.tokenizer, image, target[: self.max_target_length], self.mode, self.image_token_id, self.prompt)
            for image, target in examples
        ]
        return collate(encoded, self.pad_token_id)

    def generation_batch(self, images: Sequence[Any]) -> dict[str, Any]:
        encoded = [encode_example(self.tokenizer, image, None, self.mode, self.image_token_id, self.prompt) for image in images]
        return left_pad(encoded, self.pad_token_id)
