"""The hub over real ZeroMQ sockets on loopback, with in-test fake workers."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import time

import pytest
import zmq
from fakeworker import FakeWorker

from cpushare_mq.errors import StoreError, UnknownJob
from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub, HubConfig
from cpushare_mq.outcome import Outcome
from cpushare_mq.protocol import MsgType, encode

# Heartbeats every 0.1 s, dead after 2 s of silence: quick, and still longer than a fake
# worker's pauses on a loaded machine (with liveness 3, 0.3 s of silence -- a 12 MiB input
# decoded while both cores were busy -- was enough to declare a live worker dead).
FAST = HubConfig(heartbeat_interval_s=0.1, liveness=20, reconnect_grace_s=2.0)


@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="", config=FAST).start()
    try:
        yield h
    finally:
        h.close()


@pytest.fixture
def workers():
    made = []

    def make(hub, **kw):
        w = FakeWorker(hub.worker_endpoint, **kw)
        made.append(w)
        return w
    yield make
    for w in made:
        w.close()


def drive(hub, job_id, ws, timeout_s=20.0, answer=None):
    """Let the fake workers answer everything until the job ends."""
    deadline = time.monotonic() + timeout_s
    while hub.job_progress(job_id)["state"] == "running":
        assert time.monotonic() < deadline, hub.job_progress(job_id)
        for w in ws:
            w.poll(0.01)
            if answer is None:
                w.run_all()
            else:
                answer(w)
            w.heartbeat()
    for w in ws:
        w.poll(0.05)


def results_of(hub, job_id):
    out = {}
    for f in hub.finished(job_id, 0, 100_000):
        assert f.index not in out, f"fragment {f.index} finished twice"
        out[f.index] = b"".join(hub.result_chunks(f.fragment_id)) if f.ok else f.reason
    return out


def test_job_end_to_end_with_streamed_multi_chunk_results(hub, workers):
    big = os.urandom(700_000)   # 3 chunks of <= 256 KiB
    frags = [b"f%d" % i for i in range(30)] + [big]
    job = hub.submit_job(JobSpec(program=b"\x7fELF", fragments=frags, name="e2e"))
    ws = [workers(hub, slots=2, credit=4, fn=lambda b: b[::-1], name=f"w{i}") for i in range(2)]
    for w in ws:
        w.hello()
        w.ready()
    seen = 0
    drive(hub, job, ws)
    assert hub.wait_for_change(job, seen, 1.0) == 31
    res = results_of(hub, job)
    assert res == {i: f[::-1] for i, f in enumerate(frags)}
    p = hub.job_progress(job)
    assert (p["state"], p["done"], p["failed"], p["pending"]) == ("done", 31, 0, 0)
    assert sum(1 for w in ws for a in w.acks if a[2] == "accepted") == 31
    st = hub.status()
    assert {w["name"] for w in st["workers"]} == {"w0", "w1"}
    assert sum(w["done"] for w in st["workers"]) == 31
    hub.set_cursor(job, 10)
    assert hub.get_cursor(job) == 10
    with pytest.raises(UnknownJob):
        hub.job_progress("j-missing")
    with pytest.raises(UnknownJob):
        hub.cancel_job("j-missing")


def test_fetch_program_and_forbidden_blobs(hub, workers):
    job = hub.submit_job(JobSpec(program=b"PROGRAM", fragments=[b"a"], shared_input=b"SHARED"))
    w = workers(hub)
    w.hello()
    w.send(MsgType.FETCH, {"sha256": hashlib.sha256(b"PROGRAM").hexdigest()})
    assert w.wait_for(MsgType.ERROR)["code"] == "forbidden"      # no lease of that job yet
    w.ready()
    w.wait_for(MsgType.LEASE)
    (lease,) = w.leases.values()
    for sha, data in ((lease["program_sha256"], b"PROGRAM"), (lease["shared_sha256"], b"SHARED")):
        w.send(MsgType.FETCH, {"sha256": sha})
        msg = w.wait_for(MsgType.BLOB)
        assert msg["sha256"] == sha and msg.blobs == [data]
    drive(hub, job, [w])


def test_dead_worker_leases_are_requeued_within_liveness(hub, workers):
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"x%d" % i for i in range(4)]))
    silent = workers(hub, slots=4, name="silent")
    silent.hello()
    silent.ready()
    silent.wait_for(MsgType.LEASE)
    silent.keepalive = False
    assert len(silent.leases) == 4
    last_heard = time.monotonic()         # the silent worker never speaks again
    good = workers(hub, slots=4, name="good")
    good.hello()
    good.ready()
    good.wait_for(MsgType.LEASE, timeout_s=5)
    got = time.monotonic() - last_heard
    # bound: liveness x interval (2 s) + detection slack; generous for a loaded 2-core box
    assert got < FAST.dead_after_s + 1.0, got
    drive(hub, job, [good])
    assert len(results_of(hub, job)) == 4
    # the dead worker's late results are acknowledged as stale/duplicate, not accepted
    silent.run_all()
    assert silent.wait_for(MsgType.ERROR)["code"] == "unknown_worker"
    assert len(hub.finished(job, 0)) == 4


def test_closed_connection_is_noticed_at_once_not_after_liveness(tmp_path, workers):
    """A worker whose process dies closes its TCP connection: the hub sees the disconnect
    (socket monitor + a ROUTER_MANDATORY probe) and re-leases its fragments long before the
    liveness countdown (here 3 x 5 s) would have."""
    slow = HubConfig(heartbeat_interval_s=5.0, liveness=3)
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="", config=slow).start()
    try:
        job = hub.submit_job(JobSpec(program=b"p", fragments=[b"x%d" % i for i in range(4)]))
        doomed = workers(hub, slots=4, name="doomed")
        doomed.hello()
        doomed.ready()
        doomed.wait_for(MsgType.LEASE)
        assert len(doomed.leases) == 4
        good = workers(hub, slots=4, name="good")
        good.hello()
        good.ready()
        t_close = time.monotonic()
        doomed.close()                    # as the kernel does for a killed process
        good.wait_for(MsgType.LEASE, timeout_s=5)
        got = time.monotonic() - t_close
        assert got < slow.dead_after_s / 3, got
        drive(hub, job, [good])
        assert len(results_of(hub, job)) == 4
        with sqlite3.connect(tmp_path / "hub.db") as db:
            lost = db.execute("SELECT count(*) FROM attempts WHERE worker_id=? AND end='lost'",
                              (doomed.worker_id,)).fetchone()[0]
        assert lost == 4
        assert [w["name"] for w in hub.status()["workers"]] == ["good"]
    finally:
        hub.close()


def test_redundancy_votes_out_a_lying_worker(hub, workers):
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"a%d" % i for i in range(6)],
                                 redundancy=3))
    honest = [workers(hub, slots=2, key=f"k{i}", fn=lambda b: b.upper()) for i in range(2)]
    liar = workers(hub, slots=2, key="liar", fn=lambda b: b"WRONG")
    for w in [*honest, liar]:
        w.hello()
        w.ready()
    drive(hub, job, [*honest, liar])
    assert results_of(hub, job) == {i: b"A%d" % i for i in range(6)}
    db = sqlite3.connect(hub.db_path)
    disagreed = db.execute("SELECT DISTINCT worker_key FROM attempts WHERE end='disagreed'").fetchall()
    db.close()
    assert disagreed in ([], [("liar",)])    # the liar's copy may be cancelled before it answers


def test_failures_follow_the_retry_policy(hub, workers):
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"bad", b"crash", b"ok"], max_attempts=5))

    def answer(w):
        for ref in list(w.leases):
            data = w.inputs.pop(ref)
            del w.leases[ref]
            if data == b"bad":
                w.failure(ref, Outcome.FRAGMENT_ERROR, "invalid tile")
            elif data == b"crash":
                w.failure(ref, Outcome.MEMORY_FAULT)
            else:
                w.result(ref, data)
            w.ready(1)

    ws = [workers(hub, key=f"k{i}", slots=1) for i in range(4)]
    for w in ws:
        w.hello()
        w.ready()
    drive(hub, job, ws, answer=answer)
    res = results_of(hub, job)
    assert res[2] == b"ok"
    assert res[0].startswith("fragment_error: invalid tile")
    assert "killed the sandbox on 3 different workers" in res[1]
    p = hub.job_progress(job)
    assert (p["done"], p["failed"]) == (1, 2)
    assert sorted(f["index"] for f in p["failures"]) == [0, 1]


def test_cancel_sends_cancel_and_ends_the_job(hub, workers):
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"a", b"b", b"c"]))
    w = workers(hub, slots=2)
    w.hello()
    w.ready()
    w.wait_for(MsgType.LEASE)
    held = set(w.leases)
    hub.cancel_job(job)
    w.wait_for(MsgType.CANCEL)
    assert set(w.cancels) == held
    assert hub.job_progress(job)["state"] == "cancelled"
    assert hub.wait_for_change(job, 0, 5.0) == 0      # ended: returns at once
    w.run_all()
    w.poll(0.3)


def _tables(db_path):
    con = sqlite3.connect(db_path)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("jobs", "fragments", "attempts", "results", "blobs")}
    finally:
        con.close()


def _mutate(rnd, frames):
    frames = [bytearray(f) for f in frames]
    for _ in range(rnd.randint(0, 3)):
        k = rnd.randrange(len(frames))
        if frames[k]:
            frames[k][rnd.randrange(len(frames[k]))] = rnd.randrange(256)
    if rnd.random() < 0.1:
        frames.append(bytearray(rnd.randbytes(rnd.randint(0, 20))))
    if rnd.random() < 0.2:
        frames = [bytearray(rnd.randbytes(rnd.randint(0, 40))) for _ in range(rnd.randint(1, 4))]
    return [bytes(f) for f in frames]


def test_rogue_dealer_without_hello_changes_nothing(tmp_path, workers):
    """Random and mutated frames from a peer that never joined: ERROR replies, the hub
    keeps serving, and not one row of its state changes."""
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="", config=HubConfig()).start()
    try:
        _rogue_without_hello(hub, workers)
    finally:
        hub.close()


def _rogue_without_hello(hub, workers):
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"z%d" % i for i in range(3)]))
    w = workers(hub, slots=3)
    w.hello()
    w.ready()
    w.wait_for(MsgType.LEASE)                      # some state in flight: leases
    before = _tables(hub.db_path)
    rogue = zmq.Context.instance().socket(zmq.DEALER)
    rogue.setsockopt(zmq.LINGER, 0)
    rogue.connect(hub.worker_endpoint)
    try:
        rnd = random.Random(99)
        (fid, attempt), = list(w.leases)[:1]
        templates = [
            encode(MsgType.READY, {"credit": 3}),
            encode(MsgType.FETCH, {"sha256": "0" * 64}),
            encode(MsgType.RESULT_END, {"fragment_id": fid, "attempt": attempt, "chunks": 1,
                                        "sha256": "0" * 64, "size": 0,
                                        "outcome": {"outcome": "ok"}}, [b"junk"]),
            encode(MsgType.FAILURE, {"fragment_id": fid, "attempt": attempt,
                                     "outcome": {"outcome": "bad_program"}}),
            encode(MsgType.RELEASE, {"leases": [[fid, attempt]]}),
            encode(MsgType.BYE, {}),
        ]
        for _ in range(600):
            frames = _mutate(rnd, rnd.choice(templates))
            if frames and len(frames[0]) == 6 and frames[0][5] == MsgType.HELLO:
                continue                               # stay a stranger
            rogue.send_multipart(frames)
            w.heartbeat()
        replies = 0
        while rogue.poll(300):
            rogue.recv_multipart()
            replies += 1
        assert replies > 0
        assert _tables(hub.db_path) == before           # nothing stored changed
        drive(hub, job, [w])                            # and the hub still works
        assert sorted(results_of(hub, job)) == [0, 1, 2]
    finally:
        rogue.close(0)


def test_rogue_dealer_cannot_hurt_the_hub(hub, workers):
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"q%d" % i for i in range(5)]))
    rogue = zmq.Context.instance().socket(zmq.DEALER)
    rogue.setsockopt(zmq.LINGER, 0)
    rogue.connect(hub.worker_endpoint)
    try:
        before = hub.job_progress(job)
        rnd = random.Random(1234)
        good = [encode(MsgType.HELLO, {"worker_version": "x", "abi_version": 1, "slots": 1}),
                encode(MsgType.READY, {"credit": 3}),
                encode(MsgType.RESULT_END, {"fragment_id": 1, "attempt": 0, "chunks": 1,
                                            "sha256": "0" * 64, "size": 0,
                                            "outcome": {"outcome": "ok"}}, [b"junk"])]
        for _ in range(400):
            frames = [bytearray(f) for f in rnd.choice(good)]
            for _ in range(rnd.randint(0, 3)):
                k = rnd.randrange(len(frames))
                if frames[k]:
                    frames[k][rnd.randrange(len(frames[k]))] = rnd.randrange(256)
            if rnd.random() < 0.2:
                frames = [bytearray(rnd.randbytes(rnd.randint(0, 40))) for _ in range(rnd.randint(1, 4))]
            rogue.send_multipart([bytes(f) for f in frames])
        # an honest worker still gets served, and nothing the rogue sent was accepted
        w = workers(hub)
        w.hello()
        assert hub.job_progress(job)["done"] == before["done"] == 0
        w.ready()
        drive(hub, job, [w])
        assert sorted(results_of(hub, job)) == list(range(5))
        assert all(a[2] == "accepted" for a in w.acks), w.acks
        errors = 0
        while rogue.poll(100):
            rogue.recv_multipart()
            errors += 1
        assert errors > 0                                 # it was told what was wrong
    finally:
        rogue.close(0)


def test_unknown_worker_and_version_are_refused(hub, workers):
    w = workers(hub)
    w.send(MsgType.READY, {"credit": 1})
    assert w.wait_for(MsgType.ERROR)["code"] == "unknown_worker"
    frames = encode(MsgType.HEARTBEAT)
    frames[0] = frames[0][:4] + bytes([9]) + frames[0][5:]
    w.sock.send_multipart(frames)
    err = w.wait_for(MsgType.ERROR)
    assert err["code"] == "version" and "version 9" in err["message"]
    w.send(MsgType.HELLO, {"worker_version": "x", "abi_version": 7, "slots": 1})
    assert "ABI 7" in w.wait_for(MsgType.ERROR)["message"]


def test_disk_full_acknowledges_nothing_and_recovers(hub, workers):
    """A real SQLITE_FULL on the hub's own connection (max_page_count), then room again."""
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"a", b"b"]))
    w = workers(hub, slots=2)
    w.hello()
    w.ready()
    w.wait_for(MsgType.LEASE)
    conn = hub._call(lambda now: hub.store.conn())          # the loop thread's connection
    pages = hub._call(lambda now: conn.execute("PRAGMA page_count").fetchone()[0])
    hub._call(lambda now: conn.execute(f"PRAGMA max_page_count={pages}"))
    refs = list(w.leases)
    big = os.urandom(300_000)                               # incompressible: needs new pages
    for ref in refs:
        w.result(ref, big)
    assert w.wait_for(MsgType.ERROR)["code"] == "internal"
    w.poll(0.3)
    assert w.acks == [] and hub.job_progress(job)["done"] == 0
    hub._call(lambda now: conn.execute("PRAGMA max_page_count=1073741823"))
    for ref in refs:                        # the worker sends again: now it is committed
        w.result(ref, big)
    drive(hub, job, [w])
    assert results_of(hub, job) == {0: big, 1: big}


