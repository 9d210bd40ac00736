"""Shared pieces of the peer benchmarks (stdlib only: imported from both venvs).

Every system runs the same tasks:
- tiny: a 100-byte input, trivial compute (the bytes come back unchanged);
- cpu:  ``spin.elf`` (c/examples/spin.c, built by ``make -C c``), a static freestanding ABI v1
  program; peers start it natively as a subprocess, cpushare-mq runs it in its sandbox;
- failure: a long task is started, the process running it gets SIGKILL or SIGSTOP, and we
  measure how long until the task starts again elsewhere (capped).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SPIN = REPO / "c" / "build" / "examples" / "spin.elf"
SPIN_SOURCE = REPO / "c" / "examples" / "spin.c"
TINY_INPUT_BYTES = 100
TAG_ENV = "CPMQ_BENCH_TAG"


def tiny_inputs(n: int) -> list[bytes]:
    """n distinct 100-byte inputs."""
    return [(b"%08d" % i) * 12 + b"tiny" for i in range(n)]


def tiny_task(data: bytes) -> bytes:
    """The trivial compute of the tiny benchmark (peers run it as a Python function)."""
    return bytes(data)


def frame(kind: str, payload: bytes = b"") -> bytes:
    return struct.pack("<IB", len(payload), ord(kind)) + payload


def spin_fragment(iters: int) -> bytes:
    return struct.pack("<Q", iters)


def ensure_spin() -> Path:
    """Build spin.elf (``make -C c``) when it is missing or older than its source."""
    if not SPIN.is_file() or SPIN.stat().st_mtime < SPIN_SOURCE.stat().st_mtime:
        subprocess.run(["make", "-s", "-C", str(REPO / "c")], check=True)
    return SPIN


def run_spin_native(iters: int) -> bytes:
    """Run spin.elf natively on one fragment; return its 8-byte result."""
    proc = subprocess.run([str(SPIN)], input=frame("S") + frame("F", spin_fragment(iters)),
                          capture_output=True, check=True, timeout=600)
    out = proc.stdout
    # 'D' frame (5 + 8 bytes) then 'E' frame (5 bytes)
    if len(out) != 18 or out[4:5] != b"D" or out[17:18] != b"E":
        raise RuntimeError(f"spin.elf gave unexpected output {out!r}")
    return out[5:13]


def single_run_s(iters: int, runs: int = 3) -> float:
    """Shortest wall time of one native spin run over ``runs`` (the 'ideal' unit of the CPU
    benchmark: the least disturbed run, so a burst of other load cannot inflate it)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run_spin_native(iters)
        times.append(time.perf_counter() - t0)
    return min(times)


def cpu_result(n: int, single_run_s: float, seconds: float, results: list) -> dict:
    """The CPU benchmark's figures, computed the same way for every system: all ``n`` results
    must be equal (raises otherwise); ideal = n x the shortest native single run / 2 (the
    two workers); efficiency = ideal / measured."""
    if len(results) != n or len(set(results)) != 1 or results[0] is None:
        raise RuntimeError("results differ")
    ideal = n * single_run_s / 2
    return {"tasks": n, "single_run_s": round(single_run_s, 3), "ideal_s": round(ideal, 3),
            "seconds": round(seconds, 3), "efficiency": round(ideal / seconds, 3)}


def long_task(marker_dir: str, duration_s: float) -> int:
    """The failure benchmark's task: record (time, pid) of this start, then run long."""
    pid = os.getpid()
    Path(marker_dir, f"start-{time.time():.6f}-{pid}").write_text("")
    end = time.monotonic() + duration_s
    stop = Path(marker_dir, "stop")
    while time.monotonic() < end and not stop.exists():   # peers cannot all interrupt a task
        time.sleep(0.05)
    return pid


def read_markers(marker_dir: str | Path) -> list[tuple[float, int]]:
    out = []
    for p in Path(marker_dir).glob("start-*"):
        _, t, pid = p.name.split("-")
        out.append((float(t), int(pid)))
    return sorted(out)


def wait_first_start(marker_dir, timeout_s: float) -> tuple[float, int]:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        m = read_markers(marker_dir)
        if m:
            return m[0]
        time.sleep(0.02)
    raise TimeoutError(f"the long task did not start within {timeout_s} s")


def measure_reassignment(marker_dir, victim_pid: int, sig: int, cap_s: float) -> dict:
    """Send ``sig`` to ``victim_pid``; wait (at most cap_s) for the task to start again."""
    before = len(read_markers(marker_dir))
    t_kill = time.time()
    os.kill(victim_pid, sig)
    end = time.monotonic() + cap_s
    while time.monotonic() < end:
        m = read_markers(marker_dir)
        if len(m) > before:
            t_start, pid = m[before]
            return {"recovered": True, "seconds": round(t_start - t_kill, 3), "new_pid": pid}
        time.sleep(0.02)
    return {"recovered": False, "seconds": None,
            "note": f"not recovered within {cap_s:g} s"}


def end_long_tasks(marker_dir) -> None:
    """Make every copy of the long task return (its loop watches for this file)."""
    Path(marker_dir, "stop").write_text("")


def resume(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass


def run_part(results: dict, name: str, fn, *args, **kw) -> None:
    """Run one benchmark part; a failure is recorded, not fatal for the others."""
    t0 = time.perf_counter()
    try:
        results[name] = fn(*args, **kw)
    except Exception as exc:  # report, keep going with the other parts
        results[name] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    results[name]["part_wall_s"] = round(time.perf_counter() - t0, 2)
    print(f"[{results.get('system')}] {name}: {json.dumps(results[name])}", file=sys.stderr, flush=True)


def best_of(rounds: int, fn, *args) -> dict:
    """Run a CPU measurement ``rounds`` times; keep the best (least disturbed by other load on
    the machine) and list every round's efficiency."""
    runs = [fn(*args) for _ in range(max(1, rounds))]
    best = max(runs, key=lambda r: r["efficiency"])
    return {**best, "rounds": [r["efficiency"] for r in runs]}


def parse_args(argv=None):
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default="tiny,cpu,kill,stop,mem")
    ap.add_argument("--tiny-n", type=int, default=20000)
    ap.add_argument("--cpu-tasks", type=int, default=20)
    ap.add_argument("--cpu-iters", type=int, default=400_000_000)
    ap.add_argument("--cpu-rounds", type=int, default=3, help="CPU runs; the best is reported")
    ap.add_argument("--cap-s", type=float, default=60.0)
    ap.add_argument("--mem-n", type=int, default=20000)
    ap.add_argument("--workdir", default="/tmp")
    ap.add_argument("--worker-nice", type=int, default=None,
                    help="cpushare-worker --nice (default: the worker's own default, 19)")
    ap.add_argument("--worker-tree", default=None, metavar="DIR",
                    help="cpushare-mq: the workers import cpushare_mq from this source tree "
                         "(the hub and client from PYTHONPATH's), to tell what a change costs "
                         "the hub from what it costs the workers")
    return ap.parse_args(argv)


def emit(results: dict) -> None:
    print("RESULT-JSON " + json.dumps(results), flush=True)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
