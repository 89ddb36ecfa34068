"""The training data stream: deterministic batches that resume exactly, and never starve the model.

Batch k is a pure function of (seed, k), so a resumed run sees exactly the batches the
uninterrupted run would have seen, with nothing about the stream stored in the checkpoint:

* synthetic, rendered live (``TrainStream``): new renders (``fresh_ratio``; by default the whole batch
  on a CPU, half on a GPU), made in DataLoader worker processes; the rest of a batch re-uses renders
  from a pool of recent ones (kept on the training device) with a cheap random re-augmentation (shift,
  scale, tilt, contrast, noise) run there, batched, so a renderer slower than the model starves it
  less. On resume the pool is refilled by re-rendering the batches it held (deterministic, so identical).
* synthetic, from the render cache (``CachedStream``, ``data/render_cache.py``; ``data.synthetic.cache``,
  by default on CUDA and MPS, see ``uses_render_cache``): batch k reads the rows of the shard
  generation that ``CacheSchedule`` assigns to k (rendered once, on disk, refreshed a share per pass in
  the background) and augments them on the device; a shard not yet rendered is waited for.
* labelled: a fresh permutation of the dataset per epoch, seeded by (seed, epoch); when fine-tuning
  (``data.augment``), each batch gets the same cheap augmentation seeded by (seed, k), so a small set of
  photos is not learnt by heart.

Augmentation draws from a generator on the training device seeded by (seed, k, rank salt): on the CPU
it is the same computation as ever; on a GPU it is reproducible on the same device. ``metered`` times
each batch's wait against the step (``InputMeter``), so the trainer can say when the data is the bound.

In data-parallel training every rank has its own stream (``distributed.py``: rank_salt, rank_slice):
rank r's synthetic seeds are salted with r, each rank takes its own slice of a labelled set's
permutation, and reads only its own shards of the render cache, so no two ranks train on the same image.
"""

from __future__ import annotations

import itertools
import math
import queue
import random
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence, Union

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..config import SYNTHETIC, Config
from ..data.render_cache import RenderCache, Shard
from ..errors import INVALID_DATASET, TrainerError
from .distributed import SINGLE, World, rank_salt, rank_slice
from .signals import ignore_in_worker

Images = torch.Tensor  # float32 [n, 1, height, width] in 0..1
Warn = Callable[[str], None]
PREFETCH_BATCHES = 4  # read ahead from the render cache: enough to cover a shard change, little memory


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


def device_generator(device: Union[str, torch.device], seed: int) -> torch.Generator:
    """A random generator on ``device`` (so augmentation draws where it computes), seeded; a CPU one
    where the device has none (its draws are then moved)."""
    try:
        return torch.Generator(device=device).manual_seed(seed)
    except RuntimeError:
        return torch.Generator().manual_seed(seed)


def augment(images: Images, generator: torch.Generator) -> Images:
    """Cheap, batched re-augmentation of pooled or cached renders, so a re-used render never looks the same
    twice: on the images' device, drawing from ``generator`` (on the same device, or the CPU)."""
    n = images.shape[0]
    if n == 0:
        return images
    device = images.device

    def uniform(low: float, high: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator, device=generator.device) * (high - low) + low).to(device)

    scale = uniform(0.92, 1.06)
    angle = uniform(-0.03, 0.03)  # radians, about ±1.7°
    shear = uniform(-0.12, 0.12)
    # affine_grid works in coordinates normalised per axis; a rotation or shear in pixels has to
    # be scaled by the image's aspect ratio to stay a rotation on a wide text line.
    aspect = images.shape[3] / images.shape[2]
    theta = torch.zeros(n, 2, 3, device=device)
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
    noise = torch.randn(out.shape, generator=generator, device=generator.device).to(device) * uniform(0.0, 0.04).view(n, 1, 1, 1)
    return (out + noise).clamp_(0.0, 1.0)