def test_store_failure_acknowledges_nothing_and_recovers(hub, workers, monkeypatch):
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"a", b"b"]))
    w = workers(hub, slots=2)
    w.hello()
    w.ready()
    w.wait_for(MsgType.LEASE)
    real_apply = hub.store.apply
    broken = {"on": True}

    def apply(journal, now):
        if broken["on"]:
            raise StoreError("could not commit: database or disk is full")
        return real_apply(journal, now)

    monkeypatch.setattr(hub.store, "apply", apply)
    refs = list(w.leases)
    for ref in refs:
        w.result(ref, b"R")
    err = w.wait_for(MsgType.ERROR)
    assert err["code"] == "internal"
    w.poll(0.3)
    assert w.acks == [] and hub.job_progress(job)["done"] == 0
    broken["on"] = False
    for ref in refs:                       # the worker sends again: now it is committed
        w.result(ref, b"R")
    drive(hub, job, [w])
    assert results_of(hub, job) == {0: b"R", 1: b"R"}


def test_restart_honours_held_leases_and_keeps_results(tmp_path, workers):
    db = tmp_path / "hub.db"
    hub = Hub(db, bind="tcp://127.0.0.1:0", api="", config=FAST).start()
    ep = hub.worker_endpoint
    try:
        job = hub.submit_job(JobSpec(program=b"p", fragments=[b"r%d" % i for i in range(8)]))
        w = workers(hub, slots=4, key="kw")
        w.hello()
        w.ready()
        w.wait_for(MsgType.LEASE)
        first = sorted(w.leases)[:2]
        for ref in first:
            w.result(ref, w.inputs.pop(ref))
            del w.leases[ref]
        while len(w.acks) < len(first):     # the two may be acknowledged in two turns
            w.wait_for(MsgType.ACK)
        held = sorted(w.leases)
    finally:
        hub.close()
    hub = Hub(db, bind=ep, api="", config=FAST).start()
    try:
        assert hub.job_progress(job)["done"] == 2
        welcome = w.hello(held=held)
        assert sorted(tuple(r) for r in welcome["held_ok"]) == held
        w.ready(2)
        drive(hub, job, [w])
        res = results_of(hub, job)
        assert res == {i: b"r%d" % i for i in range(8)}
    finally:
        hub.close()


