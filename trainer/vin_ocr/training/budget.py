"""A run's budget: it ends at whichever of ``max_steps`` and ``max_minutes`` comes first.

``fraction`` is how much of that budget is done: max(steps done / max_steps, time spent /
max_minutes), so it only grows and reaches 1 exactly when the run ends. ``binding`` is the budget
predicted, from the current step rate, to end the run; ``eta_seconds`` follows it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Optional

STEPS, TIME = "steps", "time"


@dataclass(frozen=True)
class Forecast:
    fraction: float
    binding: str  # steps | time
    eta_seconds: Optional[float]


@dataclass(frozen=True)
class Budget:
    max_steps: int
    max_seconds: Optional[float] = None

    def time_is_up(self, elapsed: float) -> bool:
        return self.max_seconds is not None and elapsed >= self.max_seconds

    def fraction(self, step: int, elapsed: float) -> float:
        done = step / self.max_steps
        if self.max_seconds:
            done = max(done, elapsed / self.max_seconds)
        return min(done, 1.0)

    def forecast(self, step: int, elapsed: float, steps_per_second: float) -> Forecast:
        fraction = self.fraction(step, elapsed)
        steps_eta = (self.max_steps - step) / steps_per_second if steps_per_second > 0 else None
        if self.max_seconds is None:
            return Forecast(fraction, STEPS, steps_eta)
        time_left = max(0.0, self.max_seconds - elapsed)
        if steps_eta is None:  # no rate yet: the budget used up further so far is the guess
            by_time = elapsed / self.max_seconds >= step / self.max_steps
            return Forecast(fraction, TIME if by_time else STEPS, time_left if by_time else None)
        if time_left < steps_eta:
            return Forecast(fraction, TIME, time_left)
        return Forecast(fraction, STEPS, steps_eta)


class RateWindow:
    """Samples and steps per second over the last few progress reports (smooths one slow step)."""

    def __init__(self, now: float, step: int, samples: int, size: int = 10) -> None:
        self._points: deque[tuple[float, int, int]] = deque([(now, step, samples)], maxlen=size)

    def add(self, now: float, step: int, samples: int) -> None:
        self._points.append((now, step, samples))

    def rates(self) -> tuple[float, float]:
        """(samples per second, steps per second)."""
        (t0, step0, samples0), (t1, step1, samples1) = self._points[0], self._points[-1]
        if t1 <= t0:
            return 0.0, 0.0
        return (samples1 - samples0) / (t1 - t0), (step1 - step0) / (t1 - t0)
