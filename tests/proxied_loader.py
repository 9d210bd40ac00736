"""Native dirs whose ``cpushare-loader`` is ``loader_proxy.c`` around the real loader (a
dishonest sandbox, made from the outside as a real cheater would: the shipped worker with
``CPUSHARE_NATIVE_DIR`` pointing here). Honest with the worker's self-test probe program,
which it runs with the real loader, so the worker starts."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from cpushare_mq.native import find_binary
from cpushare_mq.sandbox.probe import PROBE_PROGRAM

_SOURCE = Path(__file__).with_name("loader_proxy.c")


def probe_honest_native_dir(directory: Path, then: str) -> Path:
    """Make ``directory`` a native dir whose ``cpushare-loader`` runs the real loader for
    the worker's self-test probe program and the shell command ``then`` for any other
    program (the loader's arguments in "$@"). Returns ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    real, probe = find_binary("cpushare-loader"), find_binary(PROBE_PROGRAM)
    loader = directory / "cpushare-loader"
    loader.write_text(
        "#!/bin/sh\n"
        'fd=""; prev=""\n'
        'for a in "$@"; do [ "$prev" = --program-fd ] && fd="$a"; prev="$a"; done\n'
        f'if [ -n "$fd" ] && cmp -s "/proc/self/fd/$fd" {shlex.quote(str(probe))}; then '
        f'exec {shlex.quote(str(real))} "$@"; fi\n'
        f"{then}\n")
    loader.chmod(0o755)
    return directory


def proxied_native_dir(directory: Path, mode: str, arg: int) -> Path:
    """Make ``directory`` a native dir whose loader is the proxy in ``mode`` ("liar": ARG =
    delay of each 'E' in microseconds; "meter": ARG = CPU factor x 1000). Returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    proxy = directory / "loader-proxy"
    if not proxy.exists():
        subprocess.run(["cc", "-O2", "-o", str(proxy), str(_SOURCE)], check=True, timeout=60)
    real = find_binary("cpushare-loader")
    return probe_honest_native_dir(
        directory, f'exec {shlex.quote(str(proxy))} {shlex.quote(str(real))} {mode} {int(arg)} "$@"')