def test_big_inputs_are_split_over_lease_messages_and_partials_are_accounted(hub, workers):
    frags = [bytes([65 + i]) * (12 << 20) for i in range(3)]
    job = hub.submit_job(JobSpec(program=b"p", fragments=frags))
    w = workers(hub, slots=3)
    w.hello()
    w.ready()
    deadline = time.monotonic() + 20
    while len(w.leases) < 3:
        assert time.monotonic() < deadline
        w.poll(0.1)
        w.heartbeat()
    assert w.received.count(MsgType.LEASE) == 2          # 24 MiB + 12 MiB, not one 36 MiB message
    assert sorted(len(d) for d in w.inputs.values()) == [12 << 20] * 3
    drive(hub, job, [w], answer=lambda w: w.run_all())
    assert hub.status()["unfinished_result_bytes"] == 0
    assert results_of(hub, job) == dict(enumerate(frags))


def test_secure_hub_admits_only_curve_workers_with_signed_results(tmp_path, workers):
    """The trust layer wired in: CURVE + ZAP, signed results, keys tied to the handshake."""
    from cpushare_mq.trust.workerside import WorkerTrust
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="", config=HubConfig(),
              insecure=False).start()
    try:
        assert hub.public_key and (tmp_path / "hub.keys").is_dir()
        plain = workers(hub)                     # no CURVE: the handshake never completes
        try:     # (a DEALER whose only connection already failed its handshake has no
                 # peer to queue for: a blocking send would wait for ever)
            plain.sock.send_multipart(encode(MsgType.HELLO, {
                "worker_version": "x", "abi_version": 1, "slots": 1}), zmq.NOBLOCK)
        except zmq.Again:
            pass
        assert not plain.sock.poll(500)
        wt = WorkerTrust.load(tmp_path / "w", hub.public_key)
        ctx = zmq.Context()
        try:
            s = ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            wt.secure_socket(s)
            s.connect(hub.worker_endpoint)
            w = FakeWorker(hub.worker_endpoint, ctx=ctx, key=wt.hello_key, fn=lambda b: b * 2)
            w.sock.close(0)
            w.sock = s
            w.hello()
            job = hub.submit_job(JobSpec(program=b"p", fragments=[b"s1", b"s2"]))
            w.ready()
            w.wait_for(MsgType.LEASE)
            ref = sorted(w.leases)[0]
            w.result(ref, w.inputs.pop(ref) * 2)            # unsigned: rejected
            del w.leases[ref]
            while not w.acks:
                w.wait_for(MsgType.ACK)
            assert w.acks[0][2] == "rejected"
            assert hub.job_progress(job)["done"] == 0
            st = hub.status()
            assert st["workers"][0]["reputation"] and "trust" in st["workers"][0]
        finally:
            s.close(0)
            ctx.term()
    finally:
        hub.close()


