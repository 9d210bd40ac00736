"""The SQLite store: the scheduler's random sequences against a real database file (compared
with the in-memory model after every step, restarts rebuilt from SQLite), permissions,
schema versioning, disk-full handling, results and cursors."""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, settings
from machine import CONFIG, SchedulerMachine

from cpushare_mq.errors import StoreError, UnknownJob
from cpushare_mq.hub.delivery import decoded_chunks, with_inline_data
from cpushare_mq.hub.scheduler import FragState, HubConfig, JobSpec, Scheduler
from cpushare_mq.hub.store import SCHEMA_VERSION, Store
from cpushare_mq.protocol import compress_chunk


class SqliteMachine(SchedulerMachine):
    """Same rules; the store is SQLite, shadowed by MemStore as the oracle."""

    def make_store(self):
        from memstore import MemStore
        self._dir = tempfile.TemporaryDirectory()
        self.sql = Store(os.path.join(self._dir.name, "hub.db"), synchronous="OFF")
        return _Twin(MemStore(), self.sql)

    def snapshot(self):
        return self.sql.snapshot()        # restarts read SQLite, not the model

    def teardown(self):
        try:
            super().teardown()
            self.compare()
        finally:
            self.sql.close()
            self._dir.cleanup()

    def compare(self):
        c = self.sql.conn()
        sql_frags = {fid: (st, na, fl, seq, ra) for fid, st, na, fl, seq, ra in c.execute(
            "SELECT id, state, next_attempt, failures, seq, result_attempt FROM fragments")}
        assert sql_frags == self.store.mem.frag_view()
        sql_att = {(f, a): (w, e) for f, a, w, e in c.execute(
            "SELECT fragment_id, attempt, worker_id, end FROM attempts")}
        mem_att = {k: (r["worker_id"], r["end"]) for k, r in self.store.mem.attempts.items()}
        assert sql_att == mem_att


class _Twin:
    """Writes go to both stores; reads come from the model (compared at the end)."""

    def __init__(self, mem, sql):
        self.mem, self.sql = mem, sql
        self.jobs = mem.jobs
        self.frags = mem.frags
        self.attempts = mem.attempts

    def add_job(self, spec, now):
        row = self.sql.add_job(spec, now)
        mrow = self.mem.add_job(spec, now)
        # keep ids in step: the model renames its job to SQLite's id
        self.mem.jobs[row["id"]] = self.mem.jobs.pop(mrow["id"])
        self.mem.jobs[row["id"]]["id"] = row["id"]
        for f in self.mem.frags.values():
            if f["job_id"] == mrow["id"]:
                f["job_id"] = row["id"]
        return dict(row, n_done=0, n_failed=0, n_leased=0, n_voting=0)

    def pending(self, job_id, after, limit):
        rows = self.sql.pending(job_id, after, limit)
        assert rows == self.mem.pending(job_id, after, limit)
        return rows

    def reopen_rows(self, fids):
        rows = [tuple(r) for r in self.sql.reopen_rows(fids)]
        assert rows == self.mem.reopen_rows(fids)
        return rows

    def apply(self, journal, now):
        self.sql.apply(journal, now)
        self.mem.apply(journal, now)

    def snapshot(self):
        return self.sql.snapshot()


SqliteMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestSqliteMachine = SqliteMachine.TestCase


# ---------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "hub.db")
    yield s
    s.close()


def _spec(n=3, **kw):
    return JobSpec(program=b"\x7fELF-prog", fragments=[b"in%d" % i for i in range(n)], **kw)


def test_database_file_is_owner_only_and_versioned(tmp_path, store):
    store.add_job(_spec(), 1.0)
    for name in os.listdir(tmp_path):
        mode = stat.S_IMODE(os.stat(tmp_path / name).st_mode)
        assert mode & 0o077 == 0, f"{name} has mode {mode:o}"
    assert store.conn().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"jobs", "fragments", "attempts", "workers", "results", "blobs"} <= set(store.tables())


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "hub.db"
    Store(path).close()
    c = sqlite3.connect(path)
    c.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    c.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_blobs_are_content_addressed_and_shared(store):
    a = store.add_job(_spec(2), 1.0)
    b = store.add_job(_spec(5, shared_input=b"scene"), 2.0)
    assert a["program_sha256"] == b["program_sha256"]
    assert store.blob(a["program_sha256"]) == b"\x7fELF-prog"
    assert store.blob(b["shared_sha256"]) == b"scene"
    (n,) = store.conn().execute("SELECT count(*) FROM blobs").fetchone()
    assert n == 3      # program once, empty shared input, the scene


def test_bad_specs_are_refused_with_the_reason(store):
    from cpushare_mq.errors import SchedulingError
    with pytest.raises(SchedulingError, match="quorum"):
        store.add_job(_spec(redundancy=2, quorum=3), 1.0)
    with pytest.raises(SchedulingError, match="program"):
        store.add_job(JobSpec(program=b"", fragments=[b"x"]), 1.0)
    with pytest.raises(SchedulingError, match="fragment 1"):
        store.add_job(JobSpec(program=b"p", fragments=[b"x", "text"]), 1.0)


