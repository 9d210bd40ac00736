"""Retention (cpushare_mq/hub/retention.py): the hub holds live jobs only, answers for ended
ones from the store, and a purge removes an ended job's rows (in batches, resumable after a
crash) without touching what other jobs or the trust layer's evidence still need."""

from __future__ import annotations

import sqlite3
import time

import pytest

from cpushare_mq.errors import ConfigError, UnknownJob
from cpushare_mq.hub import retention
from cpushare_mq.hub.retention import Janitor, JobStillRunning, RetentionPolicy, purge_job
from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub
from cpushare_mq.hub.store import Store
from cpushare_mq.trust.ledger import TrustLedger

PROGRAM = b"\x7fELF program shared by jobs"


def _job(store: Store, n: int, *, shared: bytes = b"", program: bytes = PROGRAM,
         ended: str | None = "done", ended_s: float | None = None) -> str:
    """A job of ``n`` fragments; ``ended``: its final state, with every fragment DONE (one
    stored result chunk, one attempt each), else left running."""
    row = store.add_job(JobSpec(program=program, fragments=[b"in%d" % i for i in range(n)],
                                shared_input=shared), time.time() - 100)
    job_id = row["id"]
    if ended is None:
        return job_id
    c = store.conn()
    fids = [r[0] for r in c.execute("SELECT id FROM fragments WHERE job_id=?", (job_id,))]
    c.execute("BEGIN")
    for seq, fid in enumerate(fids, 1):
        c.execute("UPDATE fragments SET state='DONE', seq=?, result_attempt=0, size=3 WHERE id=?",
                  (seq, fid))
        c.execute("INSERT INTO attempts(fragment_id, attempt, job_id, worker_key, end) "
                  "VALUES (?,0,?,'k1','vote')", (fid, job_id))
        c.execute("INSERT INTO results(fragment_id, attempt, seq, data) VALUES (?,0,0,x'00')", (fid,))
    c.execute("UPDATE jobs SET state=?, ended_s=?, n_done=?, n_failed=0 WHERE id=?",
              (ended, time.time() - 50 if ended_s is None else ended_s, n, job_id))
    c.execute("COMMIT")
    return job_id


def _count(store: Store, sql: str, *args) -> int:
    return store.conn().execute(sql, args).fetchone()[0]


def _rows_of(store: Store, job_id: str) -> tuple[int, int, int]:
    return (_count(store, "SELECT count(*) FROM fragments WHERE job_id=?", job_id),
            _count(store, "SELECT count(*) FROM attempts WHERE job_id=?", job_id),
            _count(store, "SELECT count(*) FROM results r JOIN fragments f ON f.id=r.fragment_id "
                          "WHERE f.job_id=?", job_id))


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "hub.db", synchronous="OFF")
    yield s
    s.close()


def test_keep_days_must_be_a_number_of_days():
    assert RetentionPolicy().keep_days == 7
    assert RetentionPolicy(0.5).cutoff_s(100_000.0) == 100_000.0 - 43_200
    for bad in (-1, float("nan"), float("inf"), "7", None):
        with pytest.raises(ConfigError, match="keep_days must be a number of days >= 0"):
            RetentionPolicy(bad)


def test_purge_removes_the_job_and_only_what_no_other_job_uses(store):
    gone = _job(store, 7, shared=b"gone's own shared input")
    kept = _job(store, 3)                              # same program, still kept
    running = _job(store, 2, ended=None)
    assert purge_job(store.conn(), gone, time.time()) == 7
    assert _rows_of(store, gone) == (0, 0, 0)
    assert not store.job_exists(gone)
    assert _rows_of(store, kept) == (3, 3, 3)
    blobs = {r[0] for r in store.conn().execute("SELECT sha256 FROM blobs")}
    assert store.job_row(kept)["program_sha256"] in blobs          # used by two other jobs
    assert len(blobs) == 2                             # the program and the empty shared input
    with pytest.raises(UnknownJob, match="already purged"):
        purge_job(store.conn(), gone, time.time())
    with pytest.raises(JobStillRunning, match=f"job {running} is still running: cancel it first"):
        purge_job(store.conn(), running, time.time())
    assert _rows_of(store, running)[0] == 2