def test_a_bug_costs_the_batch_not_the_hub(hub, workers, monkeypatch, caplog):
    from cpushare_mq.hub.scheduler import Scheduler
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"a", b"b", b"c"]))
    w = workers(hub, slots=3)
    w.hello()
    w.ready()
    w.wait_for(MsgType.LEASE)
    real = Scheduler.result
    calls = {"n": 0}

    def buggy(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated bug")
        return real(self, *a, **kw)

    monkeypatch.setattr(Scheduler, "result", buggy)
    ref = sorted(w.leases)[0]
    w.result(ref, b"A")
    deadline = time.monotonic() + 5
    while "simulated bug" not in caplog.text:
        assert time.monotonic() < deadline
        w.poll(0.05)
        w.heartbeat()
    assert hub.job_progress(job)["done"] == 0 and w.acks == []
    w.result(ref, b"A")                       # sent again after the lost batch: accepted
    drive(hub, job, [w])
    assert results_of(hub, job)[0] == b"A"
    assert len(results_of(hub, job)) == 3


def test_hub_heartbeats_idle_workers_and_release_reassigns_at_once(hub, workers):
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"h1", b"h2"], max_attempts=1))
    a = workers(hub, slots=2, name="a")
    a.hello()
    a.ready()
    a.wait_for(MsgType.LEASE)
    a.received.clear()
    a.wait_for(MsgType.HEARTBEAT, timeout_s=3 * FAST.heartbeat_interval_s + 1.0)
    b = workers(hub, slots=2, name="b")
    b.hello()
    b.ready()
    t0 = time.monotonic()
    a.send(MsgType.RELEASE, {"leases": [list(r) for r in sorted(a.leases)], "reason": "shutdown"})
    a.send(MsgType.BYE, {"reason": "shutdown"})
    b.wait_for(MsgType.LEASE)
    assert time.monotonic() - t0 < 2.0
    drive(hub, job, [b])
    assert sorted(results_of(hub, job)) == [0, 1]     # max_attempts=1: release was not a failure