def _run_one(store, core, now=10.0, data=b"hello result"):
    for job_id, after, limit in core.refill_requests():
        core.add_pending(job_id, store.pending(job_id, after, limit), limit)
    core.join(now, "w-1", slots=4)
    core.ready(now, "w-1", 4)
    grants = core.assign(now)
    store.apply(core.take_effects().journal, now)
    (_job, fid, _i, attempt, _s), *_ = grants["w-1"]
    import hashlib
    status = core.result(now, "w-1", fid, attempt, hashlib.sha256(data).hexdigest(), len(data))
    fx = core.take_effects()
    fx = replace(fx, journal=fx.journal.with_results([(fid, attempt, 0, compress_chunk(data))]))
    return fid, fx, status


def test_results_cursor_and_finished(store):
    row = store.add_job(_spec(3), 1.0)
    core = Scheduler(HubConfig())
    core.add_job(dict(row, n_done=0, n_failed=0, n_leased=0, n_voting=0))
    fid, fx, status = _run_one(store, core)
    assert status == "accepted"
    store.apply(fx.journal, 10.0)
    fin = store.finished(row["id"], 0)
    assert [(f.index, f.fragment_id, f.ok, f.size) for f in fin] == [(0, fid, True, 12)]
    # the store returns what it was given (compressed, as the worker sent it) and decodes
    # nothing; the hub's delivery decodes (cpushare_mq/hub/delivery.py)
    stored = compress_chunk(b"hello result")
    assert (fin[0].chunk, fin[0].data) == (stored, None)
    assert list(store.result_chunks(fid)) == [stored]
    assert with_inline_data(fin)[0].data == b"hello result"
    assert b"".join(decoded_chunks(store.result_chunks(fid))) == b"hello result"
    assert store.get_cursor(row["id"]) == 0
    store.set_cursor(row["id"], fin[0].seq)
    assert store.get_cursor(row["id"]) == fin[0].seq
    with pytest.raises(UnknownJob):
        store.set_cursor("j-nope", 1)
    with pytest.raises(StoreError, match="no accepted result"):
        list(store.result_chunks(fid + 1))


def test_disk_full_commits_nothing_and_recovers(store):
    """SQLITE_FULL (simulated with max_page_count) -> StoreError, nothing changed; writes
    succeed again once there is room."""
    row = store.add_job(_spec(3), 1.0)
    core = Scheduler(HubConfig())
    core.add_job(dict(row, n_done=0, n_failed=0, n_leased=0, n_voting=0))
    fid, fx, _status = _run_one(store, core, data=os.urandom(200_000))
    c = store.conn()
    before = c.execute("SELECT state FROM fragments WHERE id=?", (fid,)).fetchone()
    pages = c.execute("PRAGMA page_count").fetchone()[0]
    c.execute(f"PRAGMA max_page_count={pages + 2}")
    with pytest.raises(StoreError, match="full"):
        store.apply(fx.journal, 11.0)
    assert c.execute("SELECT state FROM fragments WHERE id=?", (fid,)).fetchone() == before
    assert c.execute("SELECT count(*) FROM results").fetchone() == (0,)
    c.execute("PRAGMA max_page_count=1073741823")
    store.apply(fx.journal, 12.0)
    assert c.execute("SELECT state FROM fragments WHERE id=?", (fid,)).fetchone() == ("DONE",)


def test_store_refuses_a_journal_that_disagrees_with_it(store):
    row = store.add_job(_spec(1), 1.0)
    core = Scheduler(HubConfig())
    core.add_job(dict(row, n_done=0, n_failed=0, n_leased=0, n_voting=0))
    fid, fx, _ = _run_one(store, core)
    store.conn().execute("UPDATE fragments SET state='FAILED' WHERE id=?", (fid,))
    with pytest.raises(StoreError, match="disagree"):
        store.apply(fx.journal, 11.0)
    assert store.conn().execute("SELECT count(*) FROM results").fetchone() == (0,)


def test_restore_rebuilds_counts_and_pending_window(store):
    row = store.add_job(_spec(10), 1.0)
    core = Scheduler(CONFIG)
    core.add_job(dict(row, n_done=0, n_failed=0, n_leased=0, n_voting=0))
    fid, fx, _ = _run_one(store, core)
    store.apply(fx.journal, 10.0)
    core2 = Scheduler.restore(CONFIG, 20.0, **store.snapshot())
    p = core2.progress(row["id"])
    assert p["done"] == 1 and p["leased"] == 3 and p["pending"] == 6
    # the three open leases are orphaned: honoured until the reconnect grace, then re-queued
    assert all(ls.worker is None for ls in core2.leases.values())
    core2.tick(20.0 + CONFIG.reconnect_grace_s + 0.1)
    assert core2.progress(row["id"])["leased"] == 0
    assert not [f for f in core2.frags.values() if f.state is FragState.LEASED]


