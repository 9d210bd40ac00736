"""cpushare-mq at its defaults: a `cpushare-hub serve` process, 2 `cpushare-worker --slots 1`
processes, the buyer's Python Client. Every state change is persisted (SQLite, synchronous
FULL) and every fragment runs in the seccomp sandbox. Run with /work/main/.venv/bin/python."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common as C
import psutil

import cpushare_mq
from cpushare_mq import Client, CpushareError
from cpushare_mq.native import find_binary

BIN = Path(sys.executable).parent


class Cluster:
    """A hub process and worker processes, all on loopback, all cleaned up by close()."""

    worker_nice: int | None = None
    worker_tree: str | None = None      # the workers' cpushare_mq source (default: ours)

    def __init__(self, workdir: str, n_workers: int = 2):
        self.dir = Path(tempfile.mkdtemp(prefix="peers-cpmq-", dir=workdir))
        self.port = C.free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.db = self.dir / "hub.db"
        self.api = str(self.dir / "hub.sock")
        self.hub = subprocess.Popen([str(BIN / "cpushare-hub"), "serve", "--db", str(self.db),
                                     "--bind", self.endpoint, "--api", self.api, "--insecure", "-q"],
                                    stdout=subprocess.DEVNULL, stderr=open(self.dir / "hub.log", "w"))
        self.workers: dict[str, subprocess.Popen] = {}
        end = time.monotonic() + 30
        while not os.path.exists(self.api):
            if time.monotonic() > end or self.hub.poll() is not None:
                raise RuntimeError(f"hub did not start: {(self.dir / 'hub.log').read_text()[-2000:]}")
            time.sleep(0.02)
        self.client = Client(self.api)
        for i in range(n_workers):
            self.add_worker(f"w{i}")
        self.wait_workers(n_workers)

    def add_worker(self, name: str) -> None:
        cache = self.dir / f"cache-{name}"
        self.workers[name] = subprocess.Popen(
            [str(BIN / "cpushare-worker"), "--hub", self.endpoint, "--insecure", "--slots", "1",
             "--name", name, "--cache-dir", str(cache),
             *(["--nice", str(self.worker_nice)] if self.worker_nice is not None else [])],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / f"{name}.log", "w"),
            env={**os.environ, "PYTHONPATH": self.worker_tree} if self.worker_tree else None)

    def wait_workers(self, n: int, timeout_s: float = 30) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if sum(w["alive"] for w in self.client.status()["workers"]) >= n:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{n} workers did not join within {timeout_s} s")

    def close(self) -> None:
        try:
            self.client.close()
        except (CpushareError, OSError) as exc:   # tearing down anyway: say so, carry on
            print(f"cpushare bench: closing the client failed: {exc}", file=sys.stderr)
        procs = list(self.workers.values()) + [self.hub]
        for p in procs:
            try:
                tree = psutil.Process(p.pid).children(recursive=True) + [psutil.Process(p.pid)]
            except psutil.NoSuchProcess:
                continue
            for q in tree:
                C.resume(q.pid)
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_job(cl: Cluster, program: bytes, fragments: list[bytes], **kw) -> tuple[float, list[bytes]]:
    t0 = time.perf_counter()
    job = cl.client.submit(program, fragments, **kw)
    out: list[bytes | None] = [None] * len(fragments)
    for index, data in job.results(timeout_s=600):
        out[index] = data
    dt = time.perf_counter() - t0
    job.close()
    return dt, out


def bench_tiny(workdir: str, n: int) -> dict:
    echo = find_binary("examples/echo.elf").read_bytes()
    cl = Cluster(workdir)
    try:
        run_job(cl, echo, C.tiny_inputs(200))           # warm: program cached, sandboxes up
        inputs = C.tiny_inputs(n)
        dt, out = run_job(cl, echo, inputs)
    finally:
        cl.close()
    if out != inputs:
        raise RuntimeError("wrong results")
    return {"tasks": n, "seconds": round(dt, 3), "tasks_per_s": round(n / dt, 1),
            "note": "echo.elf in the sandbox, hub commits every state change (SQLite FULL)"}


def bench_cpu(workdir: str, n: int, iters: int) -> dict:
    spin = C.ensure_spin().read_bytes()
    cl = Cluster(workdir)
    try:
        run_job(cl, spin, [C.spin_fragment(1000)] * 4)
        t1 = C.single_run_s(iters)
        dt, out = run_job(cl, spin, [C.spin_fragment(iters)] * n, cpu_s=600, wall_s=600)
    finally:
        cl.close()
    return C.cpu_result(n, t1, dt, out)


def holder(cl: Cluster, job_id: str) -> str | None:
    for w in cl.client.status()["workers"]:
        if w["alive"] and w["busy"] > 0:
            return w["name"]
    return None


def relet_time(cl: Cluster, after_s: float) -> float:
    """When the hub leased a fragment again after ``after_s`` (its attempts table)."""
    db = sqlite3.connect(f"file:{cl.db}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT min(leased_s) FROM attempts WHERE leased_s > ?",
                         (after_s,)).fetchone()
    finally:
        db.close()
    if row[0] is None:
        raise RuntimeError("a worker is busy again but the hub recorded no new lease")
    return row[0]


def bench_failure(workdir: str, sig: int, cap_s: float) -> dict:
    spin = C.ensure_spin().read_bytes()
    cl = Cluster(workdir)
    try:
        run_job(cl, spin, [C.spin_fragment(1000)] * 4)
        job = cl.client.submit(spin, [C.spin_fragment(10**13)], cpu_s=3 * cap_s + 60,
                               wall_s=3 * cap_s + 60)
        end = time.monotonic() + 30
        name = None
        while name is None and time.monotonic() < end:
            name = holder(cl, job.id)
            time.sleep(0.01)
        if name is None:
            raise RuntimeError("the long fragment was not leased within 30 s")
        time.sleep(0.5)  # let it run in the sandbox
        victim = psutil.Process(cl.workers[name].pid)
        sandboxes = victim.children(recursive=True)
        targets = [victim] if sig == signal.SIGKILL else [victim] + sandboxes
        t_kill = time.time()
        for p in targets:
            p.send_signal(sig)
        res = {"recovered": False, "seconds": None, "note": f"not recovered within {cap_s:g} s"}
        deadline = time.monotonic() + cap_s
        while time.monotonic() < deadline:
            other = [w for w in cl.client.status()["workers"]
                     if w["name"] != name and w["alive"] and w["busy"] > 0]
            if other:
                # the status poll only bounds it; the hub's own record of the new lease is
                # the exact moment (the peers report the task's own start time likewise)
                t_lease = relet_time(cl, t_kill)
                res = {"recovered": True, "seconds": round(t_lease - t_kill, 3),
                       "seen_by_poll_s": round(time.time() - t_kill, 3),
                       "new_worker": other[0]["name"]}
                break
            time.sleep(0.002)
        for p in targets:
            C.resume(p.pid)
        if sig == signal.SIGKILL:   # does the sandbox outlive its killed worker?
            res["sandbox_outlived_worker"] = any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                                                 for p in sandboxes)
        for p in sandboxes:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        job.cancel()
        job.close()
        res["signalled"] = "worker process" if sig == signal.SIGKILL else "worker process and its sandbox"
        return res
    finally:
        cl.close()


def bench_memory(workdir: str, n: int) -> dict:
    echo = find_binary("examples/echo.elf").read_bytes()
    cl = Cluster(workdir, n_workers=0)
    try:
        cl.client.submit(echo, C.tiny_inputs(500)).close()
        time.sleep(2)
        proc = psutil.Process(cl.hub.pid)
        rss0 = proc.memory_info().rss
        db0 = sum(p.stat().st_size for p in cl.dir.glob("hub.db*"))
        cl.client.submit(echo, C.tiny_inputs(n)).close()
        time.sleep(2)
        rss1 = proc.memory_info().rss
        db1 = sum(p.stat().st_size for p in cl.dir.glob("hub.db*"))
    finally:
        cl.close()
    return {"queued_tasks": n, "rss_before_bytes": rss0, "rss_after_bytes": rss1,
            "bytes_per_task": round((rss1 - rss0) / n, 1),
            "db_bytes_per_task": round((db1 - db0) / n, 1),
            "note": "hub process RSS; the hub keeps a window of 4096 pending fragments per "
                    "job in memory, the rest only in SQLite"}


def main() -> None:
    a = C.parse_args()
    C.ensure_spin()
    parts = a.parts.split(",")
    r = {"system": "cpushare-mq", "version": cpushare_mq.__version__}
    Cluster.worker_nice, Cluster.worker_tree = a.worker_nice, a.worker_tree
    if a.worker_nice is not None:
        r["worker_nice"] = a.worker_nice
    if a.worker_tree is not None:
        r["worker_tree"] = a.worker_tree
    if "tiny" in parts:
        C.run_part(r, "tiny", bench_tiny, a.workdir, a.tiny_n)
    if "cpu" in parts:
        C.run_part(r, "cpu", C.best_of, a.cpu_rounds, bench_cpu, a.workdir, a.cpu_tasks, a.cpu_iters)
    if "kill" in parts:
        C.run_part(r, "kill", bench_failure, a.workdir, signal.SIGKILL, a.cap_s)
    if "stop" in parts:
        C.run_part(r, "stop", bench_failure, a.workdir, signal.SIGSTOP, a.cap_s)
    if "mem" in parts:
        C.run_part(r, "mem", bench_memory, a.workdir, a.mem_n)
    C.emit(r)


if __name__ == "__main__":
    sys.exit(main())
