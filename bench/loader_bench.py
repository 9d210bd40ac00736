#!/usr/bin/env python3
"""Loader costs that load on the machine does not blur: CPU time per start and peak memory.

    .venv/bin/python bench/loader_bench.py [--baseline-loader PATH] [--starts N]

For the loader being measured (c/build/cpushare-loader, or CPUSHARE_NATIVE_DIR's) and, when
given, a baseline loader binary (e.g. one built from an earlier commit) in the same run,
alternating:

* CPU per cold start: user + system CPU of the loader and program processes (the runner's
  reaped children, getrusage(RUSAGE_CHILDREN)) per `Sandbox(echo.elf).run(b"x")`, the mean
  over N starts; unlike wall time it does not grow with the other processes on the machine;
* peak memory while loading a large program: VmHWM of hostile/big_data.elf (a 24 MiB program
  file) after its first fragment, loader phase included, under a 1 GiB cap.

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
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpushare_mq.native import find_binary  # noqa: E402
from cpushare_mq.sandbox import Limits, Sandbox  # noqa: E402


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
    limits = Limits(cpu_s=30, wall_s=120, max_memory_bytes=1 << 30)
    with Sandbox(program, limits=limits, loader=loader, idle=False) as sb:
        rec = sb.run(b"x")
        if not rec.ok:
            raise SystemExit(f"big_data failed: {rec}")
        for line in Path(f"/proc/{sb.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no VmHWM")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline-loader", type=Path, help="an earlier loader binary to compare with")
    ap.add_argument("--starts", type=int, default=500, help="cold starts per round (default 500)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    args = ap.parse_args()
    echo = find_binary("examples/echo.elf")
    big = find_binary("hostile/big_data.elf")
    loaders = {"this": None}
    if args.baseline_loader:
        loaders["baseline"] = args.baseline_loader
    print(f"# loader bench  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
          f"{platform.machine()} {os.cpu_count()} cpus  load {os.getloadavg()[0]:.1f}")
    cpu: dict[str, list[float]] = {k: [] for k in loaders}
    for _ in range(args.rounds):
        for name, path in loaders.items():
            cpu[name].append(cpu_per_start(path, echo, args.starts))
    for name, path in loaders.items():
        best = min(cpu[name])
        peak = peak_loading_bytes(path, big)
        print(f"{name:8} CPU per cold start (best round of {args.rounds} x {args.starts}): "
              f"{best * 1e6:.0f} us; peak loading a {big.stat().st_size / 2**20:.0f} MiB program: "
              f"{peak / 2**20:.1f} MiB")
    if "baseline" in loaders:
        ratio = min(cpu["this"]) / min(cpu["baseline"])
        print(f"CPU per start, this / baseline: {ratio:.2f}x")
    print(f"# load at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
