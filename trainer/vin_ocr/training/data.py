"""The training data stream: deterministic batches that resume exactly, and never starve the model.

Batch k is a pure function of (seed, k), so a resumed run sees exactly the batches the
uninterrupted run would have seen, with nothing about the stream stored in the checkpoint:

* synthetic: new renders (``fresh_ratio``; by default the whole batch on a CPU, half on a GPU),
  made in DataLoader worker processes; the rest of a batch re-uses renders from a pool of recent
  ones with a cheap random re-augmentation (shift, scale, tilt, contrast, noise), so a renderer
  slower than the model never starves it. On resume the pool is refilled by re-rendering the
  batches it held (deterministic, so identical).
* labelled: a fresh permutation of the dataset per epoch, seeded by (seed, epoch); when fine-tuning
  (``data.augment``), each batch gets the same cheap augmentation seeded by (seed, k), so a small set of
  photos is not learnt by heart.

In data-parallel training every rank has its own stream (``distributed.py``: rank_salt, rank_slice):
rank r's synthetic seeds are salted with r, and each rank takes its own slice of a labelled
set's permutation, so no two ranks train on the same image.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..config import SYNTHETIC, Config
from ..errors import INVALID_DATASET, TrainerError
from .distributed import SINGLE, World, rank_salt, rank_slice
from .signals import ignore_in_worker

Images = torch.Tensor  # float32 [n, 1, height, width] in 0..1


def derived_seed(*parts: object) -> int:
    """A stable 63-bit seed from several parts (Python's hash() of strings is salted per process)."""
    return random.Random(":".join(str(p) for p in parts)).getrandbits(63)


@dataclass
class Batch:
    images: Images
    vins: list[str]


class SyntheticBatches(Dataset):
    """Item k: the fresh renders of training batch k."""

    def __init__(
        self,
        seed: int,
        count: int,
        height: int,
        width: int,
        north_american_ratio: float,
        fonts: Optional[list[str]] = None,
        salt: tuple[object, ...] = (),
    ) -> None:
        self.seed, self.count, self.height, self.width = seed, count, height, width
        self.north_american_ratio = north_american_ratio
        self.fonts = fonts  # typeface families to draw from; None: all
        self.salt = salt  # this rank's (distributed.rank_salt)

    def __len__(self) -> int:  # the stream is endless; DataLoader only needs the sampler's indices
        return 2**62

    def __getitem__(self, k: int) -> tuple[np.ndarray, list[str]]:
        from ..data.preprocess import to_model_input
        from ..data.synthetic import render_vin
        from ..vin import random_vin

        rng = random.Random(derived_seed("train", self.seed, k, *self.salt))
        images = np.empty((self.count, self.height, self.width), dtype=np.float32)
        vins = []
        for i in range(self.count):
            vin = random_vin(rng, north_american=rng.random() < self.north_american_ratio)
            images[i] = to_model_input(render_vin(vin, rng, self.fonts), self.height, self.width)
            vins.append(vin)
        return images, vins


class LabelledBatches(Dataset):
    """Item k: batch k of the labelled training set; epoch e uses a permutation seeded by (seed, e),
    of which each of ``world.size`` ranks takes its own slice."""

    def __init__(self, images: Dataset, batch_size: int, seed: int, world: World = SINGLE) -> None:
        self.images = images
        self.size = len(images)  # type: ignore[arg-type]
        if self.size < world.size:
            raise TrainerError(
                INVALID_DATASET,
                f"The training set has {self.size} image(s), fewer than the {world.size} processes that would share it.",
                "Train with fewer processes (distributed.nproc_per_node, distributed.nnodes) or on a bigger set.",
            )
        self.batch_size = min(batch_size, self.size // world.size)
        self.per_epoch = max(1, self.size // (self.batch_size * world.size))
        self.seed = seed
        self.world = world

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, k: int) -> tuple[np.ndarray, list[str]]:
        epoch, index = divmod(k, self.per_epoch)
        generator = torch.Generator().manual_seed(derived_seed("epoch", self.seed, epoch))
        start, end = rank_slice(index * self.batch_size * self.world.size, self.batch_size, self.world.rank)
        order = torch.randperm(self.size, generator=generator)[start:end]
        pairs = [self.images[i] for i in order.tolist()]
        return np.stack([image for image, _ in pairs]), [vin for _, vin in pairs]


def augment(images: Images, generator: torch.Generator) -> Images:
    """Cheap, batched re-augmentation of pooled renders, so a re-used render never looks the same twice."""
    n = images.shape[0]
    if n == 0:
        return images

    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.rand(n, generator=generator) * (high - low) + low

    scale = uniform(0.92, 1.06)
    angle = uniform(-0.03, 0.03)  # radians, about ±1.7°
    shear = uniform(-0.12, 0.12)
    # affine_grid works in coordinates normalised per axis; a rotation or shear in pixels has to
    # be scaled by the image's aspect ratio to stay a rotation on a wide text line.
    aspect = images.shape[3] / images.shape[2]
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scale * torch.cos(angle)
    theta[:, 0, 1] = (shear - torch.sin(angle)) / aspect
    theta[:, 1, 0] = torch.sin(angle) * aspect
    theta[:, 1, 1] = scale * torch.cos(angle)
    theta[:, 0, 2] = uniform(-0.04, 0.04)
    theta[:, 1, 2] = uniform(-0.12, 0.12)
    grid = torch.nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    out = torch.nn.functional.grid_sample(images, grid, padding_mode="border", align_corners=False)
    contrast = uniform(0.7, 1.15).view(n, 1, 1, 1)
    mean = out.mean(dim=(2, 3), keepdim=True)
    out = (out - mean) * contrast + mean + uniform(-0.08, 0.08).view(n, 1, 1, 1)
    noise = torch.randn(out.shape, generator=generator) * uniform(0.0, 0.04).view(n, 1, 1, 1)
    return (out + noise).clamp_(0.0, 1.0)


class RenderPool:
    """The most recent fresh renders, re-used by later batches."""

    def __init__(self, capacity: int) -> None:
        self.images: deque[torch.Tensor] = deque(maxlen=capacity)
        self.vins: deque[str] = deque(maxlen=capacity)

    def __len__(self) -> int:
        return len(self.images)

    def add(self, images: Images, vins: Sequence[str]) -> None:
        for image, vin in zip(images, vins):
            self.images.append(image)
            self.vins.append(vin)

    def draw(self, count: int, generator: torch.Generator) -> Batch:
        count = min(count, len(self.images))
        picks = torch.randint(len(self.images), (count,), generator=generator).tolist() if count else []
        if not picks:
            return Batch(torch.empty(0), [])
        return Batch(torch.stack([self.images[i] for i in picks]), [self.vins[i] for i in picks])


def _collate(item: tuple[np.ndarray, list[str]]) -> tuple[torch.Tensor, list[str]]:
    images, vins = item
    return torch.from_numpy(images).unsqueeze(1), vins


def auto_workers(device: str, ranks_here: int = 1) -> int:
    """Worker processes for rendering/loading. On a GPU the renderer is the bottleneck (an H200
    trains the CRNN ~15× faster than 8 workers render), so every core but two renders: one
    for the main process (pool re-augmentation, batching, the GPU's feed), one spare. On a CPU
    machine the model needs the cores too, so one worker (none on a single core). Ranks of a
    data-parallel run on one machine each count only their share of its cores."""
    from .device import usable_cores

    cores = max(1, usable_cores() // ranks_here)  # data-parallel ranks on one machine share its cores
    if device == "cpu":
        return 1 if cores >= 2 else 0
    return max(1, min(32, cores - 2))


class TrainStream:
    """Yields training batches k = start, start+1, … (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        source: Dataset,
        batch_size: int,
        num_workers: int,
        synthetic: bool,
        salt: tuple[object, ...] = (),
        augment_labelled: bool = False,
    ) -> None:
        self.config = config
        self.augment_labelled = augment_labelled and not synthetic
        self.salt = salt  # this rank's (distributed.rank_salt)
        self.source = source
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.synthetic = synthetic
        settings = config.data.synthetic
        self.pool_capacity = settings.pool_size if synthetic else 0
        self.fresh = getattr(source, "count", batch_size)

    def _loader(self, start: int) -> Iterator[tuple[torch.Tensor, list[str]]]:
        loader = DataLoader(
            self.source,
            batch_size=None,
            sampler=itertools.count(start),
            num_workers=self.num_workers,
            collate_fn=_collate,  # type: ignore[arg-type]  # with batch_size=None it gets one item, not a list
            worker_init_fn=ignore_in_worker if self.num_workers else None,
            prefetch_factor=4 if self.num_workers else None,
            persistent_workers=False,
            # Its own generator: by default a DataLoader seeds its workers from torch's global RNG,
            # which would shift that RNG (and whatever in training draws from it) in a resumed run.
            generator=torch.Generator().manual_seed(derived_seed("loader", self.config.training.seed, *self.salt)),
        )
        return iter(loader)

    def batches(self, start: int) -> Iterator[Batch]:
        seed = self.config.training.seed
        if not self.pool_capacity:
            for k, (images, vins) in enumerate(self._loader(start), start):
                if self.augment_labelled:
                    # Labelled photos come round every epoch: each time they look a little different (the
                    # re-used renders' augmentation), or a few hundred of them are learnt by heart in minutes.
                    generator = torch.Generator().manual_seed(derived_seed("labelled", seed, k, *self.salt))
                    yield Batch(augment(images, generator), vins)
                else:
                    yield Batch(images, vins)
            return
        pool = RenderPool(self.pool_capacity)
        # Refill the pool as the uninterrupted run had it: the fresh renders of the batches before `start`.
        refill_from = max(0, start - math.ceil(self.pool_capacity / self.fresh))
        loader = self._loader(refill_from)
        for k in itertools.count(refill_from):
            images, vins = next(loader)
            if k >= start:
                generator = torch.Generator().manual_seed(derived_seed("mix", seed, k, *self.salt))
                pooled = pool.draw(self.batch_size - len(vins), generator)
                if pooled.vins:
                    images_out = torch.cat([images, augment(pooled.images, generator)])
                    yield Batch(images_out, vins + pooled.vins)
                else:
                    yield Batch(images, vins)
            pool.add(images, vins)


def dataset_error(error: Exception, what: str) -> TrainerError:
    issues = [str(issue) for issue in getattr(error, "issues", [])] or [str(error)]
    return TrainerError(
        INVALID_DATASET,
        f"The {what} dataset has {len(issues)} problem(s).",
        "Fix the listed rows, or set data.on_bad_rows: skip to train without them (the count skipped is reported).",
        issues=issues,
    )


def load_labelled_images(path: str, config: Config, what: str) -> tuple[Dataset, int, list[str]]:
    """A checked labelled dataset as a torch Dataset, with the count skipped and the warnings."""
    from ..data.labels import DatasetError, LabelledImages, load_labelled

    try:
        data = load_labelled(Path(path), on_bad_rows=config.data.on_bad_rows)
    except DatasetError as error:
        raise dataset_error(error, what) from error
    except ValueError as error:
        raise dataset_error(error, what) from error
    warnings = [str(issue) for issue in data.issues if issue.severity == "warning"]
    if config.data.on_bad_rows == "skip":
        warnings += [str(issue) for issue in data.issues if issue.severity == "error"]
    return LabelledImages(data, config.model.height, config.model.width), data.skipped, warnings


def fresh_share(setting: Union[float, str], device: str) -> float:
    """The share of each batch rendered new. "auto": all of it where the model is the bottleneck
    (a CPU: one render worker keeps up with a core's model steps, and new images teach more than
    re-augmented ones), half on a GPU, where the renderer bounds the trainer: re-using half of
    each batch doubles its images/s (an H200 with 14 render workers: 4,162 images/s at 0.5)."""
    if setting == "auto":
        return 0.5 if device == "cuda" else 1.0
    return float(setting)


def training_typefaces(setting: str) -> Optional[list[str]]:
    """The families the training renders use: None for all, else the training side of the split."""
    if setting == "all":
        return None
    from ..data.fonts import split_font_families

    return split_font_families()[0]


def augments_labelled(setting: Union[bool, str], starts_trained: bool) -> bool:
    """``data.augment``: "auto" augments labelled photos when fine-tuning (measured: 5 minutes from the shipped reader
    on 250 photos of a new typeface, 58.0 % → 63.5 % on 200 more), not from scratch (a short run learns slower)."""
    return starts_trained if setting == "auto" else bool(setting)


def build_train_stream(
    config: Config, num_workers: int, batch_size: int, device: str = "cpu", world: World = SINGLE, starts_trained: bool = False
) -> tuple[TrainStream, Optional[int], int, list[str]]:
    """This rank's training stream, the training set's size (None for synthetic), rows skipped, warnings."""
    salt = rank_salt(world.rank)
    model = config.model
    if config.data.train == SYNTHETIC:
        settings = config.data.synthetic
        share = fresh_share(settings.fresh_ratio, device)
        fresh = batch_size if settings.pool_size == 0 else max(1, round(batch_size * share))
        source = SyntheticBatches(
            config.training.seed,
            fresh,
            model.height,
            model.width,
            settings.north_american_ratio,
            training_typefaces(settings.typefaces),
            salt,
        )
        return TrainStream(config, source, batch_size, num_workers, synthetic=True, salt=salt), None, 0, []
    images, skipped, warnings = load_labelled_images(config.data.train, config, "training")
    batches = LabelledBatches(images, batch_size, config.training.seed, world)
    augment_photos = augments_labelled(config.data.augment, starts_trained)
    stream = TrainStream(config, batches, batch_size, num_workers, synthetic=False, salt=salt, augment_labelled=augment_photos)
    return stream, len(images), skipped, warnings  # type: ignore[arg-type]


@dataclass
class EvalSet:
    name: str
    images: list[np.ndarray]
    vins: list[str]
    skipped: int = 0


def build_eval_set(source: Optional[str], config: Config, split: str) -> Optional[EvalSet]:
    """The held-out val/test set, loaded once into memory."""
    if source is None:
        return None
    model = config.model
    if source == SYNTHETIC:
        from ..data.synthetic import synthetic_split

        settings = config.data.synthetic
        # val and test are different draws: the test seed is offset so the two never coincide.
        seed = settings.seed if split == "val" else derived_seed("test", settings.seed)
        pairs = synthetic_split(seed, settings.val_size, model.height, model.width, settings.north_american_ratio)
        return EvalSet(split, [image for image, _ in pairs], [vin for _, vin in pairs])
    images, skipped, _ = load_labelled_images(source, config, split)
    pairs = [images[i] for i in range(len(images))]  # type: ignore[arg-type]
    return EvalSet(split, [image for image, _ in pairs], [vin for _, vin in pairs], skipped)