def test_credit_survives_a_failed_commit(hub, workers):
    """Leases handed out in a turn whose commit failed were never sent: the worker gets its
    credit back (it asks again only after results, so lost credit would starve it)."""
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"c%d" % i for i in range(6)]))
    w = workers(hub, slots=2)
    w.hello()
    w.ready(2)
    w.wait_for(MsgType.LEASE)
    refs = sorted(w.leases)
    conn = hub._call(lambda now: hub.store.conn())
    pages = hub._call(lambda now: conn.execute("PRAGMA page_count").fetchone()[0])
    hub._call(lambda now: conn.execute(f"PRAGMA max_page_count={pages}"))
    big = os.urandom(300_000)
    for ref in refs:
        w.result(ref, big)
    w.ready(2)                              # in the same batch: 2 new leases, never sent
    assert w.wait_for(MsgType.ERROR)["code"] == "internal"
    w.poll(0.3)
    assert w.acks == []
    hub._call(lambda now: conn.execute("PRAGMA max_page_count=1073741823"))
    for ref in refs:                        # resent, with no new READY
        w.result(ref, big)
    deadline = time.monotonic() + 5
    while len(set(w.leases) - set(refs)) < 2:    # the 2 credits of the lost turn came back
        assert time.monotonic() < deadline, sorted(w.leases)
        w.poll(0.05)
        w.heartbeat()
    for ref in refs:
        w.leases.pop(ref, None)
    drive(hub, job, [w])
    assert len(results_of(hub, job)) == 6


