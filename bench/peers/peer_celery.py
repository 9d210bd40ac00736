"""Celery (prefork, concurrency 2) with a Redis broker and result backend, at defaults.
Redis comes from Debian's redis-server package; this script starts and stops it on a free
loopback port. Run with bench/.venv-peers/bin/python."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import celery
import common as C
import psutil
import redis


def start_redis(workdir: str) -> tuple[subprocess.Popen, str]:
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = C.free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir, "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    r = redis.Redis.from_url(url)
    end = time.monotonic() + 20
    while True:
        try:
            r.ping()
            return proc, url
        except redis.ConnectionError:
            if time.monotonic() > end or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "celery_app", "worker",
                             "--concurrency", "2", "--pool", "prefork", "--loglevel", "warning",
                             "--without-gossip", "--without-mingle", "-n", "bench@%h"],
                            cwd=str(C.HERE), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def wait_worker(app, timeout_s: float = 60) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if app.control.ping(timeout=0.5):
            return
    raise RuntimeError("celery worker did not answer ping")


def stop_worker(proc: subprocess.Popen) -> None:
    for p in psutil.Process(proc.pid).children(recursive=True) + [psutil.Process(proc.pid)]:
        C.resume(p.pid)
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def bench_memory(app, r: redis.Redis, n: int) -> dict:
    from celery_app import tiny
    r.flushall()
    for x in C.tiny_inputs(200):
        tiny.delay(x)
    time.sleep(0.5)
    m0 = r.info("memory")["used_memory"]
    for x in C.tiny_inputs(n):
        tiny.delay(x)
    m1 = r.info("memory")["used_memory"]
    queued = r.llen("celery")
    app.control.purge()
    r.flushall()
    return {"queued_tasks": n, "redis_used_memory_before": m0, "redis_used_memory_after": m1,
            "queue_length": queued, "bytes_per_task": round((m1 - m0) / n, 1),
            "note": "Redis broker memory per queued task (Celery has no central scheduler)"}


def bench_tiny(n: int) -> dict:
    from celery_app import tiny
    celery.group(tiny.s(x) for x in C.tiny_inputs(200)).apply_async().get(timeout=120)
    inputs = C.tiny_inputs(n)
    t0 = time.perf_counter()
    out = celery.group(tiny.s(x) for x in inputs).apply_async().get(timeout=600)
    dt = time.perf_counter() - t0
    if out != inputs:
        raise RuntimeError("wrong results")
    return {"tasks": n, "seconds": round(dt, 3), "tasks_per_s": round(n / dt, 1)}


def bench_cpu(n: int, iters: int) -> dict:
    from celery_app import spin
    t1 = C.single_run_s(iters)
    spin.delay(1000).get(timeout=60)
    t0 = time.perf_counter()
    out = celery.group(spin.s(iters) for _ in range(n)).apply_async().get(timeout=600)
    dt = time.perf_counter() - t0
    return C.cpu_result(n, t1, dt, out)


def bench_failure(sig: int, cap_s: float) -> dict:
    from celery_app import long_task
    marker = tempfile.mkdtemp(prefix="celery-fail-")
    res = long_task.delay(marker, 3 * cap_s)
    _, pid = C.wait_first_start(marker, 60)
    out = C.measure_reassignment(marker, pid, sig, cap_s)
    C.resume(pid)
    if not out["recovered"]:
        out["task_state"] = res.state
    C.end_long_tasks(marker)
    res.revoke(terminate=True)
    return out


def main() -> None:
    a = C.parse_args()
    C.ensure_spin()
    parts = a.parts.split(",")
    r = {"system": "celery+redis", "version": celery.__version__}
    workdir = tempfile.mkdtemp(prefix="celery-", dir=a.workdir)
    redis_proc, url = start_redis(workdir)
    os.environ["CPMQ_REDIS_URL"] = url
    sys.path.insert(0, str(C.HERE))
    from celery_app import app
    env = {**os.environ, "PYTHONPATH": str(C.HERE)}
    rds = redis.Redis.from_url(url)
    worker = None
    try:
        if "mem" in parts:
            C.run_part(r, "mem", bench_memory, app, rds, a.mem_n)
        worker = start_worker(env)
        wait_worker(app)
        if "tiny" in parts:
            C.run_part(r, "tiny", bench_tiny, a.tiny_n)
        if "cpu" in parts:
            C.run_part(r, "cpu", C.best_of, a.cpu_rounds, bench_cpu, a.cpu_tasks, a.cpu_iters)
        for name, sig in (("kill", signal.SIGKILL), ("stop", signal.SIGSTOP)):
            if name in parts:
                C.run_part(r, name, bench_failure, sig, a.cap_s)
                # a fresh worker for the next part (the pool may be short of a process)
                stop_worker(worker)
                app.control.purge()
                worker = start_worker(env)
                wait_worker(app)
    finally:
        if worker is not None:
            stop_worker(worker)
        redis_proc.terminate()
        redis_proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    C.emit(r)


if __name__ == "__main__":
    sys.exit(main())
