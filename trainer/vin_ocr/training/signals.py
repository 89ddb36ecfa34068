"""SIGINT/SIGTERM handling: finish the current step, then stop cleanly.

While the run is still setting up there is no step to finish, so a signal stops it at once.
During training the first signal only raises a flag the loop checks after every step; a
second one stops at once, for a user who really means it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from types import FrameType
from typing import Any, Callable, Optional


class Cancelled(Exception):
    """Raised where a signal stops the run at once."""


class CancelFlag:
    SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s is not None)

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: Optional[str] = None
        self._deferred = False
        self._holding = False
        self._previous: dict[int, Any] = {}

    def install(self) -> "CancelFlag":
        if threading.current_thread() is threading.main_thread():  # signals can only be caught there
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def defer(self) -> None:
        """From now on a first signal only sets the flag (the training loop is running)."""
        self._deferred = True

    def hold(self) -> None:
        """From now on signals are only noted: the run is ending and must still say how (run_finished).

        In data-parallel training torchrun signals every rank as soon as one has failed, just when
        the others are reporting it."""
        self._holding = True

    def _handle(self, signum: int, _frame: Optional[FrameType]) -> None:
        first = not self.requested
        self.requested = True
        self.signal_name = signal.Signals(signum).name
        if not self._holding and not (self._deferred and first):
            raise Cancelled(self.signal_name)

    def follow_parent(self) -> None:
        """Stop as a SIGTERM would when the parent process is gone: a rank whose torchrun was killed
        outright (SIGKILL can pass nothing on) still saves its checkpoint and ends."""

        def cancel() -> None:
            if not self.requested:  # a second signal would stop at once, without the checkpoint
                os.kill(os.getpid(), signal.SIGTERM)

        when_parent_exits(cancel)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()


def when_parent_exits(callback: Callable[[], None], every_seconds: float = 0.5) -> None:
    """Calls ``callback`` once, from a daemon thread, when this process's parent has exited."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_seconds)
        callback()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def ignore_in_worker(_worker_id: int) -> None:
    """DataLoader worker init: leave signals to the main process, which stops the workers itself.

    A worker killed by a process-group SIGTERM would make the loader raise in the middle of
    the step being finished; workers still exit when the main process does.
    """
    for sig in CancelFlag.SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