class RenderPool:
    """The most recent fresh renders, re-used by later batches: a ring of ``capacity`` images on the
    training device (so a re-used render never crosses to it again), drawn from oldest-first as a
    deque of them would be."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.images: Optional[torch.Tensor] = None  # [capacity, 1, height, width], allocated at the first add
        self.vins: list[str] = [""] * capacity
        self.count = 0
        self.next = 0  # the slot the next render goes to

    def __len__(self) -> int:
        return self.count

    def add(self, images: Images, vins: Sequence[str]) -> None:
        if self.capacity == 0 or not vins:
            return
        if self.images is None:
            self.images = torch.empty((self.capacity, *images.shape[1:]), dtype=images.dtype, device=images.device)
        images, vins = images[-self.capacity :], list(vins)[-self.capacity :]
        slots = [(self.next + i) % self.capacity for i in range(len(vins))]
        self.images[torch.tensor(slots, device=self.images.device)] = images.to(self.images.device)
        for slot, vin in zip(slots, vins):
            self.vins[slot] = vin
        self.next = (self.next + len(vins)) % self.capacity
        self.count = min(self.capacity, self.count + len(vins))

    def draw(self, count: int, generator: torch.Generator) -> Batch:
        count = min(count, self.count)
        if not count or self.images is None:
            return Batch(torch.empty(0), [])
        picks = torch.randint(self.count, (count,), generator=generator, device=generator.device)
        oldest = (self.next - self.count) % self.capacity
        slots = (picks + oldest) % self.capacity  # the i-th oldest render lies in slot oldest + i
        images = self.images[slots.to(self.images.device)]
        return Batch(images, [self.vins[slot] for slot in slots.tolist()])


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
        device: Union[str, torch.device] = "cpu",
    ) -> None:
        self.config = config
        self.device = torch.device(device)  # batches arrive here; pooled renders are kept and augmented here
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
                images = images.to(self.device, non_blocking=True)
                if self.augment_labelled:
                    # Labelled photos come round every epoch: each time they look a little different (the
                    # re-used renders' augmentation), or a few hundred of them are learnt by heart in minutes.
                    generator = device_generator(self.device, derived_seed("labelled", seed, k, *self.salt))
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
            images = images.to(self.device, non_blocking=True)
            if k >= start:
                generator = device_generator(self.device, derived_seed("mix", seed, k, *self.salt))
                pooled = pool.draw(self.batch_size - len(vins), generator)
                if pooled.vins:
                    images_out = torch.cat([images, augment(pooled.images, generator)])
                    yield Batch(images_out, vins + pooled.vins)
                else:
                    yield Batch(images, vins)
            pool.add(images, vins)

    def describe(self, workers: int) -> str:
        if not self.synthetic:
            return f"{workers} loader worker(s)"
        return (
            f"rendered live: pool of {self.pool_capacity} renders (augmented on {self.device.type}), "
            f"{self.fresh / self.batch_size:.0%} fresh per batch, {workers} render worker(s)"
        )


class CachedStream:
    """Batch k read from the render cache (``data/render_cache.py``: which shard, generation and rows is a
    pure function of k) and augmented on the training device, from a generator seeded by (seed, k, rank)."""

    augment_labelled = False

    def __init__(
        self, cache: RenderCache, seed: int, salt: tuple[object, ...], device: Union[str, torch.device], max_gb: float = 0.0
    ) -> None:
        self.cache = cache
        self.max_gb = max_gb  # the disk bound, stated in the log
        self.seed, self.salt = seed, salt
        self.device = torch.device(device)
        self.batch_size = cache.schedule.batch_size

    def batches(self, start: int) -> Iterator[Batch]:
        """Batches k = start, start + 1, …: the rows are read a few batches ahead by a thread (numpy copies
        release the GIL), so that on a GPU the main thread only starts the copy and the augmentation."""
        self.cache.start(self.cache.schedule.block(start))
        ahead: queue.Queue = queue.Queue(maxsize=PREFETCH_BATCHES)
        stop = threading.Event()
        reader = threading.Thread(target=self._read_rows, args=(start, ahead, stop), name="cache-reader", daemon=True)
        reader.start()
        try:
            for k in itertools.count(start):
                item = ahead.get()
                self.cache.pass_on_messages()  # warnings reach the event stream from this thread only
                if isinstance(item, BaseException):
                    raise item
                pixels, vins = item
                images = pixels.to(self.device, non_blocking=True).unsqueeze(1).float().div_(255.0)
                generator = device_generator(self.device, derived_seed("cached", self.seed, k, *self.salt))
                yield Batch(augment(images, generator), vins)
        finally:
            stop.set()
            self.cache.close()  # a reader waiting for a shard is told the cache closed
            while reader.is_alive():  # unblock a reader waiting for room, then let it see `stop`
                try:
                    ahead.get_nowait()
                except queue.Empty:
                    reader.join(timeout=0.1)

    def _read_rows(self, start: int, ahead: queue.Queue, stop: threading.Event) -> None:
        """Puts (uint8 rows of batch k, their VINs) for k = start, start + 1, … in ``ahead``, in order."""
        schedule = self.cache.schedule
        block: Optional[int] = None
        shard: Optional[Shard] = None
        try:
            for k in itertools.count(start):
                if stop.is_set():
                    return
                if schedule.block(k) != block:
                    block, shard = schedule.block(k), None  # let go of the old map first (Windows cannot delete a mapped file)
                    shard = self.cache.shard(block)
                assert shard is not None
                rows = schedule.rows(k)
                item = (torch.from_numpy(shard.images[rows]), [shard.vins[row] for row in rows.tolist()])  # a copy out of the map
                while not stop.is_set():
                    try:
                        ahead.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as error:  # noqa: B036  # handed to the consumer, which raises it
            if not stop.is_set():
                ahead.put(error)

    def describe(self, workers: int) -> str:
        cache, schedule = self.cache, self.cache.schedule
        size_gb = (len(schedule.mine) + 1) * cache.key.shard_bytes / 1024**3
        return (
            f"read from the render cache {cache.folder}: {len(schedule.mine)} shard(s) of {cache.key.shard_size} renders for this rank "
            f"(up to {size_gb:.2f} GB on disk, data.synthetic.cache.max_gb: {self.max_gb:g}), {cache.reused} reused from earlier runs"
            f"{'' if cache.reused >= len(schedule.mine) else ' (the first pass renders the rest, at the renderers’ speed)'}, "
            f"{schedule.refresh:.0%} re-rendered per pass in the background, augmented on {self.device.type}, "
            f"{cache.workers} render worker(s)"
        )


def dataset_error(error: Exception, what: str) -> TrainerError:
    issues = [str(issue) for issue in getattr(error, "issues", [])] or [str(error)]
    return TrainerError(
        INVALID_DATASET,
        f"The {what} dataset has {len(issues)} problem(s).",
        "Fix the listed rows, or set data.on_bad_rows: skip to train without them (the count skipped is reported).",
        issues=issues,
    )


class DecodedImages(Dataset):
    """A labelled set decoded and resized once (uint8, memory-mapped from the cache): items as LabelledImages'."""

    def __init__(self, images: np.ndarray, vins: list[str]) -> None:
        self.images, self.vins = images, vins

    def __len__(self) -> int:
        return len(self.vins)

    def __getitem__(self, index: int) -> tuple[np.ndarray, str]:
        return self.images[index].astype(np.float32) / 255.0, self.vins[index]


