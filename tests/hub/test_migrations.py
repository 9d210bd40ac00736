"""Schema migrations keyed on PRAGMA user_version (cpushare_mq/hub/migrations.py): a
database written by an earlier version of the hub opens, is brought up to date in place, and
loses nothing (issue 20)."""

from __future__ import annotations

import sqlite3

import pytest

from cpushare_mq.errors import StoreError
from cpushare_mq.hub.delivery import decoded_chunks, with_inline_data
from cpushare_mq.hub.migrations import MIGRATIONS, SCHEMA_VERSION, migrate
from cpushare_mq.hub.store import Store
from cpushare_mq.jobspec import JobSpec
from cpushare_mq.protocol import compress_chunk

#: the schema as the hub wrote it at user_version 1 (what `Store` created before migrations
#: were numbered), dumped from sqlite_master of such a database
V1_SCHEMA = """CREATE TABLE "blobs" (
   "sha256" TEXT PRIMARY KEY,
   "size" INTEGER NOT NULL,
   "data" BLOB NOT NULL
);
CREATE TABLE "jobs" (
   "id" TEXT PRIMARY KEY,
   "name" TEXT,
   "program_sha256" TEXT,
   "shared_sha256" TEXT,
   "redundancy" INTEGER,
   "quorum" INTEGER,
   "cpu_s" REAL,
   "wall_s" REAL,
   "max_attempts" INTEGER,
   "max_output_bytes" INTEGER,
   "priority" INTEGER,
   "state" TEXT NOT NULL DEFAULT 'running',
   "total" INTEGER NOT NULL,
   "created_s" REAL,
   "ended_s" REAL,
   "cursor" INTEGER DEFAULT 0
);
CREATE TABLE "fragments" (
   "id" INTEGER PRIMARY KEY,
   "job_id" TEXT NOT NULL,
   "idx" INTEGER NOT NULL,
   "input" BLOB,
   "state" TEXT NOT NULL,
   "next_attempt" INTEGER DEFAULT 0,
   "failures" INTEGER DEFAULT 0,
   "seq" INTEGER,
   "reason" TEXT DEFAULT '',
   "result_attempt" INTEGER,
   "size" INTEGER DEFAULT 0,
   "sha256" TEXT,
   "boost" INTEGER DEFAULT 0,
   "name" TEXT
);
CREATE TABLE "attempts" (
   "fragment_id" INTEGER,
   "attempt" INTEGER,
   "job_id" TEXT,
   "worker_id" TEXT,
   "worker_key" TEXT,
   "leased_s" REAL,
   "deadline_s" REAL,
   "ended_s" REAL,
   "end" TEXT,
   "sha256" TEXT,
   "size" INTEGER,
   "detail" TEXT,
   PRIMARY KEY ("fragment_id", "attempt")
);
CREATE TABLE "workers" (
   "id" TEXT PRIMARY KEY,
   "name" TEXT,
   "worker_key" TEXT,
   "slots" INTEGER,
   "joined_s" REAL,
   "last_seen_s" REAL,
   "state" TEXT,
   "done" INTEGER,
   "failed" INTEGER
);
CREATE TABLE "results" (
   "fragment_id" INTEGER,
   "attempt" INTEGER,
   "seq" INTEGER,
   "data" BLOB,
   PRIMARY KEY ("fragment_id", "attempt", "seq")
);
CREATE INDEX "idx_fragments_job_id_id"
    ON "fragments" ("job_id", "id");
CREATE INDEX fragments_seq ON fragments(job_id, seq) WHERE seq IS NOT NULL;
CREATE INDEX fragments_active ON fragments(job_id) WHERE state IN ('LEASED', 'VOTING');
CREATE INDEX fragments_failed ON fragments(job_id, seq) WHERE state = 'FAILED';"""
#: version 1 as the first hubs wrote it: fragments had no name column yet
V1_SCHEMA_BEFORE_NAMES = V1_SCHEMA.replace(',\n   "name" TEXT\n', "\n")
assert V1_SCHEMA_BEFORE_NAMES != V1_SCHEMA


