"""The trainer's channel for people: plain text on stderr and in ``<run>/train.log``.

On a terminal, progress is one live bar line rewritten in place. Anywhere else (the extension's
output channel, CI, a file) a rewritten line would become hundreds of lines, so progress is a
plain line (no bar characters) only when both 30 s and 5 % of the budget have passed since the
last one (whichever gives fewer lines), plus one at every evaluation; ``train.log`` follows the
same rule.
"""

from __future__ import annotations

import datetime as _dt
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Optional, TextIO

PLAIN_EVERY_SECONDS = 30.0
PLAIN_EVERY_FRACTION = 0.05
BAR_WIDTH = 24


@dataclass(frozen=True)
class Progress:
    step: int
    total_steps: int
    loss: float
    samples_per_sec: float
    eta_seconds: Optional[float]
    fraction: float  # of the binding budget done, 0..1
    budget: str  # steps | time: the budget predicted to end the run

    def _eta(self) -> str:
        eta = self.eta_seconds
        return "--:--" if eta is None else f"{int(eta // 60):02d}:{int(eta % 60):02d}"

    def bar_line(self) -> str:
        done = int(BAR_WIDTH * min(max(self.fraction, 0.0), 1.0))
        bar = "#" * done + "-" * (BAR_WIDTH - done)
        return f"[{bar}] step {self.step}/{self.total_steps} loss {self.loss:.4f} {self.samples_per_sec:.0f} img/s eta {self._eta()}"

    def plain_line(self) -> str:
        return (
            f"step {self.step}/{self.total_steps}, {self.fraction:.0%} of the {self.budget} budget: "
            f"loss {self.loss:.4f}, {self.samples_per_sec:.0f} img/s, eta {self._eta()}"
        )


class HumanLog:
    def __init__(self, stream: TextIO = sys.stderr, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._clock = clock
        self._file: Optional[IO[str]] = None
        self._interactive = bool(getattr(stream, "isatty", lambda: False)())
        self._bar_shown = False
        self._pending: Optional[Progress] = None  # the latest progress not yet written as a plain line
        self._plain_at: Optional[tuple[float, float]] = None  # (time, fraction) of the last plain line

    def attach_file(self, path: Path) -> None:
        self._file = open(path, "a", encoding="utf-8")

    def _clear_bar(self) -> None:
        if self._bar_shown:
            self._stream.write("\n")
            self._bar_shown = False

    def info(self, message: str) -> None:
        self._clear_bar()
        self._stream.write(f"{message}\n")
        self._stream.flush()
        self._to_file(message)

    def _to_file(self, message: str) -> None:
        if self._file:
            self._file.write(f"{_dt.datetime.now().strftime('%H:%M:%S')} {message}\n")
            self._file.flush()

    def progress(self, progress: Progress) -> None:
        if self._interactive:
            self._stream.write("\r" + progress.bar_line())
            self._stream.flush()
            self._bar_shown = True
        self._pending = progress
        now = self._clock()
        if self._plain_at is None:
            due = True
        else:
            since, fraction = self._plain_at
            due = now - since >= PLAIN_EVERY_SECONDS and progress.fraction - fraction >= PLAIN_EVERY_FRACTION
        if due:
            self._write_plain()

    def write_progress_now(self) -> None:
        """The latest progress as a plain line now (before an evaluation, or at the end of the budget)."""
        if self._pending is not None:
            self._write_plain()

    def _write_plain(self) -> None:
        progress = self._pending
        if progress is None:
            return
        self._pending = None
        self._plain_at = (self._clock(), progress.fraction)
        line = progress.plain_line()
        if not self._interactive:
            self._stream.write(line + "\n")
            self._stream.flush()
        self._to_file(line)

    def close(self) -> None:
        self._clear_bar()
        if self._file:
            self._file.close()
            self._file = None
