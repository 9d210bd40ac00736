"""Ray at its defaults: ray.init(num_cpus=2). Run with bench/.venv-peers/bin/python."""

from __future__ import annotations

import signal
import sys
import tempfile
import time

import common as C
import psutil
import ray


@ray.remote
def tiny(data: bytes) -> bytes:
    return C.tiny_task(data)


@ray.remote
def spin(iters: int) -> bytes:
    return C.run_spin_native(iters)


@ray.remote
def long_task(marker_dir: str, duration_s: float) -> int:
    return C.long_task(marker_dir, duration_s)


def bench_tiny(n: int) -> dict:
    ray.get([tiny.remote(x) for x in C.tiny_inputs(200)])  # warm the worker pool
    inputs = C.tiny_inputs(n)
    t0 = time.perf_counter()
    out = ray.get([tiny.remote(x) for x in inputs])
    dt = time.perf_counter() - t0
    if out != inputs:
        raise RuntimeError("wrong results")
    return {"tasks": n, "seconds": round(dt, 3), "tasks_per_s": round(n / dt, 1)}


def bench_cpu(n: int, iters: int) -> dict:
    t1 = C.single_run_s(iters)
    ray.get(spin.remote(1000))
    t0 = time.perf_counter()
    out = ray.get([spin.remote(iters) for _ in range(n)])
    dt = time.perf_counter() - t0
    return C.cpu_result(n, t1, dt, out)


def bench_failure(sig: int, cap_s: float) -> dict:
    marker = tempfile.mkdtemp(prefix="ray-fail-")
    ref = long_task.remote(marker, 3 * cap_s)
    _, pid = C.wait_first_start(marker, 60)
    res = C.measure_reassignment(marker, pid, sig, cap_s)
    C.resume(pid)
    C.end_long_tasks(marker)
    ray.cancel(ref, force=True)
    return res


def _ray_processes() -> dict[str, psutil.Process]:
    """The driver (this process: in Ray's ownership model it holds its tasks' specs and
    queues them) and the node's scheduler processes (raylet, GCS)."""
    found = {"driver": psutil.Process()}
    for p in psutil.Process().children(recursive=True):
        try:
            name = p.name()
        except psutil.NoSuchProcess:
            continue
        if name in ("raylet", "gcs_server"):
            found[name] = p
    return found


def bench_memory(n: int) -> dict:
    """RSS growth of driver + raylet + GCS per queued task: both CPUs are held by long tasks
    so the n tiny tasks stay queued."""
    marker = tempfile.mkdtemp(prefix="ray-mem-")
    blockers = [long_task.remote(marker, 600) for _ in range(2)]
    end = time.monotonic() + 60
    while len(C.read_markers(marker)) < 2:
        if time.monotonic() > end:
            raise RuntimeError("the two blocking tasks did not start within 60 s")
        time.sleep(0.05)
    procs = _ray_processes()
    if set(procs) != {"driver", "raylet", "gcs_server"}:
        raise RuntimeError(f"expected driver, raylet and gcs_server, found {sorted(procs)}")
    time.sleep(2)
    before = {k: p.memory_info().rss for k, p in procs.items()}
    refs = [tiny.remote(x) for x in C.tiny_inputs(n)]
    time.sleep(3)
    ready, _ = ray.wait(refs, num_returns=1, timeout=0)
    after = {k: p.memory_info().rss for k, p in procs.items()}
    C.end_long_tasks(marker)
    ray.get(blockers)
    ray.get(refs)
    if ready:
        raise RuntimeError("a queued task ran while both CPUs were held: not a queue measurement")
    growth = {k: after[k] - before[k] for k in procs}
    return {"queued_tasks": n, "growth_bytes": growth,
            "bytes_per_task": round(sum(growth.values()) / n, 1),
            "note": "driver (owner of the queued task specs) + raylet + gcs_server RSS"}


def main() -> None:
    a = C.parse_args()
    C.ensure_spin()
    parts = a.parts.split(",")
    r = {"system": "ray", "version": ray.__version__}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        if "tiny" in parts:
            C.run_part(r, "tiny", bench_tiny, a.tiny_n)
        if "cpu" in parts:
            C.run_part(r, "cpu", C.best_of, a.cpu_rounds, bench_cpu, a.cpu_tasks, a.cpu_iters)
        if "kill" in parts:
            C.run_part(r, "kill", bench_failure, signal.SIGKILL, a.cap_s)
        if "stop" in parts:
            C.run_part(r, "stop", bench_failure, signal.SIGSTOP, a.cap_s)
        if "mem" in parts:
            C.run_part(r, "mem", bench_memory, a.mem_n)
    finally:
        ray.shutdown()
    C.emit(r)


if __name__ == "__main__":
    sys.exit(main())
