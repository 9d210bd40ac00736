"""End to end on loopback: the real hub, real ``cpushare-worker`` processes, the real sandbox.

Every job must end complete, with results equal to running the program directly, and every
fragment accepted exactly once (checked in the hub's SQLite store) — also while a worker is
SIGKILLed, SIGSTOPped past the liveness limit, SIGTERMed, or the hub is SIGKILLed and
restarted.
"""

from __future__ import annotations

import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from waiting import wait_for

from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub
from cpushare_mq.native import find_binary
from cpushare_mq.sandbox import Sandbox

BIN = Path(sys.executable).parent
HEARTBEAT_S, LIVENESS = 0.5, 3          # the hub's defaults


# --------------------------------------------------------------------------- helpers

def spin_fragments(n: int, spin_k: int, tag: str) -> list[bytes]:
    return [struct.pack("<I", spin_k) + f"{tag}-{i}".encode() for i in range(n)]


def spin_expected(program: Path, shared: bytes, fragments: list[bytes]) -> list[bytes]:
    """The spin program's results: a Python reference, checked against running the program
    directly on a sample (running all of them directly would take as long as the job)."""
    def ref(frag: bytes) -> bytes:
        h = 14695981039346656037
        for byte in shared + frag[4:]:
            h = ((h ^ byte) * 1099511628211) & (2**64 - 1)
        return b"%016x:" % h + frag[4:]
    out = [ref(f) for f in fragments]
    sample = [0, len(fragments) // 2, len(fragments) - 1]
    assert run_directly(program, shared, [fragments[i] for i in sample]) == [out[i] for i in sample]
    return out


def run_directly(program: Path, shared: bytes, fragments: list[bytes]) -> list[bytes]:
    """What the program gives when run directly (one local sandbox, no hub)."""
    out = []
    with Sandbox(program, shared_input=shared) as sb:
        for f in fragments:
            rec = sb.run(f)
            assert rec.ok, rec
            out.append(sb.last_output)
    return out


class Procs:
    """Subprocesses of one test; all killed (SIGCONT first) at the end."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []

    def worker(self, endpoint: str, name: str, *extra: str, slots: int = 2) -> subprocess.Popen:
        log = open(self.tmp / f"worker-{name}.log", "ab")
        p = subprocess.Popen(
            [str(BIN / "cpushare-worker"), "--hub", endpoint, "--slots", str(slots), "--name", name,
             "--cache-dir", str(self.tmp / f"cache-{name}"), "--status-interval-s", "1", *extra],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append(p)
        return p

    def hub(self, db: Path, port: int) -> subprocess.Popen:
        log = open(self.tmp / "hub.log", "ab")
        p = subprocess.Popen([str(BIN / "cpushare-hub"), "serve", "--db", str(db), "--bind",
                              f"tcp://127.0.0.1:{port}", "--api", "", "--insecure"],
                             stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append(p)
        return p

    def log(self, name: str) -> str:
        return (self.tmp / f"worker-{name}.log").read_text(errors="replace")

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGCONT)
                    p.kill()
                except ProcessLookupError:
                    pass
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def procs(tmp_path):
    ps = Procs(tmp_path)
    try:
        yield ps
    finally:
        ps.cleanup()


@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="").start()
    try:
        yield h
    finally:
        h.close()


def stop(p: subprocess.Popen, timeout=20) -> int:
    p.send_signal(signal.SIGTERM)
    return p.wait(timeout)


def db_rows(db: Path, sql: str, args=()) -> list[tuple]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def done_count(db: Path, job_id: str) -> int:
    return db_rows(db, "SELECT COUNT(*) FROM fragments WHERE job_id=? AND state='DONE'", (job_id,))[0][0]



def results_of(h: Hub, job_id: str, n: int) -> list[bytes]:
    got: dict[int, bytes] = {}
    for ff in h.finished(job_id, 0, limit=n + 10):
        assert ff.ok, f"fragment {ff.index} failed: {ff.reason}"
        assert ff.index not in got
        got[ff.index] = b"".join(h.result_chunks(ff.fragment_id))
    assert sorted(got) == list(range(n))
    return [got[i] for i in range(n)]


def assert_accepted_once(db: Path, job_id: str, n: int) -> None:
    """Each fragment: exactly one counted result (attempt end 'vote'), results stored for one
    attempt only, state DONE."""
    votes = db_rows(db, "SELECT fragment_id, COUNT(*) FROM attempts WHERE job_id=? AND end='vote' "
                        "GROUP BY fragment_id", (job_id,))
    assert len(votes) == n and all(c == 1 for _, c in votes), \
        f"fragments accepted more than once: {[v for v in votes if v[1] != 1][:5]}"
    multi = db_rows(db, "SELECT r.fragment_id FROM results r JOIN fragments f ON f.id=r.fragment_id "
                        "WHERE f.job_id=? GROUP BY r.fragment_id HAVING COUNT(DISTINCT r.attempt) > 1",
                    (job_id,))
    assert multi == []
    states = db_rows(db, "SELECT state, COUNT(*) FROM fragments WHERE job_id=? GROUP BY state", (job_id,))
    assert states == [("DONE", n)]


def worker_ids(db: Path, name: str) -> set[str]:
    return {r[0] for r in db_rows(db, "SELECT id FROM workers WHERE name=?", (name,))}


def wait_joined(h: Hub, n: int) -> None:
    wait_for(lambda: sum(1 for w in h.status()["workers"] if w["alive"]) >= n, 30,
               f"{n} workers to join")


def fetched_blobs(log_text: str) -> int:
    return log_text.count("fetched blob")


# --------------------------------------------------------------------------- tests

def test_job_with_two_workers_and_cache(hub, procs, tmp_path):
    prog = find_binary("examples/checksum.elf")
    shared = b"shared input " * 10
    frags = [b"fragment %d " % i * (i % 7 + 1) for i in range(250)]
    a = procs.worker(hub.worker_endpoint, "A")
    b = procs.worker(hub.worker_endpoint, "B")
    wait_joined(hub, 2)
    expected = run_directly(prog, shared, frags)
    job = hub.submit_job(JobSpec(program=prog.read_bytes(), fragments=frags, shared_input=shared))
    wait_for(lambda: hub.job_progress(job)["done"] == 250, 60, "the job to finish")
    assert results_of(hub, job, 250) == expected
    db = tmp_path / "hub.db"
    assert_accepted_once(db, job, 250)
    per_worker = db_rows(db, "SELECT w.name, COUNT(*) FROM attempts a JOIN workers w ON "
                             "w.id=a.worker_id WHERE a.end='vote' GROUP BY w.name")
    assert {n for n, _ in per_worker} == {"A", "B"}           # both took part
    fetched = {n: fetched_blobs(procs.log(n)) for n in "AB"}
    assert all(1 <= v <= 2 for v in fetched.values())         # program (+ shared input) once

    # the second job with the same program: no program bytes cross the network again
    frags2 = [b"second job %d" % i for i in range(100)]
    job2 = hub.submit_job(JobSpec(program=prog.read_bytes(), fragments=frags2, shared_input=shared))
    wait_for(lambda: hub.job_progress(job2)["done"] == 100, 60, "the second job to finish")
    assert results_of(hub, job2, 100) == run_directly(prog, shared, frags2)
    assert {n: fetched_blobs(procs.log(n)) for n in "AB"} == fetched
    assert stop(a) == 0 and stop(b) == 0


def test_worker_sigkill_mid_job(hub, procs, tmp_path, spin_elf):
    db = tmp_path / "hub.db"
    frags = spin_fragments(300, 40_000, "k")
    a = procs.worker(hub.worker_endpoint, "A")
    b = procs.worker(hub.worker_endpoint, "B")
    wait_joined(hub, 2)
    expected = spin_expected(spin_elf, b"", frags)
    job = hub.submit_job(JobSpec(program=spin_elf.read_bytes(), fragments=frags))
    wait_for(lambda: done_count(db, job) >= 60, 60, "a fifth of the job")
    wait_for(lambda: worker_ids(db, "A"), 10, "worker A in the store")
    a.kill()
    killed_at = time.time()
    a.wait(10)
    wait_for(lambda: hub.job_progress(job)["done"] == 300, 90, "the job to finish")
    assert results_of(hub, job, 300) == expected
    assert_accepted_once(db, job, 300)
    # A's unfinished leases were declared lost and run again elsewhere
    lost = db_rows(db, "SELECT fragment_id, ended_s FROM attempts WHERE end='lost' AND worker_id IN "
                       f"({','.join('?' * len(worker_ids(db, 'A')))})", tuple(worker_ids(db, "A")))
    assert lost, "the killed worker held no leases?"
    for _fid, ended_s in lost:
        assert ended_s - killed_at < HEARTBEAT_S * LIVENESS + 2.0
    assert stop(b) == 0


def test_worker_sigstop_past_liveness_then_resumed(hub, procs, tmp_path, spin_elf):
    db = tmp_path / "hub.db"
    frags = spin_fragments(300, 40_000, "s")
    a = procs.worker(hub.worker_endpoint, "A")
    b = procs.worker(hub.worker_endpoint, "B")
    wait_joined(hub, 2)
    expected = spin_expected(spin_elf, b"", frags)
    job = hub.submit_job(JobSpec(program=spin_elf.read_bytes(), fragments=frags))
    wait_for(lambda: done_count(db, job) >= 60, 60, "a fifth of the job")
    paused_at = time.time()
    a.send_signal(signal.SIGSTOP)
    time.sleep(HEARTBEAT_S * LIVENESS + 1.5)                    # declared dead meanwhile
    a.send_signal(signal.SIGCONT)
    wait_for(lambda: hub.job_progress(job)["done"] == 300, 90, "the job to finish")
    assert results_of(hub, job, 300) == expected
    assert_accepted_once(db, job, 300)
    assert db_rows(db, "SELECT COUNT(*) FROM attempts WHERE end='lost'")[0][0] > 0
    # A rejoins as a new session of its key, in the key's one row (hub/workerids.py)
    wait_for(lambda: db_rows(db, "SELECT count(*) FROM workers WHERE name='A' AND state='alive' "
                                 "AND joined_s > ?", (paused_at,))[0][0] == 1, 20, "A to rejoin")
    assert len(worker_ids(db, "A")) == 1
    # A is still a working member: a follow-up job uses it
    job2 = hub.submit_job(JobSpec(program=spin_elf.read_bytes(), fragments=spin_fragments(40, 0, "t")))
    wait_for(lambda: hub.job_progress(job2)["done"] == 40, 60, "the follow-up job")
    assert a.poll() is None
    assert stop(a) == 0 and stop(b) == 0
    assert "Traceback" not in procs.log("A")


def test_hub_sigkill_and_restart(procs, tmp_path, spin_elf):
    db = tmp_path / "hub.db"
    frags = spin_fragments(300, 40_000, "h")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # store the job first (an embedded hub on the same database, then closed)
    h0 = Hub(db, bind="tcp://127.0.0.1:0", api="").start()
    job = h0.submit_job(JobSpec(program=spin_elf.read_bytes(), fragments=frags))
    h0.close()
    expected = spin_expected(spin_elf, b"", frags)
    endpoint = f"tcp://127.0.0.1:{port}"
    hub_p = procs.hub(db, port)
    a = procs.worker(endpoint, "A")
    b = procs.worker(endpoint, "B")
    wait_for(lambda: done_count(db, job) >= 60, 60, "a fifth of the job")
    hub_p.kill()
    hub_p.wait(10)
    before = done_count(db, job)
    time.sleep(0.5)
    hub_p = procs.hub(db, port)
    wait_for(lambda: done_count(db, job) == 300, 90, "the job to finish after the restart")
    assert done_count(db, job) >= before                       # nothing committed was lost
    assert stop(hub_p) == 0
    assert_accepted_once(db, job, 300)
    h = Hub(db, bind="tcp://127.0.0.1:0", api="")             # read-only use, not started
    try:
        assert results_of(h, job, 300) == expected
    finally:
        h.close()
    for p in (a, b):
        p.send_signal(signal.SIGTERM)
        p.wait(20)
    for n in "AB":          # each worker joined the restarted hub, re-announcing its leases
        assert procs.log(n).count("joined hub as") >= 2


def test_worker_sigterm_hands_back_at_once(hub, procs, tmp_path, spin_elf):
    db = tmp_path / "hub.db"
    frags = spin_fragments(200, 60_000, "t")
    a = procs.worker(hub.worker_endpoint, "A", "--prefetch", "3", "--grace-s", "20")
    b = procs.worker(hub.worker_endpoint, "B")
    wait_joined(hub, 2)
    expected = spin_expected(spin_elf, b"", frags)
    job = hub.submit_job(JobSpec(program=spin_elf.read_bytes(), fragments=frags))
    wait_for(lambda: done_count(db, job) >= 30, 60, "part of the job")
    a.send_signal(signal.SIGTERM)
    assert a.wait(30) == 0                                     # finished its running fragments
    ids = tuple(worker_ids(db, "A"))
    marks = ",".join("?" * len(ids))
    released = db_rows(db, f"SELECT fragment_id, attempt, ended_s FROM attempts WHERE end='released' "
                           f"AND worker_id IN ({marks})", ids)
    assert released, "the stopped worker handed nothing back"
    wait_for(lambda: hub.job_progress(job)["done"] == 200, 90, "the job to finish")
    delays = []
    for fid, attempt, ended_s in released:
        (leased_again,) = db_rows(db, "SELECT MIN(leased_s) FROM attempts WHERE fragment_id=? "
                                      "AND attempt>?", (fid, attempt))[0]
        assert leased_again is not None
        # reassigned at once (B asks for work continuously), not after a lease timeout
        delays.append(leased_again - ended_s)
    print(f"released fragments leased again after {min(delays):.3f}-{max(delays):.3f} s")
    # within about one heartbeat interval (B asks for work as its slots free up), not after a
    # lease timeout or the liveness limit
    assert max(delays) < HEARTBEAT_S + 0.5, delays
    # the fragments A was running when told to stop finished there, within the grace period
    assert db_rows(db, f"SELECT COUNT(*) FROM attempts WHERE worker_id IN ({marks}) AND "
                       f"end IS NULL", ids)[0][0] == 0
    assert results_of(hub, job, 200) == expected
    assert_accepted_once(db, job, 200)
    assert stop(b) == 0


def test_curve_link_with_hub_key_and_signed_results(procs, tmp_path):
    """A secure hub (CURVE, signed results): workers with the hub's key work (two of them:
    the hub spot-checks new workers' results on another worker), one with a wrong key gets
    nothing."""
    h = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="", insecure=False).start()
    try:
        assert h.public_key
        good = [procs.worker(h.worker_endpoint, n, "--hub-key", h.public_key,
                             "--config-dir", str(tmp_path / f"id-{n}")) for n in "AC"]
        wrong = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"       # a valid key, not the hub's
        bad = procs.worker(h.worker_endpoint, "B", "--hub-key", wrong,
                           "--config-dir", str(tmp_path / "id-B"))
        wait_joined(h, 2)     # both good ones in before the job (it may take one worker only)
        prog = find_binary("examples/echo.elf")
        frags = [b"secret fragment %d" % i for i in range(50)]
        job = h.submit_job(JobSpec(program=prog.read_bytes(), fragments=frags))
        wait_for(lambda: h.job_progress(job)["done"] == 50, 60, "the job over CURVE")
        assert results_of(h, job, 50) == frags
        names = {w["name"] for w in h.status()["workers"]}
        assert names == {"A", "C"}                            # B never got in
        assert (tmp_path / "id-A" / "worker.pub").is_file()   # identity created on first start
        # B logs the failure when its handshake fails, which on a busy machine may come after
        # the job is done: wait for it (bounded) rather than race it
        wait_for(lambda: "handshake with the hub failed" in procs.log("B"), 30,
                 "the wrong-key worker to report its failed handshake")
        assert all(stop(p) == 0 for p in good) and stop(bad) == 0
    finally:
        h.close()


def test_worker_sigkill_mid_job_examples_program(hub, procs, tmp_path):
    """The SIGKILL case again with c/examples' checksum program: many short fragments, so the
    killed worker held a deep prefetch queue."""
    db = tmp_path / "hub.db"
    prog = find_binary("examples/checksum.elf")
    shared = b"the shared input"
    frags = [b"fragment %d" % i for i in range(10_000)]
    expected = run_directly(prog, shared, frags)
    a = procs.worker(hub.worker_endpoint, "A")
    b = procs.worker(hub.worker_endpoint, "B")
    wait_joined(hub, 2)
    job = hub.submit_job(JobSpec(program=prog.read_bytes(), fragments=frags, shared_input=shared))
    wait_for(lambda: done_count(db, job) >= 1000, 60, "a tenth of the job", poll_s=0.005)
    a.kill()
    a.wait(10)
    wait_for(lambda: hub.job_progress(job)["done"] == 10_000, 90, "the job to finish")
    ids = tuple(worker_ids(db, "A"))
    lost = db_rows(db, f"SELECT COUNT(*) FROM attempts WHERE end='lost' AND worker_id IN "
                       f"({','.join('?' * len(ids))})", ids)[0][0]
    assert lost > 0, "the killed worker held no leases?"
    assert results_of(hub, job, 10_000) == expected
    assert_accepted_once(db, job, 10_000)
    assert stop(b) == 0