def test_big_jobs_are_stored_in_batches_and_an_interrupted_one_is_removed(tmp_path, monkeypatch):
    store = Store(tmp_path / "hub.db")
    monkeypatch.setattr(Store, "SUBMIT_BATCH", 10)
    row = store.add_job(_spec(35), 1.0)
    assert store.job_row(row["id"])["state"] == "running"
    assert len(store.pending(row["id"], 0, 100)) == 35

    class Exploding:                        # the disk fails half way through the insert
        passes = 0

        def __len__(self):
            return 30

        def __iter__(self):
            Exploding.passes += 1           # pass 1: validation; pass 2: the insert
            for i in range(30):
                if i == 15 and Exploding.passes == 2:
                    raise sqlite3.OperationalError("disk I/O error")
                yield b"x%d" % i

    with pytest.raises(StoreError, match="disk I/O"):
        store.add_job(JobSpec(program=b"p", fragments=Exploding()), 2.0)
    (n,) = store.conn().execute("SELECT count(*) FROM jobs").fetchone()
    assert n == 1                           # the half-stored job was removed again
    # a crash (no cleanup) leaves a 'loading' job: the next start removes it
    store.conn().execute("INSERT INTO jobs(id, state, total) VALUES ('j-crashed', 'loading', 5)")
    store.conn().execute("INSERT INTO fragments(job_id, idx, state) VALUES ('j-crashed', 0, 'PENDING')")
    snap = store.snapshot(at_start=True)
    assert [j["id"] for j in snap["jobs"]] == [row["id"]]
    assert store.conn().execute("SELECT count(*) FROM fragments WHERE job_id='j-crashed'").fetchone() == (0,)
    store.close()


def test_reopened_fragment_survives_a_restart_and_a_correction_gets_a_new_seq(tmp_path):
    """Re-verification in SQLite: reopen (DONE -> VOTING, one transaction), kill the hub
    (a new Store on the file, restore from it), then two other workers outvote the result."""
    import hashlib

    from cpushare_mq.hub.scheduler import Reopen
    path = tmp_path / "hub.db"
    store = Store(path)
    row = store.add_job(_spec(2), 1.0)
    core = Scheduler(CONFIG)
    core.add_job(dict(row, n_done=0, n_failed=0, n_leased=0, n_voting=0))
    fid, fx, status = _run_one(store, core, data=b"WRONG")      # worker w-1 (no key)
    assert status == "accepted"
    store.apply(fx.journal, 10.0)
    (first,) = store.finished(row["id"], 0)
    (r,) = store.reopen_rows([fid])
    assert r[0] == fid and r[5] == first.seq and r[-1] == "session:w-1"
    assert core.reopen(11.0, Reopen(*r))
    store.apply(core.take_effects().journal, 11.0)
    assert store.fragment_state(fid) == "VOTING"
    # while it is re-verified the accepted result stands, once, with its seq
    assert store.finished(row["id"], 0) == [first]
    assert b"".join(decoded_chunks(store.result_chunks(fid))) == b"WRONG"
    store.close()

    store = Store(path)                                          # kill -9 + restart
    core = Scheduler.restore(CONFIG, 12.0, **store.snapshot(at_start=True))
    f = core.frags[fid]
    assert f.state is FragState.VOTING and f.seq == first.seq and f.boost == 1
    good = b"RIGHT"
    for wid, key in (("w-2", "kb"), ("w-3", "kc")):
        core.join(12.0, wid, key=key, slots=1)
        core.ready(12.0, wid, 1)
        grants = core.assign(12.0)
        (g,) = [g for g in grants.get(wid, []) if g[1] == fid]
        store.apply(core.take_effects().journal, 12.0)
        assert core.result(12.0, wid, fid, g[3], hashlib.sha256(good).hexdigest(), len(good)) \
            == "accepted"
        journal = core.take_effects().journal
        store.apply(journal.with_results([(fid, g[3], 0, compress_chunk(good))]), 12.0)
    c = store.conn()
    assert store.fragment_state(fid) == "DONE"
    again = [f for f in store.finished(row["id"], first.seq) if f.fragment_id == fid]
    assert len(again) == 1 and again[0].seq > first.seq and again[0].ok
    assert b"".join(decoded_chunks(store.result_chunks(fid))) == good
    (end,) = c.execute("SELECT end FROM attempts WHERE fragment_id=? AND attempt=?",
                       (fid, r[6])).fetchone()
    assert end == "disagreed"
    (n,) = c.execute("SELECT count(*) FROM results WHERE fragment_id=? AND attempt=?",
                     (fid, r[6])).fetchone()
    assert n == 0                                                # the wrong result is gone
    store.close()
