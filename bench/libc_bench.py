#!/usr/bin/env python3
"""The sandbox C library versus the host's (issue 22): Lua 5.4 and zlib from Debian's
sources (c/ports), each built twice from the same code — for the sandbox with cpushare-cc
and natively with gcc and glibc — and run on the same inputs in the same run.

    .venv/bin/python bench/libc_bench.py [--rounds N]

Lua: bench/libc/work.lua (calls, tables, sort, string.format, gmatch, maths) per fragment.
zlib: zpipe compress and decompress of 8 MB of mixed data per fragment.
Sandbox: one warm Sandbox at normal priority (idle=False, like the native process), best
of N rounds of K fragments; native: one process per fragment (the same work; start-up of a
static process is well under 1 ms). Reported: wall-time and CPU-time ratios sandbox / native
(goal <= 1.2); CPU time (10 ms resolution) is the measure that survives a loaded machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cpushare_mq.sandbox import Sandbox, SandboxLimits  # noqa: E402

PORTS = ROOT / "c" / "build" / "ports"
LIMITS = SandboxLimits(cpu_s=600, wall_s=1200, max_output_bytes=1 << 30)


def args_fragment(*args: str, stdin: bytes = b"") -> bytes:
    return b"ARGV\0" + b"".join(a.encode() + b"\0" for a in args) + b"\0" + stdin


def mixed_data(n: int) -> bytes:
    rnd = random.Random(22)
    words = [bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 9)))
             for _ in range(2000)]
    out = bytearray()
    while len(out) < n:
        out += rnd.choice(words) + b" "
        if rnd.random() < 0.01:
            out += os.urandom(64)
    return bytes(out[:n])


def time_sandbox(elf: Path, shared: bytes, frags: list[bytes]):
    """(wall s, program CPU s, outputs) for the fragments in one warm sandbox."""
    with Sandbox(elf, shared_input=shared, limits=LIMITS, idle=False) as sb:
        sb.run(frags[0])  # warm up: the process exists, pages touched
        outs, cpu = [], 0.0
        t0 = time.perf_counter()
        for f in frags:
            rec = sb.run(f)
            assert rec.ok, rec
            cpu += rec.cpu_s
            outs.append(sb.last_output)
        return time.perf_counter() - t0, cpu, outs


def time_native(argvs: list[list[str]], stdins: list[bytes]):
    """(wall s, CPU s of the processes, outputs), one process per fragment."""
    outs = []
    c0 = os.times()
    t0 = time.perf_counter()
    for argv, data in zip(argvs, stdins, strict=True):
        p = subprocess.run(argv, input=data, capture_output=True)
        if p.returncode != 0:
            raise SystemExit(f"native {argv[0]} failed: {p.stderr.decode()}")
        outs.append(p.stdout)
    c1 = os.times()
    cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    return time.perf_counter() - t0, cpu, outs


def bench(name: str, rounds: int, sandbox_args, native_args) -> None:
    best = [float("inf")] * 4
    for _ in range(rounds):
        ts, cs, outs_s = time_sandbox(*sandbox_args)
        tn, cn, outs_n = time_native(*native_args)
        if outs_s != outs_n:
            raise SystemExit(f"{name}: sandbox and native outputs differ")
        best = [min(a, b) for a, b in zip(best, (ts, tn, cs, cn), strict=True)]
    ts, tn, cs, cn = best
    print(f"{name}: wall sandbox {ts:.3f} s / native {tn:.3f} s = {ts / tn:.3f}; "
          f"CPU {cs:.2f} s / {cn:.2f} s = {cs / cn:.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--fragments", type=int, default=4)
    a = ap.parse_args()
    r = subprocess.run(["make", "-s", "-C", str(ROOT / "c" / "ports")])
    if r.returncode != 0:
        raise SystemExit("building c/ports failed")
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), platform.processor())
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {cpu}  load {os.getloadavg()}")
    script = (ROOT / "bench" / "libc" / "work.lua")
    k = a.fragments
    bench("lua", a.rounds,
          (PORTS / "lua.elf", script.read_bytes(), [args_fragment("/cpushare/shared", "8")] * k),
          ([[str(PORTS / "lua.native"), str(script), "8"]] * k, [b""] * k))
    data = mixed_data(8 << 20)
    comp = subprocess.run([str(PORTS / "zpipe.native")], input=data, capture_output=True).stdout
    bench("zlib compress", a.rounds, (PORTS / "zpipe.elf", b"", [data] * k),
          ([[str(PORTS / "zpipe.native")]] * k, [data] * k))
    bench("zlib decompress", a.rounds,
          (PORTS / "zpipe.elf", b"", [args_fragment("-d", stdin=comp)] * k),
          ([[str(PORTS / "zpipe.native"), "-d"]] * k, [comp] * k))
    return 0


if __name__ == "__main__":
    sys.exit(main())
