"""Dask distributed at its defaults: LocalCluster with 2 worker processes x 1 thread.
Run with bench/.venv-peers/bin/python."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import common as C
import dask
import psutil
from distributed import Client, LocalCluster


def bench_tiny(client: Client, n: int) -> dict:
    client.gather(client.map(C.tiny_task, C.tiny_inputs(200), pure=False))
    inputs = C.tiny_inputs(n)
    t0 = time.perf_counter()
    out = client.gather(client.map(C.tiny_task, inputs, pure=False))
    dt = time.perf_counter() - t0
    if out != inputs:
        raise RuntimeError("wrong results")
    return {"tasks": n, "seconds": round(dt, 3), "tasks_per_s": round(n / dt, 1)}


def bench_cpu(client: Client, n: int, iters: int) -> dict:
    t1 = C.single_run_s(iters)
    client.submit(C.run_spin_native, 1000, pure=False).result()
    t0 = time.perf_counter()
    out = client.gather(client.map(C.run_spin_native, [iters] * n, pure=False))
    dt = time.perf_counter() - t0
    return C.cpu_result(n, t1, dt, out)


def bench_failure(client: Client, sig: int, cap_s: float) -> dict:
    marker = tempfile.mkdtemp(prefix="dask-fail-")
    fut = client.submit(C.long_task, marker, 3 * cap_s, pure=False)
    _, pid = C.wait_first_start(marker, 60)
    res = C.measure_reassignment(marker, pid, sig, cap_s)
    C.resume(pid)
    C.end_long_tasks(marker)
    fut.cancel()
    return res


def bench_memory(n: int, workdir: str) -> dict:
    """Scheduler RSS growth per queued task: a separate scheduler process, no workers."""
    port = C.free_port()
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                              "--host", "127.0.0.1", "--port", str(port),
                              "--dashboard-address", ":0", "--no-show"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=workdir, env={**os.environ, "PYTHONPATH": str(C.HERE)})
    try:
        client = Client(f"tcp://127.0.0.1:{port}", timeout=30)
        try:
            def count_tasks():
                return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))

            warm = client.map(C.tiny_task, C.tiny_inputs(500), pure=False)
            time.sleep(2)
            proc = psutil.Process(sched.pid)
            count0 = count_tasks()
            rss0 = proc.memory_info().rss
            futs = client.map(C.tiny_task, C.tiny_inputs(n), pure=False)
            end = time.monotonic() + 60
            count = count0
            while time.monotonic() < end:
                count = count_tasks()
                if count - count0 >= n:
                    break
                time.sleep(0.5)
            else:
                raise RuntimeError(f"only {count - count0} of {n} tasks reached the scheduler in 60 s")
            time.sleep(2)
            rss1 = proc.memory_info().rss
            del futs, warm
        finally:
            client.close()
    finally:
        sched.terminate()
        try:
            sched.wait(10)
        except subprocess.TimeoutExpired:
            sched.kill()
    return {"queued_tasks": n, "rss_before_bytes": rss0, "rss_after_bytes": rss1,
            "bytes_per_task": round((rss1 - rss0) / n, 1)}


def main() -> None:
    a = C.parse_args()
    C.ensure_spin()
    parts = a.parts.split(",")
    r = {"system": "dask", "version": dask.__version__}
    os.chdir(a.workdir)  # dask-worker-space etc.
    if {"tiny", "cpu", "kill", "stop"} & set(parts):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        try:
            if "tiny" in parts:
                C.run_part(r, "tiny", bench_tiny, client, a.tiny_n)
            if "cpu" in parts:
                C.run_part(r, "cpu", C.best_of, a.cpu_rounds, bench_cpu, client, a.cpu_tasks, a.cpu_iters)
            if "kill" in parts:
                C.run_part(r, "kill", bench_failure, client, signal.SIGKILL, a.cap_s)
            if "stop" in parts:
                C.run_part(r, "stop", bench_failure, client, signal.SIGSTOP, a.cap_s)
        finally:
            for p in psutil.Process().children(recursive=True):
                C.resume(p.pid)
            client.close()
            cluster.close(timeout=10)
    if "mem" in parts:
        C.run_part(r, "mem", bench_memory, a.mem_n, a.workdir)
    C.emit(r)


if __name__ == "__main__":
    sys.exit(main())
