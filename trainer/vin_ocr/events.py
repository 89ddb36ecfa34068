"""The trainer's machine channel: events as JSON Lines.

One object per line, validated by ``schemas/trainer-events.schema.json``; written to
``<run>/events.jsonl`` and, when asked, to stdout or a file (``--events``). The human log
(``human_log.py``) never shares a stream with it, so a reader of the events never has to skip
log text.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import sys
from pathlib import Path
from typing import IO, Any, Optional


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _finite(value: Any) -> Any:
    """JSON has no NaN/Infinity: report them as null so every line stays parseable."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class EventWriter:
    """Writes contract events to every attached sink, flushing each line at once."""

    def __init__(self, run_id: str, extra: Optional[IO[str]] = None) -> None:
        self.run_id = run_id
        self._sinks: list[IO[str]] = [extra] if extra is not None else []
        self._owned: list[IO[str]] = []

    def attach_file(self, path: Path) -> None:
        handle = open(path, "a", encoding="utf-8")
        self._sinks.append(handle)
        self._owned.append(handle)

    def emit(self, event: str, **fields: Any) -> dict[str, Any]:
        record = {"event": event, "time": utc_now(), "run_id": self.run_id, **_finite(fields)}
        self.forward(record)
        return record

    def forward(self, record: dict[str, Any]) -> None:
        """Writes an event as it is: one another process emitted (a launcher relays its rank 0's)."""
        line = json.dumps(record, ensure_ascii=False, allow_nan=False)
        for sink in self._sinks:
            try:
                sink.write(line + "\n")
                sink.flush()
            except (OSError, ValueError):  # a closed pipe must not kill training
                pass

    def close(self) -> None:
        for handle in self._owned:
            handle.close()
        self._owned.clear()
        self._sinks = [s for s in self._sinks if not getattr(s, "closed", False)]


def open_event_stream(target: Optional[str]) -> tuple[Optional[IO[str]], bool]:
    """``-`` is stdout, anything else a file (appended); returns (stream, owned)."""
    if target is None:
        return None, False
    if target == "-":
        return sys.stdout, False
    return open(target, "a", encoding="utf-8"), True
