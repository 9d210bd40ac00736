#!/usr/bin/env python3
"""Where the tiny bench's CPU goes: CPU time per task of each cpushare-mq process.

    CPUSHARE_NATIVE_DIR=c/build PYTHONPATH=<tree> .venv/bin/python <tree>/bench/peers/cpu_per_task.py 20000

Runs ``peer_cpushare.py``'s cluster (a hub, 2 workers with 1 slot each, the buyer's
client in this process), warms it with 200 tasks, then runs N echo tasks and reports tasks
a second and, per process (with its children: the sandboxes), the CPU time per task read
with psutil. Compare trees in one run by alternating ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402
import peer_cpushare as P  # noqa: E402

from cpushare_mq.native import find_binary  # noqa: E402


def cpu_s(pid: int) -> float:
    """CPU seconds of ``pid`` and its children so far (0 when it is gone)."""
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def snapshot(cluster) -> dict[str, float]:
    return {"hub": cpu_s(cluster.hub.pid),
            **{name: cpu_s(w.pid) for name, w in cluster.workers.items()},
            "client": sum(os.times()[:2])}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    echo = find_binary("examples/echo.elf").read_bytes()
    cluster = P.Cluster(tempfile.gettempdir())
    try:
        P.run_job(cluster, echo, C.tiny_inputs(200))
        before = snapshot(cluster)
        inputs = C.tiny_inputs(n)
        seconds, out = P.run_job(cluster, echo, inputs)
        after = snapshot(cluster)
    finally:
        cluster.close()
    if out != inputs:
        raise SystemExit("the results differ from the inputs")
    print(f"{n / seconds:7.0f} tasks/s; CPU a task: " + " ".join(
        f"{k} {(after[k] - before[k]) / n * 1e6:.1f} us" for k in before))


if __name__ == "__main__":
    main()
