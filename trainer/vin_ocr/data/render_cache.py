"""Rendered synthetic training images on disk: render once, reuse many times.

A GPU trains the CRNN several times faster than a machine's cores can render VINs, so on an
accelerator the training stream reads renders from a cache instead of waiting for the renderer:

* **Shards.** The cache is ``shards`` files of ``shard_size`` images each (uint8, model resolution,
  ``np.save``; read back with ``np.load(mmap_mode="r")``), rendered by a pool of worker processes
  (as many as the cores it is given). Every shard has a manifest (JSON) with everything that
  decides its pixels (renderer version, seed, shard index and generation, model height/width,
  typefaces, North-American share, image count), its byte size, a CRC-32 of its pixels and the
  VINs. Both files are written to a temporary name and renamed, the manifest last, so a shard
  without a manifest, or a half-written one, is never seen.
* **Checks.** A shard is opened only when its manifest matches the run exactly and its file has
  the stated size and checksum; anything else (an older renderer, a truncated or corrupted file)
  is deleted and rendered again, with a warning. A cache is reused across runs only when all of
  it matches: the folder's name is a hash of the key, so other settings live in other folders.
* **Refresh.** Each pass over a rank's n shards re-renders ``refresh × n`` of them on average (a new
  generation); which generation block b reads is a pure function of b (``CacheSchedule``), so batch
  k is still a pure function of (seed, k) and a resumed run reads exactly what the uninterrupted run
  read. A background thread renders the generations the next pass needs while this one trains;
  when one is late the stream waits for it (or a missing one is rendered then).
* **Disk.** Each rank keeps its own shards plus the one being written; ``plan_shards`` sizes the
  cache so that all of them fit in ``max_gb``, and older caches under the same root (other
  settings, other renderer versions) are deleted, least recently used first, to stay within it.
  A write that fails mid-run (a full disk) keeps that shard in memory instead: the run goes on
  with the same images, with a warning.
"""

from __future__ import annotations

import concurrent.futures as futures
import hashlib
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import threading
import uuid
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, NamedTuple, Optional, Sequence

import numpy as np

from .synthetic import RENDERER_VERSION

MANIFEST_FORMAT = 1
DEFAULT_SHARD_SIZE = 1024  # 5 MB at 32×160: small enough to build in well under a second on 16 cores
CHUNK = 32  # images a render worker draws per task: small, so the last shard's tail keeps every worker busy
SHARDS_IN_FLIGHT = 3  # shards being rendered at once, so no worker idles at the end of one
FOLDER_PREFIX = "renders-"
Warn = Callable[[str], None]


def default_cache_root() -> Path:
    """``$XDG_CACHE_HOME/vin-ocr/renders``, else ``~/.cache/vin-ocr/renders``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "vin-ocr" / "renders"


@dataclass(frozen=True)
class CacheKey:
    """Everything that decides a cached render's pixels and label."""

    seed: int
    height: int
    width: int
    typefaces: str
    north_american_ratio: float
    shard_size: int
    renderer_version: int = RENDERER_VERSION

    def folder_name(self) -> str:
        digest = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]
        return f"{FOLDER_PREFIX}v{self.renderer_version}-{digest}"

    @property
    def image_bytes(self) -> int:
        return self.height * self.width

    @property
    def shard_bytes(self) -> int:
        return self.shard_size * self.image_bytes


def _shard_of(stem: str) -> Optional["ShardId"]:
    """The shard a file stem names (``shard-00012-g00003``), or None for any other name."""
    parts = stem.split("-")
    if len(parts) != 3 or parts[0] != "shard" or not parts[1].isdigit() or not parts[2][1:].isdigit() or parts[2][:1] != "g":
        return None
    return ShardId(int(parts[1]), int(parts[2][1:]))


class ShardId(NamedTuple):
    number: int  # which shard of the cache
    generation: int  # how many times it has been rendered anew

    @property
    def stem(self) -> str:
        return f"shard-{self.number:05d}-g{self.generation:05d}"


