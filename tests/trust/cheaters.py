"""Cheating workers made from the outside, the way a real cheater would: the worker is the
shipped ``cpushare-worker``, unmodified, but ``CPUSHARE_NATIVE_DIR`` points it at a
wrapper "loader" (``liar_proxy.c``, built here) that runs the real loader and flips every
result byte on its way out: a lying sandbox with a valid ABI, whose wrong answers the worker
signs with its own valid key. Like a real cheater it is honest with the worker's self-test
probe program (``cpushare-worker`` checks its sandbox before it joins a hub), so it starts.

The shipped worker has no switch that makes it cheat; this module is the only cheater.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from cpushare_mq.native import find_binary
from cpushare_mq.sandbox.probe import PROBE_PROGRAM

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
    probe = find_binary(PROBE_PROGRAM)
    path.write_text(
        "#!/bin/sh\n"
        'fd=""; prev=""\n'
        'for a in "$@"; do [ "$prev" = --program-fd ] && fd="$a"; prev="$a"; done\n'
        f'if [ -n "$fd" ] && cmp -s "/proc/self/fd/$fd" {shlex.quote(str(probe))}; then '
        f'exec {shlex.quote(str(real))} "$@"; fi\n'
        f"exec {shlex.quote(str(proxy))} {shlex.quote(str(real))} {int(delay_s * 1e6)} \"$@\"\n")
    path.chmod(0o755)
    return directory


def cheater_env(directory: Path, delay_s: float = 0.0) -> dict[str, str]:
    """The environment of a cheating ``cpushare-worker`` process."""
    return {**os.environ, "CPUSHARE_NATIVE_DIR": str(cheating_native_dir(directory, delay_s))}