def test_a_purge_cut_short_is_finished_by_the_janitor(tmp_path, monkeypatch):
    monkeypatch.setattr(retention, "PURGE_BATCH_FRAGMENTS", 10)
    store = Store(tmp_path / "hub.db", synchronous="OFF")
    job = _job(store, 35)
    retention.begin_purge(store.conn(), job, time.time())

    class _CutAfterOneBatch:         # the hub is killed after the first batch
        calls = 0

        def is_set(self):
            self.calls += 1
            return self.calls > 1
    assert retention.finish_purge(store.conn(), job, None, _CutAfterOneBatch()) == 10
    store.close()
    store = Store(tmp_path / "hub.db", synchronous="OFF")           # the next start
    assert _rows_of(store, job)[0] == 25 and not store.job_exists(job)
    purged = []
    janitor = Janitor(store.conn, RetentionPolicy(7), on_purged=purged.append)
    assert janitor.run_pass() == 1 and purged == [job]
    assert _rows_of(store, job) == (0, 0, 0)
    assert _count(store, "SELECT count(*) FROM purges") == 0
    store.close()


def test_the_janitor_purges_only_jobs_past_their_keep_time(store):
    now = time.time()
    old = _job(store, 2, ended_s=now - 8 * 86_400)
    young = _job(store, 2, ended_s=now - 6 * 86_400)
    cancelled = _job(store, 2, ended="cancelled", ended_s=now - 30 * 86_400)
    running = _job(store, 2, ended=None)
    janitor = Janitor(store.conn, RetentionPolicy(7), clock=lambda: now)
    assert janitor.run_pass() == 2
    assert [store.job_exists(j) for j in (old, young, cancelled, running)] == [False, True, False, True]


def test_purged_signatures_go_except_the_evidence_of_a_strike(store, tmp_path):
    job = _job(store, 3)
    fids = [r[0] for r in store.conn().execute("SELECT id FROM fragments WHERE job_id=? ORDER BY id",
                                               (job,))]
    ledger = TrustLedger(tmp_path / "hub.db.trust")
    for fid in fids:
        ledger.add_signature(fid, 0, "k1", "ab" * 32, "ok", "sig")
    ledger.add_strike("k1", fids[1], "ab" * 32, "cd" * 32)
    ledger.flush()
    purge_job(store.conn(), job, time.time(), tmp_path / "hub.db.trust")
    assert ledger.signature(fids[0], 0) is None and ledger.signature(fids[2], 0) is None
    assert ledger.signature(fids[1], 0) is not None       # a strike cites it: kept
    ledger.close()


def test_a_restarted_hub_holds_live_jobs_only_and_still_answers_for_ended_ones(tmp_path):
    store = Store(tmp_path / "hub.db", synchronous="OFF")
    ended = [_job(store, 3) for _ in range(40)]
    live = _job(store, 2, ended=None)
    store.close()
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0")
    try:
        assert list(hub.core.jobs) == [live]          # memory: the live job only
        listed = {p["job_id"]: p for p in hub.status()["jobs"]}
        assert set(listed) == {*ended, live}
        assert listed[ended[0]] | {"age_s": 0, "elapsed_s": 0} == {
            "job_id": ended[0], "name": "", "state": "done", "total": 3, "pending": 0,
            "leased": 0, "voting": 0, "done": 3, "failed": 0, "priority": 0, "waiting": "",
            "failures": [], "age_s": 0, "elapsed_s": 0, "failed_by": ""}
        assert hub.job_progress(ended[5])["done"] == 3
        assert hub.job_ended(ended[5])
        # a buyer following an ended job is answered at once, not after its timeout
        assert hub.wait_for_change(ended[5], 0, 600.0) == 3
        with pytest.raises(UnknownJob):
            hub.wait_for_change("j-none", 0, 600.0)
        hub.cancel_job(ended[5])                       # ended: nothing to cancel
        assert hub.purge_job(ended[5]) == 3
        with pytest.raises(UnknownJob):
            hub.job_progress(ended[5])
    finally:
        hub.close()