def decode_once(images: Dataset, source: Path, config: Config, warn: Warn) -> Dataset:
    """The training set decoded into the cache folder (``data.synthetic.cache``: dir, max_gb) and read from
    there, or as it was when it does not fit in max_gb."""
    from ..data import render_cache

    model, options = config.model, config.data.synthetic.cache
    rows = images.rows  # type: ignore[attr-defined]
    if len(rows) * model.height * model.width > options.max_gb * 1024**3:
        warn(f"the training set decoded would not fit in data.synthetic.cache.max_gb ({options.max_gb:g} GB): decoded at every use")
        return images
    root = Path(options.dir) if options.dir else render_cache.default_cache_root()
    key = render_cache.labelled_key(source, rows, model.height, model.width)
    vins = [vin for _, vin in rows]
    decoded = render_cache.decoded_labelled(root, key, lambda row: images[row][0], vins, warn)
    return images if decoded is None else DecodedImages(decoded, vins)


def load_labelled_images(
    path: str, config: Config, what: str, device: str = "cpu", warn: Optional[Warn] = None
) -> tuple[Dataset, int, list[str]]:
    """A checked labelled dataset as a torch Dataset, with the count skipped and the warnings. The training set
    is decoded once into the cache where the render cache is on (``uses_render_cache``): on a GPU, decoding
    photos at every use would be the bound, as rendering is."""
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
    images: Dataset = LabelledImages(data, config.model.height, config.model.width)
    if what == "training" and uses_render_cache(config.data.synthetic.cache.mode, device)[0]:
        images = decode_once(images, data.source, config, warn or (lambda message: None))
    return images, data.skipped, warnings


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


