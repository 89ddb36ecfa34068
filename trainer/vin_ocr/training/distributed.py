"""Data-parallel training: what every rank (one of the processes training one model) does.

Ranks are started by torchrun, either by ``python -m vin_ocr train --nproc-per-node N`` itself
(``torchrun.py``) or by a user or a cloud task calling torchrun; a rank knows its place from
RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT. Without them the
run is one plain process: no process group, no DistributedDataParallel, nothing here costs a thing.

The facts that live here, once (docs/distributed.md explains them):

* **Batch and learning rate.** ``training.batch_size`` is per process; the global batch is
  ``batch_size × gradient_accumulation_steps × world size``. The peak learning rate is
  ``training.learning_rate × sqrt(world size)`` (the square-root rule suits AdamW's normalised
  steps; ``distributed.learning_rate_scaling: none`` keeps it as written).
* **Data.** No two ranks see the same image: every seed of rank r's synthetic stream is salted
  with r (rank 0 keeps the single-process stream, so a run's first rank trains on exactly what a
  one-process run would), and a labelled set's per-epoch permutation is cut into one slice per rank.
* **One schedule.** One small all_reduce per step carries "stop" (a cancel or a test's stop on
  any rank) and the training clock (the slowest rank's), so every rank takes the same number of
  steps, ends on the same time budget and follows the same learning-rate schedule.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional

if TYPE_CHECKING:
    import torch

    from ..config import DistributedConfig, TrainingConfig
    from ..errors import TrainerError

# What a launcher sets for each rank (torchrun sets them all; so can any other launcher).
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
# Set by the supervising ``python -m vin_ocr train`` (torchrun.py) for its ranks:
REPORTS_VARIABLE = "VIN_OCR_RANK_REPORTS"  # a folder: each rank writes rank-<R>.json there when it ends
RELAYED_VARIABLE = "VIN_OCR_EVENTS_RELAYED"  # "1": rank 0's events go to stdout only; the launcher writes events.jsonl
# For tests: a folder for each rank's pid, the VINs of its first batches and its final weights;
# "RANK:STEP" makes that rank fail in that step, or ask to stop after it (as a cancel would).
DEBUG_DIR_VARIABLE = "VIN_OCR_DEBUG_DIR"
DEBUG_FAIL_VARIABLE = "VIN_OCR_DEBUG_FAIL"
DEBUG_STOP_VARIABLE = "VIN_OCR_DEBUG_STOP"
DEBUG_BATCHES = 20

# Messages with which torch's backends report that another rank is gone or stuck.
PEER_SIGNS = ("closed by peer", "reset by peer", "remote worker", "remote process", "broken pipe", "timed out", "timeout", "aborted")


@dataclass(frozen=True)
class World:
    """This process's place among the ranks."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1  # ranks on this machine

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "World":
        env = os.environ if env is None else env
        if not started_by_launcher(env):
            return cls()
        size = int(env["WORLD_SIZE"])
        return cls(int(env["RANK"]), size, int(env.get("LOCAL_RANK", "0")), int(env.get("LOCAL_WORLD_SIZE", str(size))))


SINGLE = World()  # a process training alone: rank 0 of 1


def started_by_launcher(env: Optional[Mapping[str, str]] = None) -> bool:
    env = os.environ if env is None else env
    return all(name in env for name in LAUNCHER_VARIABLES)


# ---- the rules ------------------------------------------------------------------------------
def learning_rate_scale(world_size: int, rule: str) -> float:
    return math.sqrt(world_size) if rule == "sqrt" else 1.0


def global_batch_size(training: "TrainingConfig", world_size: int) -> int:
    return training.batch_size * int(getattr(training, "gradient_accumulation_steps", 1)) * world_size


def choose_backend(setting: str, device: str) -> str:
    if setting != "auto":
        return setting
    return "nccl" if device == "cuda" else "gloo"


def cuda_gpu_count() -> int:
    """CUDA GPUs this interpreter's torch sees (0 for a CPU-only build, which is answered without importing torch)."""
    from ..hardware import torch_facts

    return len(torch_facts().get("cuda_devices") or [])


def processes_per_node(setting: Any, device: str) -> int:
    """``distributed.nproc_per_node``: a number, or auto (one per CUDA GPU when training on CUDA, else 1)."""
    if setting != "auto":
        return int(setting)
    return max(1, cuda_gpu_count()) if device in ("auto", "cuda") else 1