def test_a_job_that_ends_leaves_the_core_and_stays_listed(tmp_path):
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0").start()
    try:
        job = hub.submit_job(JobSpec(program=PROGRAM, fragments=[b"a", b"b"]))
        assert job in hub.core.jobs
        hub.cancel_job(job)
        deadline = time.monotonic() + 60
        while job in hub.core.jobs and time.monotonic() < deadline:
            time.sleep(0.01)
        assert job not in hub.core.jobs
        assert hub.job_ended(job)
        listed = {p["job_id"]: p for p in hub.status()["jobs"]}
        assert listed[job]["state"] == "cancelled" and listed[job]["pending"] == 2
    finally:
        hub.close()


def _at_schema(tmp_path, version: int) -> sqlite3.Connection:
    """A new hub database brought to schema ``version`` only (an older hub's)."""
    from cpushare_mq.hub.migrations import migrate
    c = sqlite3.connect(tmp_path / "hub.db", isolation_level=None)
    migrate(c, str(tmp_path / "hub.db"), upto=version)
    return c


def test_schema_3_fills_the_final_counts_of_jobs_that_ended_before_it(tmp_path):
    from cpushare_mq.hub.migrations import migrate
    c = _at_schema(tmp_path, 2)
    c.execute("INSERT INTO jobs(id, state, total) VALUES ('j-old', 'done', 3)")
    c.executemany("INSERT INTO fragments(job_id, idx, state) VALUES ('j-old', ?, ?)",
                  [(0, "DONE"), (1, "DONE"), (2, "FAILED")])
    migrate(c, str(tmp_path / "hub.db"))
    assert c.execute("SELECT n_done, n_failed FROM jobs").fetchone() == (2, 1)
    c.close()


def _ids(c: sqlite3.Connection, job_id: str) -> list[int]:
    return [r[0] for r in c.execute("SELECT id FROM fragments WHERE job_id=? ORDER BY id",
                                    (job_id,))]


def test_a_purged_jobs_fragment_ids_and_acceptance_numbers_are_never_given_again(tmp_path):
    """SQLite numbers a new row after the largest id left: a purge that removed the largest
    made the next job take the purged one's fragment ids (and the ledger, which pays a
    fragment id once, left its results unpaid: tests/market/test_purged_ids_e2e.py)."""
    store = Store(tmp_path / "hub.db", synchronous="OFF")
    c = store.conn()
    _job(store, 3)
    last = _job(store, 4)                  # the largest ids and acceptance numbers given
    c.execute("UPDATE fragments SET seq = seq + 100 WHERE job_id=?", (last,))
    c.execute("UPDATE jobs SET max_seq = 104 WHERE id=?", (last,))
    gone = _ids(c, last)
    purge_job(c, last, time.time())
    following = _job(store, 2, ended=None)
    assert min(_ids(c, following)) == max(gone) + 1
    purge_job(c, _job(store, 1), time.time())      # the largest again, then a restart
    store.close()
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0").start()
    try:
        assert hub.core.accepted_through() == 104      # numbering goes on after the purged
        job = hub.submit_job(JobSpec(program=PROGRAM, fragments=[b"x", b"y"]))
        db = sqlite3.connect(tmp_path / "hub.db")
        assert _ids(db, job) == [max(gone) + 4, max(gone) + 5]
        db.close()
    finally:
        hub.close()


def test_schema_5_starts_the_high_marks_from_what_the_database_holds(tmp_path):
    from cpushare_mq.hub.migrations import migrate
    c = _at_schema(tmp_path, 4)
    c.execute("INSERT INTO jobs(id, state, total, max_seq) VALUES ('j-old', 'done', 2, 9)")
    c.executemany("INSERT INTO fragments(id, job_id, idx, state, seq) VALUES (?, ?, ?, ?, ?)",
                  [(7, "j-old", 0, "DONE", 8), (8, "j-old", 1, "DONE", 9),
                   (12, "j-live", 0, "DONE", 11)])
    migrate(c, str(tmp_path / "hub.db"))
    assert c.execute("SELECT fragment_id, seq FROM high_marks").fetchall() == [(12, 11)]
    c.close()