Stream = Union[TrainStream, "CachedStream"]


def uses_render_cache(mode: str, device: str) -> tuple[bool, str]:
    """``data.synthetic.cache.mode``: whether this run reads renders from the cache, and why.

    "auto": the cache on an accelerator (CUDA, MPS), where the model trains several times faster than
    every core renders (an H200: 25,000 images/s against ~2,000 renders/s from 14 workers), so only
    renders made once and re-used (augmented anew on the device at each use) can keep it busy; live
    rendering on a CPU, where the model shares the cores with the renderer: on a quiet 2-core machine
    one render worker (~330 renders/s) keeps up with the model on the other core (~220 images/s), so
    fresh renders cost no speed and teach more than re-used ones. bench/data_path_bench.py measures
    both: on 2 busy cores (load 3.5–5) the data path alone gave 178–307 images/s live against 2,951–3,393
    from the cache, and the trainer 110 live against 243 from a warm cache; at equal time on a quiet CPU the
    two are the same (--ten-minutes --from-scratch: 10 minutes each, live 68.9 % exact match, cache 68.3 %,
    within a 1,000-image set's noise), so on a CPU the cache would only cost disk."""
    if mode == "on":
        return True, "data.synthetic.cache.mode: on"
    if mode == "off":
        return False, "data.synthetic.cache.mode: off"
    if device in ("cuda", "mps"):
        return True, f"auto: the model on {device} outruns live rendering"
    return False, "auto: on a CPU the model, not the renderer, is the bound"


def render_rate(config: Config, samples: int = 6) -> float:
    """Renders per second on one core of this machine, at model resolution: a short measurement (after one
    render that fills the glyph cache a little), for the rate run_started expects of the input path."""
    from ..data.preprocess import to_model_input
    from ..data.synthetic import render_vin
    from ..vin import random_vin

    model, fonts = config.model, training_typefaces(config.data.synthetic.typefaces)
    rng = random.Random(derived_seed("render-rate", config.training.seed))

    def one() -> None:
        to_model_input(render_vin(random_vin(rng, north_american=True), rng, fonts), model.height, model.width)

    one()
    started = time.perf_counter()
    for _ in range(samples):
        one()
    return samples / max(1e-6, time.perf_counter() - started)


