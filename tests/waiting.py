"""Waiting for a condition in tests that run real processes: one helper for every area.

Importable as ``from waiting import wait_for`` (tests/conftest.py puts this folder on the path).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(cond: Callable[[], T], timeout_s: float, what: str, poll_s: float = 0.02,
             explain: Callable[[], str] | None = None) -> T:
    """Poll ``cond`` until it returns something true and return that; raise TimeoutError
    naming ``what`` after ``timeout_s`` seconds, with ``explain()`` (say, the logs of the
    processes involved) appended so a failure under load can be diagnosed from its report."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(poll_s)
    detail = f"\n{explain()}" if explain is not None else ""
    raise TimeoutError(f"timed out after {timeout_s:g} s waiting for {what}{detail}")
