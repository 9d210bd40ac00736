#!/usr/bin/env python3
"""Sandbox benchmarks: cold start, warm round trip, CPU overhead versus native.

    .venv/bin/python bench/sandbox_bench.py [--quick]

Cold start: from creating a Sandbox to the first result byte of a trivial ABI program
(echo), and, as the peer, the same measure for fork+exec of the bare static binary
(no loader, no confinement). Warm round trip: ABI echo of 100 bytes in a reused process.
CPU overhead: a CPU-bound fragment (abi_hostile.elf 'c' mode: a counting loop) run in the
sandbox versus the same ELF run natively on the same frames; best of several runs, with the
sandboxed program at normal priority (same as the native run) and at SCHED_IDLE (default;
only comparable on an otherwise idle machine).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cpushare_mq.native import find_binary  # noqa: E402
from cpushare_mq.sandbox import Sandbox, SandboxLimits  # noqa: E402


def frame(kind: str, payload: bytes = b"") -> bytes:
    return struct.pack("<IB", len(payload), ord(kind)) + payload


def cold_start_sandbox(echo: Path, n: int) -> list[float]:
    times = []
    for _ in range(n):
        first: list[float] = []
        t0 = time.perf_counter()
        with Sandbox(echo) as sb:
            rec = sb.run(b"x", on_chunk=lambda b, first=first: first or first.append(time.perf_counter()))
        assert rec.ok, rec
        times.append(first[0] - t0)
    return times


def cold_start_native(echo: Path, n: int) -> list[float]:
    data = frame("S") + frame("F", b"x")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        p = subprocess.Popen([str(echo)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={})
        os.write(p.stdin.fileno(), data)
        os.read(p.stdout.fileno(), 1)
        times.append(time.perf_counter() - t0)
        p.stdin.close()
        p.stdout.read()
        p.stdout.close()
        p.wait()
    return times


def warm_round_trip(echo: Path, n: int) -> list[float]:
    payload = b"x" * 100
    times = []
    with Sandbox(echo) as sb:
        for _ in range(200):
            sb.run(payload)
        for _ in range(n):
            t0 = time.perf_counter()
            rec = sb.run(payload)
            times.append(time.perf_counter() - t0)
            assert rec.ok
    return times


def cpu_overhead(prog: Path, reps: int, n: int, idle: bool) -> tuple[float, float]:
    fragment = b"c" + bytes([reps])
    native, sandboxed = [], []
    data = frame("S") + frame("F", fragment)
    for _ in range(n):
        t0 = time.perf_counter()
        p = subprocess.run([str(prog)], input=data, capture_output=True, env={})
        native.append(time.perf_counter() - t0)
        assert b"burnt" in p.stdout
        t0 = time.perf_counter()
        with Sandbox(prog, limits=SandboxLimits(cpu_s=120, wall_s=600), idle=idle) as sb:
            rec = sb.run(fragment)
        sandboxed.append(time.perf_counter() - t0)
        assert rec.ok, rec
    return min(native), min(sandboxed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args()
    echo = find_binary("examples/echo.elf")
    burner = find_binary("hostile/abi_hostile.elf")
    n_cold, n_warm, n_cpu = (50, 2000, 2) if args.quick else (300, 20000, 5)
    print(f"# sandbox bench  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  "
          f"{platform.machine()} {os.cpu_count()} cpus  python {platform.python_version()}")
    sb_cold = cold_start_sandbox(echo, n_cold)
    nat_cold = cold_start_native(echo, n_cold)
    med_sb, med_nat = statistics.median(sb_cold), statistics.median(nat_cold)
    print(f"cold start to first result byte, median of {n_cold}: sandbox {med_sb * 1e3:.3f} ms"
          f" (goal <= 1 ms: {med_sb / 1e-3:.2f}x goal); bare fork+exec from Python "
          f"{med_nat * 1e3:.3f} ms; ratio {med_sb / med_nat:.2f}x")
    warm = warm_round_trip(echo, n_warm)
    med_w = statistics.median(warm)
    p99 = sorted(warm)[int(len(warm) * 0.99)]
    print(f"warm round trip (echo 100 B), median of {n_warm}: {med_w * 1e6:.1f} us"
          f" (goal <= 50 us: {med_w / 50e-6:.2f}x goal); p99 {p99 * 1e6:.1f} us")
    for idle in (False, True):
        nat, sbx = cpu_overhead(burner, 100, n_cpu, idle)
        policy = "SCHED_IDLE (the default)" if idle else "normal priority, like the native run"
        print(f"CPU-bound fragment, best of {n_cpu}, sandbox at {policy}: native {nat:.3f} s, "
              f"sandbox {sbx:.3f} s, overhead {(sbx / nat - 1) * 100:+.2f} % (goal <= 2 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
