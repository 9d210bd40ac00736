"""Cheating workers made from the outside, the way a real cheater would: the worker is the
shipped ``cpushare-worker``, unmodified, but ``CPUSHARE_NATIVE_DIR`` points it at a
wrapper "loader" (``liar_proxy.c``, built here) that runs the real loader and flips every
result byte on its way out: a lying sandbox with a valid ABI, whose wrong answers the worker
signs with its own valid key.

The shipped worker has no switch that makes it cheat; this module is the only cheater.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from cpushare_mq.native import find_binary

_SOURCE = Path(__file__).with_name("liar_proxy.c")


def _proxy(directory: Path) -> Path:
    exe = directory / "liar-proxy"
    if not exe.exists():
        subprocess.run(["cc", "-O2", "-o", str(exe), str(_SOURCE)], check=True, timeout=60)
    return exe


def cheating_native_dir(directory: Path, delay_s: float = 0.0) -> Path:
    """Make ``directory`` a native dir whose ``cpushare-loader`` lies (every 'D' byte of
    every result flipped; each 'E' held back ``delay_s``). Returns ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    proxy = _proxy(directory)
    real = find_binary("cpushare-loader")
    path = directory / "cpushare-loader"
    path.write_text(f"#!/bin/sh\nexec {shlex.quote(str(proxy))} {shlex.quote(str(real))} "
                    f"{int(delay_s * 1e6)} \"$@\"\n")
    path.chmod(0o755)
    return directory


def cheater_env(directory: Path, delay_s: float = 0.0) -> dict[str, str]:
    """The environment of a cheating ``cpushare-worker`` process."""
    return {**os.environ, "CPUSHARE_NATIVE_DIR": str(cheating_native_dir(directory, delay_s))}
