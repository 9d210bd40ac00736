#!/usr/bin/env python3
"""Loader costs that load on the machine does not blur: CPU time per start and peak memory.

    .venv/bin/python bench/loader_bench.py [--baseline-loader PATH ...] [--starts N]

For the loader being measured (c/build/cpushare-loader, or CPUSHARE_NATIVE_DIR's) and, when
given, baseline loader binaries (e.g. built from an earlier commit) in the same run,
alternating:

* CPU per cold start: user + system CPU of the loader and program processes (the runner's
  reaped children, getrusage(RUSAGE_CHILDREN)) per `Sandbox(echo.elf).run(b"x")`, the mean
  over N starts; unlike wall time it does not grow with the other processes on the machine;
* peak memory while loading a large program: VmHWM of hostile/big_data.elf (a 24 MiB program
  file) after its first fragment, loader phase included, under a 1 GiB cap;
* warm round trip: median of ABI echo round trips (100 bytes) in a reused process (wall
  time: load blurs it, but the loaders alternate in the same run).

Example (baseline = the loader of an earlier commit):
    git show OLD:c/loader/loader.c > /tmp/old/loader.c   # and tramp.S, xstate.[ch]
    gcc -O2 -fPIE -static-pie /tmp/old/*.c /tmp/old/tramp.S -o /tmp/old/cpushare-loader
    .venv/bin/python bench/loader_bench.py --baseline-loader /tmp/old/cpushare-loader
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpushare_mq.native import find_binary  # noqa: E402
from cpushare_mq.sandbox import Sandbox, SandboxLimits  # noqa: E402


def children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def cpu_per_start(loader: Path | None, echo: Path, n: int) -> float:
    before = children_cpu_s()
    for _ in range(n):
        with Sandbox(echo, loader=loader, idle=False) as sb:
            rec = sb.run(b"x")
        if not rec.ok:
            raise SystemExit(f"echo failed: {rec}")
    return (children_cpu_s() - before) / n


def peak_loading_bytes(loader: Path | None, program: Path) -> int:
    limits = SandboxLimits(cpu_s=30, wall_s=120, max_memory_bytes=1 << 30)
    with Sandbox(program, limits=limits, loader=loader, idle=False) as sb:
        rec = sb.run(b"x")
        if not rec.ok:
            raise SystemExit(f"big_data failed: {rec}")
        for line in Path(f"/proc/{sb.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no VmHWM")


def warm_round_trip_s(loader: Path | None, echo: Path, n: int) -> float:
    with Sandbox(echo, loader=loader) as sb:
        for _ in range(200):
            sb.run(b"x" * 100)
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            rec = sb.run(b"x" * 100)
            times.append(time.perf_counter() - t0)
            if not rec.ok:
                raise SystemExit(f"echo failed: {rec}")
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline-loader", type=Path, action="append", default=[],
                    help="an earlier loader binary to compare with (repeatable)")
    ap.add_argument("--starts", type=int, default=500, help="cold starts per round (default 500)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    ap.add_argument("--round-trips", type=int, default=5000, help="warm round trips per round")
    args = ap.parse_args()
    echo = find_binary("examples/echo.elf")
    big = find_binary("hostile/big_data.elf")
    loaders: dict[str, Path | None] = {"this": None}
    for path in args.baseline_loader:
        loaders[str(path)] = path
    print(f"# loader bench  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
          f"{platform.machine()} {os.cpu_count()} cpus  load {os.getloadavg()[0]:.1f}")
    cpu: dict[str, list[float]] = {k: [] for k in loaders}
    warm: dict[str, list[float]] = {k: [] for k in loaders}
    for _ in range(args.rounds):
        for name, path in loaders.items():
            cpu[name].append(cpu_per_start(path, echo, args.starts))
            warm[name].append(warm_round_trip_s(path, echo, args.round_trips))
    for name, path in loaders.items():
        peak = peak_loading_bytes(path, big)
        print(f"{name}: CPU per cold start (best round of {args.rounds} x {args.starts}) "
              f"{min(cpu[name]) * 1e6:.0f} us ({min(cpu[name]) / min(cpu['this']):.2f}x this); "
              f"warm round trip medians {', '.join(f'{w * 1e6:.1f}' for w in warm[name])} us; "
              f"peak loading a {big.stat().st_size / 2**20:.0f} MiB program {peak / 2**20:.1f} MiB")
    print(f"# load at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