def old_database(path, schema: str) -> None:
    """A version-1 database holding one finished job: two fragments, one result, a worker."""
    c = sqlite3.connect(path)
    c.executescript(schema)
    c.execute("INSERT INTO blobs VALUES ('p', 1, x'50')")
    c.execute("INSERT INTO jobs(id, name, program_sha256, shared_sha256, redundancy, quorum, cpu_s, "
              "wall_s, max_attempts, max_output_bytes, priority, state, total, created_s, cursor) "
              "VALUES ('j-old', 'old job', 'p', 'p', 1, 1, 60, 300, 5, 1000, 0, 'running', 2, 1.0, 1)")
    c.execute("INSERT INTO fragments(id, job_id, idx, input, state, seq, result_attempt, size) "
              "VALUES (1, 'j-old', 0, x'61', 'DONE', 1, 0, 5)")
    c.execute("INSERT INTO fragments(id, job_id, idx, input, state) VALUES (2, 'j-old', 1, x'62', 'PENDING')")
    c.execute("INSERT INTO attempts(fragment_id, attempt, job_id, worker_id, worker_key, end) "
              "VALUES (1, 0, 'j-old', 'w-1', 'k1', 'vote')")
    c.execute("INSERT INTO results VALUES (1, 0, 0, ?)", (compress_chunk(b"hello"),))
    c.execute("INSERT INTO workers(id, name, worker_key, slots, state, done, failed) "
              "VALUES ('w-1', 'box', 'k1', 2, 'gone', 1, 0)")
    c.execute("PRAGMA user_version=1")
    c.commit()
    c.close()


@pytest.mark.parametrize("schema", [V1_SCHEMA, V1_SCHEMA_BEFORE_NAMES], ids=["v1", "v1-before-names"])
def test_a_version_1_database_is_migrated_without_loss(tmp_path, schema):
    path = tmp_path / "hub.db"
    old_database(path, schema)
    store = Store(path)
    try:
        c = store.conn()
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        job = store.job_row("j-old")
        assert (job["name"], job["total"], job["cursor"], job["state"]) == ("old job", 2, 1, "running")
        (done,) = with_inline_data(store.finished("j-old", 0))
        assert (done.index, done.ok, done.size, done.data, done.name) == (0, True, 5, b"hello", "")
        assert b"".join(decoded_chunks(store.result_chunks(1))) == b"hello"
        assert store.pending("j-old", 0, 10) == [(2, 1, 0, 0)]
        assert c.execute("SELECT name, worker_key, done FROM workers").fetchall() == [("box", "k1", 1)]
        assert c.execute("SELECT end, cpu_us FROM attempts").fetchall() == [("vote", None)]
        snap = store.snapshot(at_start=True)
        assert [j["id"] for j in snap["jobs"]] == ["j-old"]
        # what the new version added works on the migrated file
        new = store.add_job(JobSpec(program=b"P", fragments=[b"x"], fragment_names=["x.in"]), 2.0)
        assert c.execute("SELECT name FROM fragments WHERE job_id=?", (new["id"],)).fetchall() == [("x.in",)]
    finally:
        store.close()
    Store(path).close()                     # opening it again changes nothing


def test_every_step_runs_once_in_order_and_a_fresh_database_gets_them_all(tmp_path):
    assert [v for v, _, _ in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
    c = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    assert migrate(c, "a.db", upto=1) == 0
    assert c.execute("PRAGMA user_version").fetchone()[0] == 1
    assert migrate(c, "a.db") == 1
    assert migrate(c, "a.db") == SCHEMA_VERSION
    cols = [r[1] for r in c.execute("PRAGMA table_info(fragments)")]
    assert cols.count("name") == 1
    c.close()


def test_a_failing_step_changes_nothing_and_names_the_version(tmp_path, monkeypatch):
    path = tmp_path / "hub.db"
    old_database(path, V1_SCHEMA_BEFORE_NAMES)

    def broken(c):
        c.execute("ALTER TABLE fragments ADD COLUMN name TEXT")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr("cpushare_mq.hub.migrations.MIGRATIONS",
                        [MIGRATIONS[0], (2, broken, "fragment names")])
    c = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(StoreError, match="schema version 2 .fragment names.: disk I/O error"):
        migrate(c, str(path))
    assert c.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "name" not in [r[1] for r in c.execute("PRAGMA table_info(fragments)")]
    c.close()