def rank_seed(seed: int, rank: int) -> int:
    """Rank ``rank``'s seed for the global random generators: rank 0 keeps ``seed`` (a single process's)."""
    return seed if rank == 0 else random.Random(f"{seed}:rank:{rank}").getrandbits(63)


def rank_salt(rank: int) -> tuple[object, ...]:
    """What rank r adds to every seed of its data stream: nothing for rank 0 (the single-process stream)."""
    return () if rank == 0 else ("rank", rank)


def rank_slice(position: int, per_rank: int, rank: int) -> tuple[int, int]:
    """[start, end) of rank ``rank``'s part of the global batch that starts at ``position`` of the data order.

    The global batch holds ``per_rank`` items of every rank, one slice after the other, so the
    slices of one step never overlap and one epoch's permutation is shared out without repeats.
    """
    start = position + rank * per_rank
    return start, start + per_rank


def caused_by_peer(error: BaseException) -> bool:
    """Whether a failure is the echo of another rank's (a collective that lost its peer, or timed out)."""
    text = str(error).lower()
    return any(sign in text for sign in PEER_SIGNS)


# ---- the team: the few collectives the harness needs -------------------------------------------
class Team:
    """The ranks of one run as this process sees them; a single process is a team of one."""

    def __init__(self, world: World = SINGLE, device: str = "cpu", joined: bool = False) -> None:
        self.world = world
        self.device = device
        self.joined = joined  # a process group exists (several ranks)
        self.probe = DebugProbe(world.rank)
        self._wrapped: Optional[Any] = None  # the module handed to wrap(), for the debug dump

    @property
    def rank(self) -> int:
        return self.world.rank

    @property
    def size(self) -> int:
        return self.world.size

    @property
    def is_main(self) -> bool:
        return self.world.is_main

    @classmethod
    def join(cls, settings: "DistributedConfig", device: str) -> "Team":
        """Joins the run's process group when a launcher started several ranks; else a team of one.

        A launcher's only rank (torchrun --nproc-per-node 1) trains like a plain process: no
        process group, no DistributedDataParallel, whose hooks and gradient copies would cost the
        CRNN's step 2 % on 2 CPU cores for nothing (bench/distributed_bench.py; docs/distributed.md).
        """
        world = World.from_env()
        if world.size == 1:
            return cls()
        import torch
        import torch.distributed as dist

        if device == "cuda":
            torch.cuda.set_device(world.local_rank)  # one GPU per rank
        elif device == "cpu":
            from .device import usable_cores

            # torchrun sets OMP_NUM_THREADS=1; the ranks on one machine share its cores instead.
            torch.set_num_threads(max(1, usable_cores() // world.local_size))
        timeout = _dt.timedelta(minutes=settings.timeout_minutes)
        dist.init_process_group(choose_backend(settings.backend, device), timeout=timeout)
        team = cls(world, device, joined=True)
        team.probe.started()
        return team

    def _tensor_device(self) -> str:
        return "cuda" if self.device == "cuda" else "cpu"

    def wrap(self, module: "torch.nn.Module") -> "torch.nn.Module":
        """The module to train with: DistributedDataParallel over its trainable parameters in a team.

        Frozen parameters (a LoRA fine-tune's base model) are left out of DDP's start-up broadcast
        and gradient buckets: every rank loads the same weights for them, and they get no gradients.
        """
        self._wrapped = module
        if not self.joined:
            return module
        from torch.nn.parallel import DistributedDataParallel

        frozen = [name for name, parameter in module.named_parameters() if not parameter.requires_grad]
        if frozen:
            DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(module, frozen)
        device_ids = [self.world.local_rank] if self.device == "cuda" else None
        return DistributedDataParallel(module, device_ids=device_ids)

    def no_sync(self, trained: Any) -> contextlib.AbstractContextManager[Any]:
        """Accumulating gradients: no all-reduce until the last micro-batch of a step."""
        return trained.no_sync() if self.joined else contextlib.nullcontext()

    def agree(self, stop: bool, elapsed: float) -> tuple[bool, float]:
        """Every rank's (stop, training seconds) → (any rank wants to stop, the slowest rank's clock).

        One all_reduce of two numbers per step (0.4 ms between 2 CPU ranks over gloo, 0.3 % of
        their CRNN step: docs/distributed.md), so that cancels, the time budget and a time-based
        learning-rate schedule are the same on every rank.
        """
        if not self.joined:
            return stop, elapsed
        import torch
        import torch.distributed as dist

        flags = torch.tensor([1.0 if stop else 0.0, elapsed], dtype=torch.float64, device=self._tensor_device())
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        stop_any, slowest = flags.tolist()
        return stop_any > 0, slowest

    def share(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank."""
        if not self.joined:
            return value
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, value: Any) -> Optional[list[Any]]:
        """Every rank's ``value``, in rank order, on rank 0; None on the others."""
        if not self.joined:
            return [value]
        import torch.distributed as dist

        values: Optional[list[Any]] = [None] * self.size if self.is_main else None
        dist.gather_object(value, values, dst=0)
        return values

    def error_event(self, error: Optional["TrainerError"]) -> Optional[dict[str, Any]]:
        """A failure as the ``error`` of run_finished: in a team of several it names the rank."""
        if error is None:
            return None
        event = error.to_event()
        if self.size > 1:
            event.update(message=f"rank {self.rank}: {event['message']}", rank=self.rank)
        return event

    def report_end(self, status: str, error: Optional["TrainerError"], cause: Optional[BaseException]) -> None:
        """How this rank ended, for the launcher that supervises the run (torchrun.py) and torchrun's own summary."""
        folder = os.environ.get(REPORTS_VARIABLE)
        if folder and self.joined:
            record = {
                "rank": self.rank,
                "local_rank": self.world.local_rank,
                "status": status,
                "error": self.error_event(error),
                "peer": bool(cause is not None and caused_by_peer(cause)),
                "time": time.time(),
            }
            _write_json_atomically(Path(folder) / f"rank-{self.rank}.json", record)
        if error is not None and os.environ.get("TORCHELASTIC_ERROR_FILE"):
            from torch.distributed.elastic.multiprocessing.errors import ErrorHandler

            try:  # torchrun then names this rank's error in its summary, whoever started it
                ErrorHandler().record_exception(error)
            except Exception:  # noqa: BLE001 - a report must never hide the failure itself
                pass

    def training_ended(self) -> None:
        """The last training step is done (before rank 0 swaps in the best weights for its test)."""
        self.probe.finished(self._wrapped)

    def close(self, failed: bool) -> None:
        if not self.joined:
            return
        import torch.distributed as dist

        # After a failure a collective may be left pending (a peer is gone): leave the group to
        # the process's exit instead of a destroy that could wait for it. Otherwise every rank waits for the
        # others first: rank 0 still validates, tests and saves when the rest are done, and a rank that tore the
        # group down meanwhile was seen to abort at exit ("terminate called without an active exception", ~1 run
        # in 4 of two localhost nodes), which left rank 0 waiting for it.
        if not failed and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()


class DebugProbe:
    """Test hooks (VIN_OCR_DEBUG_*); does nothing unless a test sets them."""

    def __init__(self, rank: int) -> None:
        self.rank = rank
        folder = os.environ.get(DEBUG_DIR_VARIABLE)
        self.folder = Path(folder) if folder else None
        self.fail_at = self._step_of(DEBUG_FAIL_VARIABLE)
        self.stop_after = self._step_of(DEBUG_STOP_VARIABLE)
        self.vins: list[list[str]] = []

    def _step_of(self, variable: str) -> Optional[int]:
        """The STEP of "RANK:STEP" in ``variable`` when RANK is this rank's."""
        rank, _, step = os.environ.get(variable, "").partition(":")
        return int(step) if step and int(rank) == self.rank else None

    def wants_stop(self, step: int) -> bool:
        return self.stop_after is not None and step >= self.stop_after

    def started(self) -> None:
        if self.folder is not None:
            (self.folder / f"pid-{self.rank}").write_text(str(os.getpid()), encoding="utf-8")

    def step(self, step: int, batch: Any) -> None:
        if self.fail_at is not None and step == self.fail_at:
            raise RuntimeError(f"injected failure on rank {self.rank} at step {step}")
        if self.folder is not None and len(self.vins) < DEBUG_BATCHES:
            self.vins.append(list(getattr(batch, "vins", None) or []))  # the baseline's Batch

    def finished(self, module: Any) -> None:
        if self.folder is None:
            return
        _write_json_atomically(self.folder / f"vins-{self.rank}.json", self.vins)
        if module is not None:
            import torch

            weights = {name: p.detach().cpu() for name, p in module.named_parameters() if p.requires_grad}
            torch.save(weights, self.folder / f"params-{self.rank}.pt")


def _write_json_atomically(path: Path, value: Any) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(value), encoding="utf-8")
    os.replace(temporary, path)
