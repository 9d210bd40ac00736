"""Driving the buyer's commands as subprocesses: a clean environment, reading their stderr
until a line appears, and Ctrl-C with the rest of what they say."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager


def clean_env(**extra) -> dict:
    """The environment without the user's CPUSHARE_* settings (the native dir stays)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPUSHARE_") or k == "CPUSHARE_NATIVE_DIR"}
    env.update(extra)
    return env


def read_until(proc: subprocess.Popen, needle: str, timeout_s: float = 60.0) -> str:
    """stderr lines of ``proc`` until one contains ``needle`` (the process keeps running)."""
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} not seen within {timeout_s} s; got:\n{''.join(seen)}")


@contextmanager
def running(proc: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """``proc`` for the block; killed at its end if it is still running (a failed test)."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def interrupt(proc: subprocess.Popen, expect_rc: int = 130, timeout_s: float = 60) -> str:
    """Ctrl-C ``proc``; returns the rest of its stderr once it exited with ``expect_rc``."""
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout_s) == expect_rc, rest
    return rest
