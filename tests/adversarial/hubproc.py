"""A real ``cpushare-hub serve`` process on loopback, as a user starts it, plus helpers to
watch it from the outside (alive, RSS)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
ATTACKER = Path(__file__).with_name("attacker.py")


class HubProcess:
    def __init__(self, tmp: Path, *, insecure: bool, extra: tuple[str, ...] = (),
                 api: str | None = None):
        self.db = tmp / "hub.db"
        self.log = tmp / "hub.log"
        api = api or str(tmp / "api.sock")
        args = [str(BIN / "cpushare-hub"), "serve", "--db", str(self.db),
                "--bind", "tcp://127.0.0.1:0", "--api", api, *extra]
        if insecure:
            args.append("--insecure")
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=logf)
        self.endpoint, self.public_key = self._wait_ready(insecure)
        self.api = self._bound_api() if api.startswith("tcp://") else api
        self.peak_rss = 0
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        """Peak RSS, sampled every 10 ms while the hub runs."""
        try:
            p = psutil.Process(self.proc.pid)
            while self.proc.poll() is None:
                self.peak_rss = max(self.peak_rss, p.memory_info().rss)
                time.sleep(0.01)
        except psutil.Error:
            pass

    def _wait_ready(self, insecure: bool) -> tuple[str, str | None]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            ep = re.findall(r"serving workers on (tcp://\S+)", text)
            pub = self.db.with_name(self.db.stem + ".keys") / "hub.pub"
            if ep and (insecure or pub.exists()):
                return ep[-1], (None if insecure else pub.read_text().split()[0])
            if self.proc.poll() is not None:
                raise AssertionError(f"hub exited at start: {text}")
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError(f"hub did not start: {self.log.read_text()}")

    def _bound_api(self) -> str:
        """The buyer API's TCP address as bound (the hub logs it; port 0 = any)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = re.findall(r"buyer API listening on (tcp://\S+)", self.log.read_text(errors="replace"))
            if got:
                return got[-1]
            time.sleep(0.05)
        raise AssertionError(f"hub logged no buyer API address: {self.log.read_text()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_bytes(self) -> int:
        return psutil.Process(self.proc.pid).memory_info().rss

    def stop(self) -> None:
        stop_process(self.proc)


def stop_process(proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """SIGTERM, and SIGKILL if it is still running after ``timeout_s``."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)


def run_attack(name: str, hub: HubProcess, *args: str, timeout_s: float = 120) -> None:
    cmd = [sys.executable, str(ATTACKER), name, hub.endpoint, hub.public_key or "", *args]
    subprocess.run(cmd, timeout=timeout_s, check=True)


def seed_job(db: Path, fragments: int, **spec) -> str:
    """Put a job in the hub's database before the hub starts (as a restart would find it);
    ``spec``: more JobSpec fields."""
    from cpushare_mq.hub.scheduler import JobSpec
    from cpushare_mq.hub.store import Store
    store = Store(db)
    try:
        job = JobSpec(program=b"P", fragments=[b"frag-%04d" % i for i in range(fragments)],
                      **spec)
        return store.add_job(job, time.time())["id"]
    finally:
        store.close()


def start_attack(name: str, hub: HubProcess, *args: str, wait_started: bool = False,
                 until_stopped: bool = False) -> subprocess.Popen:
    """Start an attacker process; ``wait_started``: return once it prints "attacking"
    (it has what it needs, e.g. leases, and the attack proper begins); ``until_stopped``:
    an attack that goes on until :func:`stop_attack` (a line on its stdin), so that it
    lasts exactly as long as the honest work it must not disturb, not a guessed time."""
    proc = subprocess.Popen([sys.executable, str(ATTACKER), name, hub.endpoint,
                             hub.public_key or "", *args],
                            stdin=subprocess.PIPE if until_stopped else None,
                            stdout=subprocess.PIPE if wait_started else None, text=True)
    if wait_started:
        line = proc.stdout.readline()
        if line.strip() != "attacking":
            proc.wait(30)
            raise AssertionError(f"attacker {name} did not start (exit {proc.returncode})")
    return proc


def stop_attack(proc: subprocess.Popen, timeout_s: float = 60) -> int:
    """Tell an attack started with ``until_stopped`` to end; its exit status (0: the attack
    saw what it expected of the hub)."""
    assert proc.poll() is None, f"the attack ended before it was told to (exit {proc.returncode})"
    try:
        proc.stdin.write("stop\n")
        proc.stdin.close()
    except BrokenPipeError:
        pass
    return proc.wait(timeout_s)


def fragment_states(db: Path) -> dict[str, int]:
    import sqlite3
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return dict(con.execute("SELECT state, count(*) FROM fragments GROUP BY state"))
    finally:
        con.close()


def honest_worker_finishes(hub: HubProcess, fragments: int, timeout_s: float = 90.0,
                           workers: int = 1) -> int:
    """Honest (plain TCP) workers do fragments until ``fragments`` of them are DONE (all of
    the job, or all an attacker does not hold), none FAILED, as the database says; returns
    the hub's peak RSS seen meanwhile."""
    sys.path.insert(0, str(Path(__file__).parent.parent / "hub"))
    import zmq
    from fakeworker import FakeWorker
    ctx = zmq.Context()
    ws = [FakeWorker(hub.endpoint, slots=4, name=f"honest{i}", fn=lambda b: b.upper(), ctx=ctx)
          for i in range(workers)]
    peak = hub.rss_bytes()
    try:
        for w in ws:
            w.hello(timeout_s=30)
            w.ready()
        deadline = time.monotonic() + timeout_s
        next_check = 0.0
        while True:
            now = time.monotonic()
            if now >= next_check:
                states = fragment_states(hub.db)
                assert not states.get("FAILED"), f"fragments failed: {states}"
                if states.get("DONE", 0) >= fragments:
                    return max(peak, hub.rss_bytes())
                if now > deadline:
                    raise AssertionError(f"honest workers did not finish during the attack: "
                                         f"{states}")
                next_check = now + 0.5
            for w in ws:
                w.heartbeat()
                w.poll(0.02)
                w.run_all()
            peak = max(peak, hub.rss_bytes())
    finally:
        for w in ws:
            w.close()
        ctx.term()


def real_worker_finishes(hub: HubProcess, tmp: Path, fragments: int = 6,
                         timeout_s: float = 180.0) -> None:
    """A real ``cpushare-worker`` (with the hub's key unless the hub is --insecure) joins the
    hub and runs a job the buyer submits with ``cpushare submit`` (echo.elf): every result
    comes back right."""
    from cpushare_mq.native import find_binary
    inputs = []
    for i in range(fragments):
        p = tmp / f"in{i}.txt"
        p.write_bytes(b"honest %d\n" % i)
        inputs.append(p)
    key = (["--hub-key", str(hub.db.with_name(hub.db.stem + ".keys") / "hub.pub")]
           if hub.public_key else ["--insecure"])
    with open(tmp / "worker.log", "ab") as wlog:
        worker = subprocess.Popen(
            [str(BIN / "cpushare-worker"), "--hub", hub.endpoint, *key, "--slots", "2",
             "--name", "honest", "--config-dir", str(tmp / "honest-id"),
             "--cache-dir", str(tmp / "honest-cache")], stdout=wlog, stderr=wlog)
    try:
        r = subprocess.run([str(BIN / "cpushare"), "submit", str(find_binary("examples/echo.elf")),
                            *map(str, inputs), "--api", hub.api, "--out", str(tmp / "out")],
                           capture_output=True, text=True, timeout=timeout_s)
        assert r.returncode == 0, (r.stderr, (tmp / "worker.log").read_text()[-2000:])
        for p in inputs:
            assert (tmp / "out" / f"{p.name}.out").read_bytes() == p.read_bytes()
    finally:
        stop_process(worker, 20)


def worker_rows(db: Path) -> int:
    import sqlite3
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM workers").fetchone()[0]
    finally:
        con.close()
