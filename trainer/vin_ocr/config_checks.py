"""Value checks for config keys: each returns None when the value is fine, else what was expected.

Shared by every family's config section (see ``config.py``), so that every family reports a bad
value in the same words.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

Check = Callable[[Any], Optional[str]]


def integer(low: int, high: Optional[int] = None, allow_null: bool = False) -> Check:
    def check(value: Any) -> Optional[str]:
        if value is None and allow_null:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            return "expected an integer" + (" or null" if allow_null else "")
        if value < low or (high is not None and value > high):
            return f"expected an integer from {low}" + (f" to {high}" if high is not None else " up")
        return None

    return check


def number(low: float, high: Optional[float] = None, allow_null: bool = False, exclusive_low: bool = False) -> Check:
    def check(value: Any) -> Optional[str]:
        if value is None and allow_null:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "expected a number" + (" or null" if allow_null else "")
        if value < low or (exclusive_low and value == low) or (high is not None and value > high):
            return f"expected a number {'>' if exclusive_low else '>='} {low}" + (f" and <= {high}" if high is not None else "")
        return None

    return check


def choice(options: tuple[str, ...]) -> Check:
    return lambda value: None if value in options else f"expected one of {', '.join(options)}"


def boolean(value: Any) -> Optional[str]:
    return None if isinstance(value, bool) else "expected true or false"


def text(allow_null: bool = False) -> Check:
    def check(value: Any) -> Optional[str]:
        if value is None and allow_null:
            return None
        return None if isinstance(value, str) and value.strip() else "expected a non-empty string" + (" or null" if allow_null else "")

    return check


def data_source(allow_null: bool) -> Check:
    def check(value: Any) -> Optional[str]:
        if value is None and allow_null:
            return None
        if isinstance(value, str) and value.strip():
            return None
        return "expected 'synthetic' or a path to labels.txt / an image folder" + (", or null" if allow_null else "")

    return check


def endpoint(allow_null: bool = False) -> Check:
    """HOST:PORT (a rendezvous endpoint); HOST may be a name, an IPv4 address or a bracketed IPv6 one."""

    def check(value: Any) -> Optional[str]:
        if value is None and allow_null:
            return None
        expected = "expected HOST:PORT, e.g. 10.0.0.1:29500" + (", or null" if allow_null else "")
        if not isinstance(value, str):
            return expected
        host, _, port = value.rpartition(":")
        if not host.strip("[]") or not port.isdigit() or not 1 <= int(port) <= 65535:
            return expected
        return None

    return check


def auto_or(check: Check) -> Check:
    """A setting that is "auto" or passes `check`."""
    return lambda value: None if value == "auto" else check(value)


def mapping_of(checks: dict[str, Check]) -> Check:
    """A small mapping (e.g. ``fallback``) whose keys are all known and whose values pass their checks."""

    def check(value: Any) -> Optional[str]:
        if not isinstance(value, dict):
            return "expected a mapping"
        for key, item in value.items():
            if key not in checks:
                return f"unknown key '{key}' (expected {', '.join(checks)})"
            problem = checks[key](item)
            if problem:
                return f"{key}: {problem}"
        return None

    return check