def test_unreadable_inputs_hand_the_leases_back(hub, workers, monkeypatch):
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"u1", b"u2"]))
    real = hub.store.inputs
    broken = {"on": True}

    def inputs(fids):
        if broken["on"]:
            broken["on"] = False
            raise StoreError("hub database read failed: disk I/O error")
        return real(fids)

    monkeypatch.setattr(hub.store, "inputs", inputs)
    w = workers(hub, slots=2)
    w.hello()
    w.ready(2)
    w.wait_for(MsgType.LEASE)               # the second try works, with the same credit
    assert broken["on"] is False
    drive(hub, job, [w])
    assert sorted(results_of(hub, job)) == [0, 1]


def test_result_batch_is_handled_item_by_item(hub, workers):
    """RESULT_BATCH: each item counts as a RESULT_END with its blob: good ones accepted and
    stored, a wrong digest rejected (its fragment re-queued), a stale one acknowledged as
    such; WELCOME confirms the feature only to a worker that announced it."""
    from cpushare_mq.outcome import OutcomeRecord
    from cpushare_mq.protocol import compress_chunk

    plain = workers(hub, name="plain")          # an old worker gets the WELCOME it knew
    plain.send(MsgType.HELLO, {"worker_version": "old", "abi_version": 1, "slots": 1})
    assert plain.sock.poll(5000)
    welcome = plain.sock.recv_multipart()
    assert welcome[0][5] == MsgType.WELCOME and b"features" not in welcome[1]
    frags = [b"frag-%d" % i for i in range(6)]
    job = hub.submit_job(JobSpec(program=b"\x7fELF", fragments=frags))
    w = workers(hub, slots=6, credit=6, fn=lambda b: b.upper(), name="batcher")
    w.send(MsgType.HELLO, {"worker_version": "fake", "abi_version": 1, "slots": 6,
                           "name": "batcher", "features": ["result_batch", "unknown-feature"]})
    assert w.wait_for(MsgType.WELCOME)["features"] == ["result_batch"]
    w.worker_id = "joined"
    w.ready()
    deadline = time.monotonic() + 10
    while len(w.leases) < 6:
        assert time.monotonic() < deadline, w.leases
        w.poll(0.05)
    refs = sorted(w.leases)
    items, blobs = [], []
    for n, ref in enumerate(refs):
        data = w.fn(w.inputs[ref])
        sha = hashlib.sha256(data).hexdigest() if n != 2 else "0" * 64   # item 2 lies
        items.append({"fragment_id": ref[0], "attempt": ref[1], "chunks": 1, "sha256": sha,
                      "size": len(data), "outcome": OutcomeRecord(Outcome.OK, exit_code=0)})
        blobs.append(compress_chunk(data))
    stale = dict(items[0], attempt=items[0]["attempt"] + 7)      # a lease it never held
    w.send(MsgType.RESULT_BATCH, {"results": [*items, stale]}, [*blobs, blobs[0]])
    deadline = time.monotonic() + 10
    while len(w.acks) < 7:
        assert time.monotonic() < deadline, w.acks
        w.poll(0.05)
        w.heartbeat()
    got = {(f, a): s for f, a, s in w.acks}
    assert [got[r] for r in refs] == ["accepted", "accepted", "rejected", "accepted",
                                      "accepted", "accepted"]
    assert got[(stale["fragment_id"], stale["attempt"])] in ("stale", "duplicate")
    assert not w.errors
    p = hub.job_progress(job)
    assert (p["done"], p["state"]) == (5, "running")
    res = results_of(hub, job)
    assert res == {f.index: frags[f.index].upper()
                   for f in hub.finished(job, 0, 100) if f.ok} and len(res) == 5
    # the rejected fragment is leased again and can still be finished the old way
    while not w.leases.keys() - set(refs):
        assert time.monotonic() < deadline + 10
        w.ready(1)
        w.poll(0.05)
        w.heartbeat()
    for ref in list(w.leases.keys() - set(refs)):
        w.result(ref, w.fn(w.inputs[ref]))
    drive(hub, job, [w])
    assert results_of(hub, job) == {i: f.upper() for i, f in enumerate(frags)}
