"""The hub database's schema, as the list of steps that built it: step N takes a database
at ``PRAGMA user_version`` N-1 to N, in one transaction. A new hub opening an older database
runs the steps it lacks; a database newer than this code is refused (never guessed at).

To change the schema, append a step (never edit one that shipped) and let
:data:`SCHEMA_VERSION` follow; tests/hub/test_migrations.py opens a database made by every
earlier version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils

from ..errors import StoreError
from .connections import transaction

__all__ = ["SCHEMA_VERSION", "MIGRATIONS", "migrate", "schema_version"]


def _v1_tables(c: sqlite3.Connection) -> None:
    """The first schema: jobs, fragments, attempts, workers, results, blobs."""
    db = sqlite_utils.Database(c)
    db["blobs"].create({"sha256": str, "size": int, "data": bytes}, pk="sha256",
                       not_null={"size", "data"}, if_not_exists=True)
    db["jobs"].create({
        "id": str, "name": str, "program_sha256": str, "shared_sha256": str,
        "redundancy": int, "quorum": int, "cpu_s": float, "wall_s": float,
        "max_attempts": int, "max_output_bytes": int, "priority": int, "state": str,
        "total": int, "created_s": float, "ended_s": float, "cursor": int,
    }, pk="id", not_null={"state", "total"}, defaults={"cursor": 0, "state": "running"},
        if_not_exists=True)
    db["fragments"].create({
        "id": int, "job_id": str, "idx": int, "input": bytes, "state": str,
        "next_attempt": int, "failures": int, "seq": int, "reason": str,
        "result_attempt": int, "size": int, "sha256": str, "boost": int,
    }, pk="id", not_null={"job_id", "idx", "state"},
        defaults={"next_attempt": 0, "failures": 0, "size": 0, "reason": "", "boost": 0},
        if_not_exists=True)
    db["attempts"].create({
        "fragment_id": int, "attempt": int, "job_id": str, "worker_id": str,
        "worker_key": str, "leased_s": float, "deadline_s": float, "ended_s": float,
        "end": str, "sha256": str, "size": int, "detail": str,
    }, pk=("fragment_id", "attempt"), if_not_exists=True)
    db["workers"].create({
        "id": str, "name": str, "worker_key": str, "slots": int, "joined_s": float,
        "last_seen_s": float, "state": str, "done": int, "failed": int,
    }, pk="id", if_not_exists=True)
    db["results"].create({"fragment_id": int, "attempt": int, "seq": int, "data": bytes},
                         pk=("fragment_id", "attempt", "seq"), if_not_exists=True)
    _indexes(c)


def _indexes(c: sqlite3.Connection) -> None:
    """Indexes on columns that never change after insert (no upkeep per state change); the
    pending window is found by scanning a job's fragments in id order; small partial
    indexes find the fragments in flight (for a restart) and the failed ones."""
    c.execute("CREATE INDEX IF NOT EXISTS idx_fragments_job_id_id ON fragments(job_id, id)")
    c.execute("CREATE INDEX IF NOT EXISTS fragments_seq ON fragments(job_id, seq) "
              "WHERE seq IS NOT NULL")
    c.execute("CREATE INDEX IF NOT EXISTS fragments_active ON fragments(job_id) "
              "WHERE state IN ('LEASED', 'VOTING')")
    c.execute("CREATE INDEX IF NOT EXISTS fragments_failed ON fragments(job_id, seq) "
              "WHERE state = 'FAILED'")


def _v2_fragment_names(c: sqlite3.Connection) -> None:
    """fragments.name: the buyer's name of each fragment (NULL = none). Databases written
    before this step was numbered may have the column already at version 1."""
    if "name" not in sqlite_utils.Database(c)["fragments"].columns_dict:
        c.execute("ALTER TABLE fragments ADD COLUMN name TEXT")
    _indexes(c)


def _v3_retention(c: sqlite3.Connection) -> None:
    """Retention (:mod:`cpushare_mq.hub.retention`): an ended job's final counts on its row
    (``n_done``, ``n_failed``: the hub keeps only live jobs in memory and answers for ended
    ones from here) and its largest acceptance number (``max_seq``: a restarted hub numbers
    on from the largest of all, reading no ended job's fragments), and ``purges``, the jobs whose data is being removed (a purge interrupted
    by a crash resumes at the next start)."""
    db = sqlite_utils.Database(c)
    cols = db["jobs"].columns_dict
    for col in ("n_done", "n_failed", "max_seq"):
        if col not in cols:
            c.execute(f"ALTER TABLE jobs ADD COLUMN {col} INTEGER")
    c.execute("UPDATE jobs SET "
              "n_done=(SELECT count(*) FROM fragments f WHERE f.job_id=jobs.id AND f.state='DONE'), "
              "n_failed=(SELECT count(*) FROM fragments f WHERE f.job_id=jobs.id AND f.state='FAILED'), "
              f"max_seq={ENDED_MAX_SEQ_SQL} "
              "WHERE state NOT IN ('running', 'loading')")
    db["purges"].create({"job_id": str, "program_sha256": str, "shared_sha256": str,
                         "started_s": float}, pk="job_id", if_not_exists=True)


def _v4_cpu_claims(c: sqlite3.Connection) -> None:
    """attempts.cpu_us: the CPU time a worker's signed outcome record claims for the
    attempt (ok results and failure reports; NULL: none, or stored before this step). The
    market's ledger follows the store: it pays accepted results from these rows
    (market/ledger.py)."""
    if "cpu_us" not in sqlite_utils.Database(c)["attempts"].columns_dict:
        c.execute("ALTER TABLE attempts ADD COLUMN cpu_us INTEGER")


def _v5_high_marks(c: sqlite3.Connection) -> None:
    """``high_marks``: the largest fragment id and acceptance number of the purged jobs, so
    that neither is ever given again (:mod:`.highmarks`). Starts from what the database
    holds: ids an earlier purge removed are beyond its reach (the ledger knows those it paid:
    market/payout.py)."""
    c.execute("CREATE TABLE IF NOT EXISTS high_marks (one INTEGER PRIMARY KEY CHECK (one = 1), "
              "fragment_id INTEGER NOT NULL, seq INTEGER NOT NULL)")
    c.execute("INSERT OR IGNORE INTO high_marks VALUES (1, "
              "(SELECT coalesce(max(id), 0) FROM fragments), "
              "max((SELECT coalesce(max(max_seq), 0) FROM jobs), "
              "(SELECT coalesce(max(seq), 0) FROM fragments)))")


#: an ended job's largest acceptance number, from its fragments (the job's row is ``jobs``)
ENDED_MAX_SEQ_SQL = ("(SELECT max(f.seq) FROM fragments f WHERE f.job_id=jobs.id "
                     "AND f.seq IS NOT NULL)")


#: (version reached, step, what it adds), in order
MIGRATIONS: list[tuple[int, Callable[[sqlite3.Connection], None], str]] = [
    (1, _v1_tables, "the first schema"),
    (2, _v2_fragment_names, "fragment names"),
    (3, _v3_retention, "retention: ended jobs' counts, purges"),
    (4, _v4_cpu_claims, "attempts' CPU-time claims"),
    (5, _v5_high_marks, "the largest fragment id and acceptance number given"),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def schema_version(c: sqlite3.Connection) -> int:
    return c.execute("PRAGMA user_version").fetchone()[0]


def migrate(c: sqlite3.Connection, path: str, upto: int = SCHEMA_VERSION) -> int:
    """Bring the database on ``c`` to schema version ``upto`` (default: this code's), one
    transaction per step; return the version it was at. Raises :class:`StoreError`."""
    try:
        found = schema_version(c)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the schema version of {path}: {exc}") from exc
    if found > SCHEMA_VERSION:
        raise StoreError(f"hub database {path} has schema version {found}, newer than this "
                         f"hub's {SCHEMA_VERSION}: upgrade cpushare-mq")
    for version, step, what in MIGRATIONS:
        if found < version <= upto:
            with transaction(c, f"cannot bring {path} to schema version {version} ({what})"):
                if schema_version(c) < version:    # another process may have done it
                    step(c)
                    c.execute(f"PRAGMA user_version={version}")
    # the hub serves only what it can store: write once now (the version, unchanged), so a
    # read-only file or file system is refused at start (with nothing to migrate, nothing
    # else writes before the first job)
    with transaction(c, f"cannot write to hub database {path}"):
        c.execute(f"PRAGMA user_version={schema_version(c)}")
    return found
