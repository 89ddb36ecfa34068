"""SIGINT/SIGTERM handling: finish the current step, then stop cleanly.

While the run is still setting up there is no step to finish, so a signal stops it at once.
During training the first signal only raises a flag the loop checks after every step; a
second one stops at once, for a user who really means it.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any, Optional


class Cancelled(Exception):
    """Raised where a signal stops the run at once."""


class CancelFlag:
    SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s is not None)

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: Optional[str] = None
        self._deferred = False
        self._previous: dict[int, Any] = {}

    def install(self) -> "CancelFlag":
        if threading.current_thread() is threading.main_thread():  # signals can only be caught there
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def defer(self) -> None:
        """From now on a first signal only sets the flag (the training loop is running)."""
        self._deferred = True

    def _handle(self, signum: int, _frame: Optional[FrameType]) -> None:
        first = not self.requested
        self.requested = True
        self.signal_name = signal.Signals(signum).name
        if not (self._deferred and first):
            raise Cancelled(self.signal_name)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()


def ignore_in_worker(_worker_id: int) -> None:
    """DataLoader worker init: leave signals to the main process, which stops the workers itself.

    A worker killed by a process-group SIGTERM would make the loader raise in the middle of
    the step being finished; workers still exit when the main process does.
    """
    for sig in CancelFlag.SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