def cache_workers(device: str, ranks_here: int = 1) -> int:
    """Render processes filling the cache: on an accelerator every core but the one feeding it (the main
    process does little else: reading shards is a memory copy, augmentation runs on the device); on a CPU
    as many as live rendering would have (the model needs the rest)."""
    from .device import usable_cores

    if device == "cpu":
        return max(1, auto_workers(device, ranks_here))
    return max(1, usable_cores() // ranks_here - 1)


def open_render_cache(
    config: Config, batch_size: int, world: World, workers: int, warn: Warn
) -> tuple[Optional[RenderCache], Optional[str]]:
    """This rank's render cache, or None with the reason it cannot be used (the run then renders live)."""
    from ..data import render_cache

    settings, model = config.data.synthetic, config.model
    options = settings.cache
    key = render_cache.CacheKey(
        seed=config.training.seed,
        height=model.height,
        width=model.width,
        typefaces=settings.typefaces,
        north_american_ratio=settings.north_american_ratio,
        shard_size=max(render_cache.DEFAULT_SHARD_SIZE, batch_size),
    )
    shards = render_cache.plan_shards(key, options.images, options.max_gb, world.size)
    if shards == 0:
        shard_mb = key.shard_bytes / 1024**2
        return (
            None,
            f"data.synthetic.cache.max_gb ({options.max_gb:g} GB) holds less than one shard ({shard_mb:.0f} MB) per process",
        )
    root = Path(options.dir) if options.dir else render_cache.default_cache_root()
    planned = (shards + world.size) * key.shard_bytes
    try:
        root.mkdir(parents=True, exist_ok=True)
        evicted = render_cache.evict_other_caches(root, root / key.folder_name(), int(options.max_gb * 1024**3), planned)
        (root / key.folder_name()).mkdir(exist_ok=True)
        free = shutil.disk_usage(root).free + render_cache.folder_bytes(root / key.folder_name())
        probe = root / key.folder_name() / f".write-test-{world.rank}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as error:
        return None, f"the cache folder {root} is not writable ({error.strerror or error})"
    if free < planned:
        return None, f"{root} has {free / 1024**3:.2f} GB free, the cache needs {planned / 1024**3:.2f} GB"
    if evicted:
        warn(
            f"deleted {len(evicted)} older render cache(s) under {root} to stay within data.synthetic.cache.max_gb ({options.max_gb:g} GB)"
        )
    refresh = options.refresh
    schedule = render_cache.CacheSchedule(shards, key.shard_size, batch_size, world.rank, world.size, refresh, config.training.seed)
    cache = RenderCache(root, key, schedule, training_typefaces(settings.typefaces), workers, warn)
    return cache, None


def build_train_stream(
    config: Config,
    num_workers: int,
    batch_size: int,
    device: str = "cpu",
    world: World = SINGLE,
    starts_trained: bool = False,
    warn: Optional[Warn] = None,
    cache_workers_count: Optional[int] = None,
) -> tuple[Stream, Optional[int], int, list[str]]:
    """This rank's training stream, the training set's size (None for synthetic), rows skipped, warnings.

    ``warn`` receives what goes wrong with the render cache (a rebuilt shard, a fallback to live rendering)."""
    salt = rank_salt(world.rank)
    model = config.model
    warn = warn or (lambda message: None)
    if config.data.train == SYNTHETIC:
        settings = config.data.synthetic
        wanted, _ = uses_render_cache(settings.cache.mode, device)
        if wanted:
            workers = cache_workers_count if cache_workers_count is not None else cache_workers(device, world.local_size)
            cache, problem = open_render_cache(config, batch_size, world, workers, warn)
            if cache is not None:
                return CachedStream(cache, config.training.seed, salt, device, settings.cache.max_gb), None, 0, []
            warn(f"the render cache is off for this run, training on live renders instead: {problem}")
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
        return TrainStream(config, source, batch_size, num_workers, synthetic=True, salt=salt, device=device), None, 0, []
    images, skipped, warnings = load_labelled_images(config.data.train, config, "training", device, warn)
    batches = LabelledBatches(images, batch_size, config.training.seed, world)
    augment_photos = augments_labelled(config.data.augment, starts_trained)
    stream = TrainStream(
        config, batches, batch_size, num_workers, synthetic=False, salt=salt, augment_labelled=augment_photos, device=device
    )
    return stream, len(images), skipped, warnings  # type: ignore[arg-type]


class InputMeter:
    """How long the model waits for its next batch, against the whole step, over windows of
    ``window_seconds`` after ``warmup_steps`` (workers starting, a cold cache's first shards): when the
    wait is ``threshold`` of the time or more, ``on_bound(idle share, images/s trained, images/s the
    model alone would take)`` is called once."""

    def __init__(
        self, on_bound: Callable[[float, float, float], None], warmup_steps: int = 50, window_seconds: float = 60.0, threshold: float = 0.2
    ) -> None:
        self.on_bound = on_bound
        self.warmup_steps, self.window_seconds, self.threshold = warmup_steps, window_seconds, threshold
        self.steps = 0
        self.reported = False
        self.last_share: Optional[float] = None
        self._reset()

    def _reset(self) -> None:
        self.waited = self.worked = 0.0
        self.images = 0

    def add(self, waited: float, worked: float, images: int) -> None:
        self.steps += 1
        if self.steps <= self.warmup_steps:
            return
        self.waited += waited
        self.worked += worked
        self.images += images
        total = self.waited + self.worked
        if total < self.window_seconds:
            return
        share = self.waited / total
        self.last_share = share
        if share >= self.threshold and not self.reported and self.worked > 0:
            self.reported = True
            self.on_bound(share, self.images / total, self.images / self.worked)
        self._reset()


def metered(batches: Iterator[Batch], meter: InputMeter) -> Iterator[Batch]:
    """``batches``, timing the wait for each against the time the consumer spent on the one before."""
    handed_at: Optional[float] = None
    previous = 0
    try:
        while True:
            asked_at = time.perf_counter()
            try:
                batch = next(batches)
            except StopIteration:
                return
            now = time.perf_counter()
            if handed_at is not None:
                meter.add(now - asked_at, asked_at - handed_at, previous)
            handed_at, previous = now, len(batch.vins)
            yield batch
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()


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
