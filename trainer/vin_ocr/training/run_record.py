"""Where a run stands: steps, time and samples so far, the best evaluation, and the random state.

It is the harness's part of every checkpoint (the family adds its weights and optimiser), so a
resumed run continues exactly: same step, same clock for the budget, same best checkpoint, same
random numbers (every rank's, in a data-parallel run resumed with as many ranks).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

# torch is imported where it is used, so that the launcher of a data-parallel run (torchrun.py),
# which reads configs through the harness, starts its ranks without loading it first.


def score(metrics: dict[str, Any]) -> tuple[float, float]:
    """The best checkpoint's order: exact match first, then the lower CER."""
    cer = metrics.get("cer")
    return (metrics.get("exact_match") or 0.0, -(cer if cer is not None else 1.0))


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    """This process's random state (Python's and torch's; saved so a resumed run draws the same numbers)."""
    import torch

    return {
        "python": list(_python_rng_state()),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def _set_rng_state(rng: dict[str, Any]) -> None:
    import torch

    _set_python_rng_state(rng["python"])
    torch.set_rng_state(rng["torch"])
    if rng.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


@dataclass
class RunRecord:
    step: int = 0
    elapsed: float = 0.0  # training seconds, over every session of the run
    samples_seen: int = 0
    best_score: Optional[tuple[float, float]] = None
    best_step: Optional[int] = None
    best_metrics: dict[str, float] = field(default_factory=dict)
    last_metrics: dict[str, float] = field(default_factory=dict)  # of the latest validation
    test_metrics: dict[str, float] = field(default_factory=dict)

    def validated(self, metrics: dict[str, float]) -> bool:
        """Records a validation; True when it is the best so far."""
        self.last_metrics = metrics
        if self.best_score is not None and score(metrics) <= self.best_score:
            return False
        self.best_score, self.best_step, self.best_metrics = score(metrics), self.step, metrics
        return True

    @property
    def metrics(self) -> dict[str, float]:
        """What the run reports: its best validation, else its latest."""
        return self.best_metrics or self.last_metrics

    def state(self, rank_rng: Optional[list[dict[str, Any]]] = None) -> dict[str, Any]:
        """The record; ``rank_rng``: every rank's random state, in rank order (rank 0's is ``rng``)."""
        state: dict[str, Any] = {
            "step": self.step,
            "elapsed_seconds": self.elapsed,
            "samples_seen": self.samples_seen,
            "best_score": list(self.best_score) if self.best_score else None,
            "best_step": self.best_step,
            "best_metrics": self.best_metrics,
            "metrics": self.last_metrics,
            "rng": rank_rng[0] if rank_rng else rng_state(),
        }
        if rank_rng and len(rank_rng) > 1:
            state["rank_rng"] = rank_rng
        return state

    def restore(self, state: dict[str, Any], rank: int = 0, world_size: int = 1) -> None:
        """Puts a saved record back; each rank takes its own random state when the world size is the same."""
        self.step = int(state["step"])
        self.elapsed = float(state.get("elapsed_seconds", state.get("elapsed", 0.0)))
        self.samples_seen = int(state.get("samples_seen", 0))
        self.best_metrics = dict(state.get("best_metrics") or {})
        best = state.get("best_score")
        self.best_score = (float(best[0]), float(best[1])) if best else (score(self.best_metrics) if self.best_metrics else None)
        self.best_step = state.get("best_step")
        self.last_metrics = dict(state.get("metrics") or {})
        every_rank = state.get("rank_rng") or [state.get("rng")]
        if len(every_rank) == world_size:
            rng = every_rank[rank]
        else:  # another world size: rank 0 continues from the saved state, the other ranks from their own seeds
            rng = state.get("rng") if rank == 0 else None
        if rng:
            _set_rng_state(rng)
        elif rank == 0 and "torch_rng" in state:  # fine-tuning checkpoints written before the harness
            import torch

            torch.set_rng_state(state["torch_rng"])


def _python_rng_state() -> tuple[Any, ...]:
    version, internal, gauss = random.getstate()
    return (version, list(internal), gauss)


def _set_python_rng_state(state: Any) -> None:
    version, internal, gauss = state
    random.setstate((version, tuple(internal), gauss))