@dataclass
class Shard:
    images: np.ndarray  # uint8 [count, height, width], memory-mapped from disk (or in memory)
    vins: list[str]


class BadShard(Exception):
    """A shard on disk that must not be trained on (the message says why)."""


# ---- sizing and schedule ------------------------------------------------------------------


def plan_shards(key: CacheKey, images: int, max_gb: float, ranks: int) -> int:
    """Shards for a cache of about ``images`` renders whose files (plus one being written per rank)
    fit in ``max_gb``; a multiple of ``ranks`` so that every rank reads as many; 0 when not even one
    shard per rank fits."""
    budget = int(max_gb * 1024**3) // key.shard_bytes - ranks
    wanted = max(1, math.ceil(images / key.shard_size))
    shards = min(wanted, budget)
    return (shards // ranks) * ranks if shards >= ranks else 0


class CacheSchedule:
    """Which shard, generation and rows batch k reads: a pure function of k (and the run's settings).

    Rank r reads the shards r, r + world, r + 2·world, … (so no two ranks read the same image), in
    blocks of ``shard_size // batch_size`` batches per shard; a pass is one block of each of its n
    shards. In pass e shard j (its position in the rank's list) has generation
    ``ceil((e·m − j) / n)`` (0 when negative) with m = refresh · n: m shards a pass get new
    renders, in turn, so every shard is refreshed once every n/m passes (m need not be whole: the
    refreshes made before pass e are floor(e · refresh · n))."""

    def __init__(self, shards: int, shard_size: int, batch_size: int, rank: int, world_size: int, refresh: float, seed: int) -> None:
        self.mine = list(range(rank, shards, world_size))
        if not self.mine or batch_size > shard_size:
            raise ValueError(f"no shards for rank {rank} of {world_size} ({shards} shards of {shard_size} for batches of {batch_size})")
        self.count = len(self.mine)
        self.batch_size = batch_size
        self.shard_size = shard_size
        self.per_block = shard_size // batch_size
        self.refresh = refresh
        self._refresh_millionths = round(refresh * 1_000_000)  # integers: the same schedule on every machine
        self.seed = seed

    def block(self, k: int) -> int:
        return k // self.per_block

    def refreshed_before(self, epoch: int) -> int:
        """Shard refreshes in passes 0 … epoch − 1: floor(epoch · refresh · n), so a small cache is refreshed
        by the stated share on average (some passes one shard, some none) rather than a whole shard each."""
        return epoch * self._refresh_millionths * self.count // 1_000_000

    def generation(self, position: int, epoch: int) -> int:
        ahead = self.refreshed_before(epoch) - position
        return 0 if ahead <= 0 else -(-ahead // self.count)

    def shard_of_block(self, block: int) -> ShardId:
        epoch, position = divmod(block, self.count)
        return ShardId(self.mine[position], self.generation(position, epoch))

    def rows(self, k: int) -> np.ndarray:
        """The (sorted) rows of its shard that batch k takes: a slice of a permutation drawn per block."""
        block, offset = divmod(k, self.per_block)
        order = np.random.default_rng(_derived_seed("cache-order", self.seed, block)).permutation(self.shard_size)
        return np.sort(order[offset * self.batch_size : (offset + 1) * self.batch_size])

    def needed_after(self, block: int) -> list[ShardId]:
        """Every shard of this rank at its next use from ``block`` on, soonest first (a whole pass)."""
        return [self.shard_of_block(b) for b in range(block, block + self.count)]


def _derived_seed(*parts: object) -> int:
    return random.Random(":".join(str(p) for p in parts)).getrandbits(63)


# ---- rendering (in worker processes) --------------------------------------------------------


def render_rows(key: CacheKey, fonts: Optional[Sequence[str]], shard: ShardId, start: int, stop: int) -> tuple[np.ndarray, list[str]]:
    """Rows [start, stop) of a shard: each image a pure function of (key, shard, row)."""
    from ..vin import random_vin
    from .preprocess import to_model_input
    from .synthetic import render_vin

    images = np.empty((stop - start, key.height, key.width), dtype=np.uint8)
    vins = []
    for row in range(start, stop):
        rng = random.Random(f"vin-ocr/cache/{key.seed}/{shard.number}/{shard.generation}/{row}")
        vin = random_vin(rng, north_american=rng.random() < key.north_american_ratio)
        pixels = to_model_input(render_vin(vin, rng, fonts), key.height, key.width)
        images[row - start] = np.rint(pixels * 255.0)
        vins.append(vin)
    return images, vins


def _quiet_worker() -> None:
    """Render workers leave Ctrl-C to the trainer (which stops them), and take one core each."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["OMP_NUM_THREADS"] = "1"


def new_render_pool(workers: int) -> futures.Executor:
    """The render worker processes. spawn, not fork: the trainer may hold threads and a CUDA context,
    which fork would copy half-made. (Tests replace this with threads, which start at once.)"""
    context = multiprocessing.get_context("spawn")
    return futures.ProcessPoolExecutor(workers, mp_context=context, initializer=_quiet_worker)


# ---- files --------------------------------------------------------------------------------


def checksum(images: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(images).data)


def _manifest(key: CacheKey, shard: ShardId, images: np.ndarray, vins: list[str]) -> dict[str, object]:
    return {
        "format": MANIFEST_FORMAT,
        **asdict(key),
        "index": shard.number,
        "generation": shard.generation,
        "count": len(vins),
        "bytes": int(images.nbytes),
        "crc32": checksum(images),
        "vins": vins,
    }


def _write_atomically(path: Path, write: Callable[[object], None]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "wb") as handle:
            write(handle)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def write_shard(folder: Path, key: CacheKey, shard: ShardId, images: np.ndarray, vins: list[str]) -> None:
    """The pixels, then the manifest (the commit mark), each written whole under a temporary name first."""
    manifest = json.dumps(_manifest(key, shard, images, vins)).encode()
    _write_atomically(folder / f"{shard.stem}.npy", lambda handle: np.save(handle, images, allow_pickle=False))  # type: ignore[arg-type]
    _write_atomically(folder / f"{shard.stem}.json", lambda handle: handle.write(manifest))  # type: ignore[attr-defined]


def read_shard(folder: Path, key: CacheKey, shard: ShardId) -> Shard:
    """A shard checked against its manifest and this run's key; BadShard says what is wrong."""
    manifest_file, data_file = folder / f"{shard.stem}.json", folder / f"{shard.stem}.npy"
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise FileNotFoundError(shard.stem) from error
    except (OSError, ValueError) as error:
        raise BadShard(f"its manifest cannot be read ({error})") from error
    expected = {"format": MANIFEST_FORMAT, **asdict(key), "index": shard.number, "generation": shard.generation, "count": key.shard_size}
    wrong = [name for name, value in expected.items() if manifest.get(name) != value]
    if wrong:
        raise BadShard(f"it was rendered with other settings ({', '.join(wrong)})")
    try:
        images = np.load(data_file, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError as error:
        raise BadShard("its image file is missing") from error
    except (OSError, ValueError) as error:
        raise BadShard(f"its image file is truncated or unreadable ({error})") from error
    if images.dtype != np.uint8 or images.shape != (key.shard_size, key.height, key.width) or images.nbytes != manifest.get("bytes"):
        raise BadShard(f"its image file holds {images.dtype} {images.shape}, not what its manifest states")
    if checksum(images) != manifest.get("crc32"):
        raise BadShard("its pixels do not match their checksum (corrupted on disk)")
    vins = manifest.get("vins")
    if not isinstance(vins, list) or len(vins) != key.shard_size:
        raise BadShard("its manifest lists the wrong number of VINs")
    return Shard(images, [str(vin) for vin in vins])


def remove_shard(folder: Path, shard: ShardId) -> None:
    for suffix in (".json", ".npy"):  # the manifest first: without it the pixels are never read
        try:
            (folder / f"{shard.stem}{suffix}").unlink()
        except OSError:  # gone already, or still mapped on Windows: the next run's scan deletes it
            pass


def folder_bytes(folder: Path) -> int:
    return sum(entry.stat().st_size for entry in folder.iterdir() if entry.is_file()) if folder.is_dir() else 0


_CACHE_FOLDER = re.compile(rf"{FOLDER_PREFIX}(v\d+|labelled)-[0-9a-f]{{16}}")
_CACHE_FILE = re.compile(r"(shard-\d{5}-g\d{5}\.(npy|json)|\..*\.tmp)")


def is_render_cache(folder: Path) -> bool:
    """A folder this module made: its name, and nothing in it but shards and temporary files. ``dir`` comes from a
    config, so a folder of the user's that happens to share the prefix is never deleted."""
    if not folder.is_dir() or folder.is_symlink() or not _CACHE_FOLDER.fullmatch(folder.name):
        return False
    return all(entry.is_file() and _CACHE_FILE.fullmatch(entry.name) for entry in folder.iterdir())


def evict_other_caches(root: Path, keep: Path, max_bytes: int, planned_bytes: int) -> list[str]:
    """Deletes the least recently used other render caches under ``root`` until they and ``keep`` (at
    its planned size) fit in ``max_bytes``; returns the names of the folders deleted."""
    others = [entry for entry in root.iterdir() if entry != keep and is_render_cache(entry)]
    others.sort(key=lambda folder: folder.stat().st_mtime)
    used = sum(folder_bytes(folder) for folder in others)
    deleted = []
    for folder in others:
        if used + planned_bytes <= max_bytes:
            break
        used -= folder_bytes(folder)
        shutil.rmtree(folder, ignore_errors=True)
        deleted.append(folder.name)
    return deleted


# ---- the cache ------------------------------------------------------------------------------


class RenderCache:
    """One rank's view of a render cache: opens the shards the schedule needs, renders the missing and
    refreshed ones in the background, deletes the ones no longer needed."""

    def __init__(
        self,
        root: Path,
        key: CacheKey,
        schedule: CacheSchedule,
        fonts: Optional[Sequence[str]],
        workers: int,
        warn: Warn,
    ) -> None:
        self.key, self.schedule, self.fonts, self.warn = key, schedule, fonts, warn
        self.folder = root / key.folder_name()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.workers = max(1, workers)
        self._lock = threading.Condition()
        self._ready: set[ShardId] = set()  # on disk with a matching manifest (pixels checked when opened)
        self._in_memory: dict[ShardId, Shard] = {}  # rendered but not writable (a full disk)
        self._failed: Optional[BaseException] = None
        self._wanted: list[ShardId] = []
        self._block = -1
        self._stopping = False
        self._messages: list[str] = []  # the builder thread's warnings, handed to the trainer's thread
        self._executor: Optional[futures.Executor] = None
        self._thread: Optional[threading.Thread] = None
        self.rendered = 0
        # What an earlier run left for this one's first pass (start() checks again from the block it starts at).
        self.reused = sum((self.folder / f"{shard.stem}.json").is_file() for shard in schedule.needed_after(0))

    def _scan(self) -> None:
        """Keeps the shards an earlier run left that this one needs (by name; checksums when opened) and
        deletes this rank's others (generations no later block reads), so the disk bound holds."""
        wanted = set(self._wanted)
        mine = set(self.schedule.mine)
        for manifest in self.folder.glob("shard-*.json"):
            shard = _shard_of(manifest.stem)
            if shard is None or shard.number not in mine:
                continue
            if shard in wanted and (self.folder / f"{shard.stem}.npy").is_file():
                self._ready.add(shard)
            else:
                remove_shard(self.folder, shard)
        self.reused = len(self._ready)

    # -- the trainer's side --
    def start(self, block: int = 0) -> None:
        """Starts rendering what blocks ``block``, ``block`` + 1, … read (a resumed run starts further on)."""
        self._block = block
        self._stopping, self._failed = False, None  # a stream may be read again after an earlier close
        self._wanted = self.schedule.needed_after(block)
        self._scan()
        os.utime(self.folder)  # used now: the last cache evict_other_caches deletes
        self._thread = threading.Thread(target=self._build_loop, name="render-cache", daemon=True)
        self._thread.start()

    def shard(self, block: int) -> Shard:
        """The shard block ``block`` reads, waiting for it to be rendered if it is not there yet. Its warnings
        (a shard rendered again) wait for ``pass_on_messages``."""
        wanted = self.schedule.shard_of_block(block)
        with self._lock:
            if block != self._block:
                self._block = block
                self._wanted = self.schedule.needed_after(block)
                self._forget_stale()
                self._lock.notify_all()
        while True:
            with self._lock:
                while wanted not in self._ready and wanted not in self._in_memory and self._failed is None:
                    if self._stopping:
                        raise RuntimeError("the render cache was closed")
                    if self._thread is None or not self._thread.is_alive():
                        raise RuntimeError("the render cache's builder has stopped")
                    self._lock.wait(0.5)
                if self._failed is not None:
                    raise RuntimeError(f"rendering the cache failed: {self._failed}") from self._failed
                if wanted in self._in_memory:
                    return self._in_memory[wanted]
            try:
                return read_shard(self.folder, self.key, wanted)
            except (BadShard, FileNotFoundError) as problem:
                reason = problem if isinstance(problem, BadShard) else "its files are gone"
                self._tell(f"render cache shard {wanted.stem} in {self.folder} is not usable: {reason}; rendering it again")
                remove_shard(self.folder, wanted)
                with self._lock:
                    self._ready.discard(wanted)
                    self._lock.notify_all()

    def pass_on_messages(self) -> None:
        """Hands the warnings gathered since the last call to ``warn``, on the caller's thread (the trainer's:
        events are written from one thread only)."""
        with self._lock:
            messages, self._messages = self._messages, []
        for message in messages:
            self.warn(message)

    def close(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _forget_stale(self) -> None:
        """Deletes this rank's shards whose generation no later block reads (called with the lock held)."""
        wanted = set(self._wanted)
        for shard in [s for s in self._ready if s not in wanted]:
            self._ready.discard(shard)
            remove_shard(self.folder, shard)
        for shard in [s for s in self._in_memory if s not in wanted]:
            del self._in_memory[shard]

    # -- the builder thread --
    def _next_missing(self, building: Sequence[ShardId]) -> Optional[ShardId]:
        with self._lock:
            for shard in self._wanted:
                if shard not in self._ready and shard not in self._in_memory and shard not in building:
                    return shard
        return None

    def _pool(self) -> futures.Executor:
        if self._executor is None:
            self._executor = new_render_pool(self.workers)
        return self._executor

    def _submit(self, shard: ShardId) -> list[futures.Future]:
        pool = self._pool()
        size = self.key.shard_size
        return [pool.submit(render_rows, self.key, self.fonts, shard, start, min(size, start + CHUNK)) for start in range(0, size, CHUNK)]

    def _build_loop(self) -> None:
        building: dict[ShardId, list[futures.Future]] = {}
        try:
            while True:
                with self._lock:
                    if self._stopping:
                        return
                while len(building) < SHARDS_IN_FLIGHT:
                    shard = self._next_missing(list(building))
                    if shard is None:
                        break
                    building[shard] = self._submit(shard)
                if not building:
                    with self._lock:
                        if not self._stopping:
                            self._lock.wait(0.5)
                    continue
                first = next(iter(building))
                _, pending = futures.wait(building[first], timeout=0.25)
                if pending:
                    continue  # look at _stopping again: a run that ends must not wait for renders it will not use
                parts = [part.result() for part in building.pop(first)]
                self._store(first, np.concatenate([images for images, _ in parts]), [vin for _, vins in parts for vin in vins])
        except BaseException as error:  # noqa: B036  # reported to the trainer, which raises it
            with self._lock:
                if not self._stopping:
                    self._failed = error
                self._lock.notify_all()

    def _tell(self, message: str) -> None:
        with self._lock:
            self._messages.append(message)

    def _store(self, shard: ShardId, images: np.ndarray, vins: list[str]) -> None:
        with self._lock:
            if shard not in self._wanted:
                return  # the trainer moved past it while it was rendered
        try:
            write_shard(self.folder, self.key, shard, images, vins)
            kept_on_disk = True
        except OSError as error:
            self._tell(
                f"cannot write render cache shard {shard.stem} to {self.folder} ({error.strerror or error}): "
                "kept in memory for this run; free disk space or set data.synthetic.cache.dir"
            )
            kept_on_disk = False
        with self._lock:
            self.rendered += 1
            if kept_on_disk:
                self._ready.add(shard)
            else:
                self._in_memory[shard] = Shard(images, vins)
            self._lock.notify_all()


# ---- labelled datasets, decoded once ------------------------------------------------------------


class LabelledKey(NamedTuple):
    """What decides a labelled set's decoded images: the labels file (path, size, modification time), the
    rows read from it (an on_bad_rows change drops or keeps some) and the model size."""

    source: str
    size: int
    mtime_ns: int
    rows_digest: str
    height: int
    width: int

    def folder_name(self) -> str:
        digest = hashlib.sha256(json.dumps(list(self)).encode()).hexdigest()[:16]
        return f"{FOLDER_PREFIX}labelled-{digest}"


def labelled_key(source: Path, rows: Sequence[tuple[Path, str]], height: int, width: int) -> LabelledKey:
    stat = source.stat()
    rows_digest = hashlib.sha256("\n".join(f"{path}\t{vin}" for path, vin in rows).encode()).hexdigest()
    return LabelledKey(str(source.resolve()), stat.st_size, stat.st_mtime_ns, rows_digest, height, width)


def decoded_labelled(
    root: Path, key: LabelledKey, decode: Callable[[int], np.ndarray], vins: list[str], warn: Warn
) -> Optional[np.ndarray]:
    """The labelled set's images decoded and resized once (uint8 [rows, height, width], memory-mapped), from
    the cache when it matches ``key``, else decoded now with ``decode(row)`` (float32 0..1) and written;
    None when it cannot be written (the set is then decoded at every use, as without a cache)."""
    folder = root / key.folder_name()
    shard = ShardId(0, 0)
    cache_key = CacheKey(seed=0, height=key.height, width=key.width, typefaces="labelled", north_american_ratio=0.0, shard_size=len(vins))
    try:
        found = read_shard(folder, cache_key, shard)
        if found.vins == vins:
            os.utime(folder)
            return found.images
        warn(f"the decoded copy of {key.source} in {folder} lists other VINs; decoding it again")
    except FileNotFoundError:
        pass
    except BadShard as problem:
        warn(f"the decoded copy of {key.source} in {folder} is not usable: {problem}; decoding it again")
    images = np.empty((len(vins), key.height, key.width), dtype=np.uint8)
    for row in range(len(vins)):
        images[row] = np.rint(decode(row) * 255.0)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_shard(folder, cache_key, shard, images, vins)
    except OSError as error:
        warn(f"cannot keep the decoded copy of {key.source} in {folder} ({error.strerror or error}); it stays in memory for this run")
    return images
