"""Cheating workers made from the outside, the way a real cheater would: the worker is the
shipped ``cpushare-worker``, unmodified, but ``CPUSHARE_NATIVE_DIR`` points it at a
wrapper "loader" (``tests/loader_proxy.c``, mode "liar") that runs the real loader and flips every
result byte on its way out: a lying sandbox with a valid ABI, whose wrong answers the worker
signs with its own valid key. Like a real cheater it is honest with the worker's self-test
probe program (``cpushare-worker`` checks its sandbox before it joins a hub), so it starts.

The shipped worker has no switch that makes it cheat; this module is the only cheater.
"""

from __future__ import annotations

import os
from pathlib import Path

from proxied_loader import proxied_native_dir


def cheating_native_dir(directory: Path, delay_s: float = 0.0) -> Path:
    """Make ``directory`` a native dir whose ``cpushare-loader`` lies (every 'D' byte of
    every result flipped; each 'E' held back ``delay_s``). Returns ``directory``."""
    return proxied_native_dir(directory, "liar", int(delay_s * 1e6))


def cheater_env(directory: Path, delay_s: float = 0.0) -> dict[str, str]:
    """The environment of a cheating ``cpushare-worker`` process."""
    return {**os.environ, "CPUSHARE_NATIVE_DIR": str(cheating_native_dir(directory, delay_s))}
