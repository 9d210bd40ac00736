"""The hub's durable state: SQLite in WAL mode, schema made with sqlite-utils.

Tables (schema version :data:`SCHEMA_VERSION`, kept in ``PRAGMA user_version``; the steps
that build and upgrade it are :mod:`cpushare_mq.hub.migrations`):

``jobs``       one row per job: policy, state, the buyer's delivery cursor
``fragments``  one row per fragment: input bytes, state, attempt counter, failures, the
               acceptance sequence number ``seq`` once DONE/FAILED, the reason, and which
               attempt's result was accepted
``attempts``   every lease: worker, deadline and how it ended (vote, disagreed, lost, ...)
``workers``    every worker session: name, key, slots, when seen, done/failed counts
``results``    result chunks, zstd-compressed exactly as received, per (fragment, attempt):
               the store hands them back as they came and decodes nothing
``blobs``      content-addressed programs and shared inputs (sha256 -> bytes)
``high_marks`` the largest fragment id and acceptance number of the purged jobs: neither
               is ever given twice (:mod:`cpushare_mq.hub.highmarks`)

The loop thread writes through :meth:`Store.apply` (one transaction per batch: group
commit). Other threads read (and make small writes: job submission, cursors) on their own
connections. Every transaction goes through :func:`~cpushare_mq.hub.connections.transaction`;
every sqlite3 error leaves as :class:`StoreError`.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from ..errors import StoreError, UnknownJob
from ..jobspec import JobSpec, validate_spec
from .connections import ThreadConnections, transaction
from .dbfile import check_database_file
from .highmarks import largest_seq, next_fragment_id
from .migrations import ENDED_MAX_SEQ_SQL, SCHEMA_VERSION, migrate
from .scheduler import FragState, Journal

log = logging.getLogger(__name__)

__all__ = ["Store", "FinishedFragment", "SCHEMA_VERSION", "sha256_hex"]

#: results stored in one chunk of up to this many (compressed) bytes come with their
#: finished() row (one query for a batch of them)
INLINE_RESULT_BYTES = 64 << 10


@dataclass(frozen=True, slots=True)
class FinishedFragment:
    """A fragment that reached DONE (``ok``) or FAILED, in acceptance order ``seq``."""

    seq: int
    index: int
    fragment_id: int
    ok: bool
    size: int
    reason: str
    #: the whole result when it is small and came with the row (else read ``result_chunks``)
    data: bytes | None = None
    name: str = ""         # the buyer's name for the fragment ("" = none: use the index)
    #: from the store: the result's only stored chunk, compressed as received, when it is
    #: small (the hub decodes it into ``data``: cpushare_mq/hub/delivery.py)
    chunk: bytes | None = None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Store:
    """One hub database. Thread-safe: each thread gets its own connection."""

    def __init__(self, path: str | os.PathLike, *, synchronous: str = "FULL"):
        self.path = str(path)
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise StoreError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {synchronous!r}")
        self.synchronous = synchronous.upper()
        self._conns = ThreadConnections(self._open)
        self._create_file()
        self._create_schema()

    # -- connections -----------------------------------------------------------------
    def _create_file(self) -> None:
        p = Path(self.path)
        try:
            if not p.exists():
                fd = os.open(self.path, os.O_CREAT | os.O_RDWR | os.O_EXCL, 0o600)
                os.close(fd)
            elif check_database_file(self.path):
                log.warning("hub database %s is readable by others (mode %o); chmod 600 it",
                            self.path, p.stat().st_mode & 0o777)
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"cannot create hub database {self.path}: {exc}") from exc

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit mode; transactions are explicit)."""
        return self._conns.get()

    def _open(self) -> sqlite3.Connection:
        try:
            c = sqlite3.connect(self.path, isolation_level=None, timeout=30.0,
                                check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute(f"PRAGMA synchronous={self.synchronous}")
            c.execute("PRAGMA busy_timeout=30000")
            c.execute("PRAGMA foreign_keys=OFF")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open hub database {self.path}: {exc}") from exc
        return c

    def close(self) -> None:
        self._conns.close_all()

    def _create_schema(self) -> None:
        migrate(self.conn(), self.path)

    def tables(self) -> list[str]:
        return sqlite_utils.Database(self.conn()).table_names()

    # -- buyer side ------------------------------------------------------------------
    #: fragments per transaction when storing a big job (the hub's loop commits in between)
    SUBMIT_BATCH = 20_000

    def add_job(self, spec: JobSpec, now: float) -> dict:
        """Store a job with all its fragments; return its row (+counts). A big job is written
        in several transactions (so the hub's loop is never locked out for long) while its
        row says ``loading``; only the last transaction makes it ``running``. A job left
        ``loading`` by a crash was never acknowledged to the buyer and is removed at the next
        start."""
        quorum = validate_spec(spec)
        job_id = "j-" + uuid.uuid4().hex[:16]
        program = bytes(spec.program)
        shared = bytes(spec.shared_input)
        row = {
            "id": job_id, "name": spec.name, "program_sha256": sha256_hex(program),
            "shared_sha256": sha256_hex(shared), "redundancy": spec.redundancy,
            "quorum": quorum, "cpu_s": float(spec.cpu_s), "wall_s": float(spec.wall_s),
            "max_attempts": spec.max_attempts, "max_output_bytes": spec.max_output_bytes,
            "priority": spec.priority, "state": "running", "total": len(spec.fragments),
            "created_s": now, "ended_s": None, "cursor": 0,
        }
        c = self.conn()
        names = list(spec.fragment_names) or [None] * len(spec.fragments)
        frags = iter(enumerate(zip(spec.fragments, names, strict=True)))
        big = row["total"] > self.SUBMIT_BATCH
        what = f"cannot store job {spec.name or job_id!r}"
        try:
            with transaction(c, what):
                c.executemany("INSERT OR IGNORE INTO blobs(sha256, size, data) VALUES (?,?,?)",
                              [(row["program_sha256"], len(program), program),
                               (row["shared_sha256"], len(shared), shared)])
                cols = list(row)
                values = [("loading" if big and k == "state" else row[k]) for k in cols]
                c.execute(f"INSERT INTO jobs({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                          values)
                done = self._insert_fragments(c, job_id, frags)
            while not done:
                with transaction(c, what):
                    done = self._insert_fragments(c, job_id, frags)
                    if done:
                        c.execute("UPDATE jobs SET state='running' WHERE id=?", (job_id,))
        except BaseException:
            self._drop_loading(job_id)
            raise
        return row

    def _insert_fragments(self, c: sqlite3.Connection, job_id: str, frags: Iterator) -> bool:
        """Insert the next SUBMIT_BATCH fragments; True when there are no more. Their ids
        follow the largest ever given, a purged job's too (:mod:`.highmarks`): the first is
        numbered so, and SQLite numbers each next row after the largest id in the table."""
        part = [(job_id, i, bytes(f), n) for i, (f, n) in itertools.islice(frags, self.SUBMIT_BATCH)]
        if part:
            c.execute("INSERT INTO fragments(id, job_id, idx, input, name, state) "
                      "VALUES (?,?,?,?,?,'PENDING')", (next_fragment_id(c), *part[0]))
            c.executemany("INSERT INTO fragments(job_id, idx, input, name, state) "
                          "VALUES (?,?,?,?,'PENDING')", part[1:])
        return len(part) < self.SUBMIT_BATCH

    def _drop_loading(self, job_id: str | None = None) -> None:
        """Remove jobs whose submission never finished (all of them, or one)."""
        c = self.conn()
        where = "state='loading'" + (" AND id=?" if job_id else "")
        args = (job_id,) if job_id else ()
        try:
            with transaction(c, "cannot remove unfinished job submissions"):
                ids = [r[0] for r in c.execute(f"SELECT id FROM jobs WHERE {where}", args)]
                for jid in ids:
                    c.execute("DELETE FROM fragments WHERE job_id=?", (jid,))
                    c.execute("DELETE FROM jobs WHERE id=?", (jid,))
        except StoreError as exc:
            log.error("%s", exc)
            return
        if ids:
            log.warning("removed %d job(s) whose submission did not finish: %s", len(ids), ", ".join(ids))

    def _q(self, sql: str, args: Sequence = ()) -> list[tuple]:
        try:
            return self.conn().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"hub database read failed: {exc}") from exc

    def job_clocks(self) -> dict[str, tuple[float, float | None, str]]:
        """job id -> (created_s, ended_s or None, state), every job (for status displays)."""
        return {j: (c or 0.0, e, s) for j, c, e, s in self._q("SELECT id, created_s, ended_s, state FROM jobs")}

    def failed_by_outcome(self) -> dict[str, dict[str, int]]:
        """job id -> {outcome: failed fragments}; the outcome is the reason's first word."""
        out: dict[str, dict[str, int]] = {}
        for job_id, outcome, n in self._q(
                "SELECT job_id, substr(reason, 1, instr(coalesce(reason, '') || ':', ':') - 1), count(*) "
                "FROM fragments WHERE state='FAILED' GROUP BY 1, 2"):
            out.setdefault(job_id, {})[outcome or "failed"] = n
        return out

    def job_exists(self, job_id: str) -> bool:
        return bool(self._q("SELECT 1 FROM jobs WHERE id=?", (job_id,)))

    def job_row(self, job_id: str) -> dict:
        c = self.conn()
        try:
            cur = c.execute("SELECT * FROM jobs WHERE id=?", (job_id,))
            r = cur.fetchone()
            names = [d[0] for d in cur.description]
        except sqlite3.Error as exc:
            raise StoreError(f"hub database read failed: {exc}") from exc
        if r is None:
            raise UnknownJob(f"no job {job_id!r}")
        return dict(zip(names, r, strict=True))

    def failures(self, job_id: str, limit: int = 1000) -> list[dict]:
        rows = self._q("SELECT idx, reason FROM fragments WHERE job_id=? AND state='FAILED' "
                       "ORDER BY seq LIMIT ?", (job_id, limit))
        return [{"index": i, "reason": r or ""} for i, r in rows]

    def max_seq(self, job_id: str) -> int:
        r = self._q("SELECT max(seq) FROM fragments WHERE job_id=? AND seq IS NOT NULL", (job_id,))
        return r[0][0] or 0

    def finished(self, job_id: str, after_seq: int, limit: int = 1000) -> list[FinishedFragment]:
        """Finished fragments after ``after_seq`` in seq order; an accepted result stored in
        one small chunk comes along as ``chunk`` (the same query), as it was stored."""
        rows = self._q(
            "SELECT f.seq, f.idx, f.id, f.state, f.size, f.reason, r.data, f.name FROM fragments f "
            "LEFT JOIN results r ON f.state!='FAILED' AND r.fragment_id=f.id "
            "AND r.attempt=f.result_attempt AND r.seq=0 AND f.size<=? "
            "AND NOT EXISTS (SELECT 1 FROM results m WHERE m.fragment_id=f.id "
            "AND m.attempt=f.result_attempt AND m.seq=1) "
            "WHERE f.job_id=? AND f.seq IS NOT NULL AND f.seq>? ORDER BY f.seq LIMIT ?",
            (INLINE_RESULT_BYTES, job_id, after_seq, limit))
        # a VOTING fragment with a seq is being re-verified: its accepted result stands
        # (and is delivered) until the vote ends
        return [FinishedFragment(s, i, fid, st != "FAILED", size or 0, reason or "", None, name or "", chunk)
                for s, i, fid, st, size, reason, chunk, name in rows]

    def result_chunks(self, fragment_id: int) -> Iterator[bytes]:
        """The accepted result of a DONE fragment: its chunks as stored (compressed)."""
        r = self._q("SELECT state, result_attempt FROM fragments WHERE id=?", (fragment_id,))
        if not r:
            raise StoreError(f"no fragment {fragment_id}")
        state, attempt = r[0]
        if state not in ("DONE", "VOTING") or attempt is None:    # VOTING: re-verified
            raise StoreError(f"fragment {fragment_id} has no accepted result (state {state})")
        return self._chunks(fragment_id, attempt)

    def _chunks(self, fragment_id: int, attempt: int) -> Iterator[bytes]:
        seq = 0
        while True:
            r = self._q("SELECT data FROM results WHERE fragment_id=? AND attempt=? AND seq=?",
                        (fragment_id, attempt, seq))
            if not r:
                return
            yield r[0][0]
            seq += 1

    def unverified_results(self) -> Iterator[tuple[str, int, str]]:
        """(worker_key, fragment_id, job_id) of every result accepted alone and never checked
        (redundancy 1, no spot check: ``boost`` 0) in a running job, oldest first: what the
        trust layer must re-verify if its worker is caught (rebuilt after a restart).
        Streamed: a big open job does not need all its rows in memory at once."""
        try:
            yield from self.conn().execute(
                "SELECT a.worker_key, f.id, f.job_id FROM fragments f "
                "JOIN jobs j ON j.id = f.job_id "
                "JOIN attempts a ON a.fragment_id = f.id AND a.attempt = f.result_attempt "
                "WHERE j.state = 'running' AND j.redundancy = 1 AND f.state = 'DONE' "
                "AND f.boost = 0 AND a.worker_key != '' ORDER BY f.id")
        except sqlite3.Error as exc:
            raise StoreError(f"hub database read failed: {exc}") from exc

    def get_cursor(self, job_id: str) -> int:
        r = self._q("SELECT cursor FROM jobs WHERE id=?", (job_id,))
        if not r:
            raise UnknownJob(f"no job {job_id!r}")
        return r[0][0] or 0

    def set_cursor(self, job_id: str, seq: int) -> None:
        """Store the buyer's consumer cursor. Written without its own fsync (synchronous=NORMAL
        for this one statement): in WAL mode the commit survives a crash of the hub process at
        once, and reaches the disk with the next durable commit (the loop's results, ms
        later while results flow). A power loss in between can only move the cursor back:
        those results are delivered again, never lost."""
        c = self.conn()
        relax = self.synchronous in ("FULL", "EXTRA")
        try:
            if relax:
                c.execute("PRAGMA synchronous=NORMAL")
            try:
                cur = c.execute("UPDATE jobs SET cursor=? WHERE id=?", (int(seq), job_id))
            finally:
                if relax:
                    c.execute(f"PRAGMA synchronous={self.synchronous}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot store the cursor of job {job_id}: {exc}") from exc
        if cur.rowcount == 0:
            raise UnknownJob(f"no job {job_id!r}")

    # -- loop side -------------------------------------------------------------------
    def blob(self, sha256: str) -> bytes | None:
        r = self._q("SELECT data FROM blobs WHERE sha256=?", (sha256,))
        return r[0][0] if r else None

    def pending(self, job_id: str, after_fid: int, limit: int) -> list[tuple[int, int, int, int]]:
        return self._q(
            "SELECT id, idx, next_attempt, failures FROM fragments "
            "WHERE job_id=? AND state='PENDING' AND id>? ORDER BY id LIMIT ?",
            (job_id, after_fid, limit))

    def inputs(self, fids: Sequence[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for i in range(0, len(fids), 500):
            part = fids[i:i + 500]
            rows = self._q(f"SELECT id, input FROM fragments WHERE id IN ({','.join('?' * len(part))})",
                           part)
            out.update(rows)
        return out

    def reopen_rows(self, fids: Sequence[int]) -> list[tuple]:
        """For re-verification: (fid, job_id, idx, next_attempt, failures, seq,
        result_attempt, sha256, size, worker_key of the accepted attempt) of those of
        ``fids`` that are DONE on one result alone (one counted vote: not spot-checked)."""
        out: list[tuple] = []
        for i in range(0, len(fids), 500):
            part = list(fids[i:i + 500])
            out += self._q(
                "SELECT f.id, f.job_id, f.idx, f.next_attempt, f.failures, f.seq, "
                "f.result_attempt, f.sha256, f.size, a.worker_key FROM fragments f "
                "JOIN attempts a ON a.fragment_id=f.id AND a.attempt=f.result_attempt "
                f"WHERE f.id IN ({','.join('?' * len(part))}) AND f.state='DONE' "
                "AND (SELECT count(*) FROM attempts v WHERE v.fragment_id=f.id "
                "AND v.end='vote') = 1", part)
        return out

    def fragment_seq(self, fid: int) -> int | None:
        """The acceptance seq of a fragment now (None: not finished, or no such fragment)."""
        r = self._q("SELECT seq FROM fragments WHERE id=?", (fid,))
        return r[0][0] if r else None

    def fragment_state(self, fid: int) -> str | None:
        r = self._q("SELECT state FROM fragments WHERE id=?", (fid,))
        return r[0][0] if r else None

    def apply(self, j: Journal, now: float) -> None:
        """Write one batch of changes in one transaction (the group commit). Raises
        :class:`StoreError` with everything rolled back."""
        c = self.conn()
        with transaction(c, f"could not commit to {self.path}"):
            if j.attempts_new:
                c.executemany(
                    "INSERT INTO attempts(fragment_id, attempt, job_id, worker_id, worker_key, "
                    "leased_s, deadline_s) VALUES (?,?,?,?,?,?,?)", j.attempts_new)
            if j.attempts_owner:
                c.executemany("UPDATE attempts SET worker_id=?, worker_key=? "
                              "WHERE fragment_id=? AND attempt=?", j.attempts_owner)
            if j.attempts_end:
                c.executemany("UPDATE attempts SET ended_s=?, end=?, sha256=?, size=?, detail=?, "
                              "cpu_us=coalesce(?, cpu_us) WHERE fragment_id=? AND attempt=?",
                              j.attempts_end)
            if j.frags:
                rows = [(f.state.value, f.next_attempt, f.failures, f.seq, f.reason,
                         f.result_attempt, f.size, f.sha256, f.boost, f.fid, f.old.value)
                        for f in j.frags]
                cur = c.executemany(
                    "UPDATE fragments SET state=?, next_attempt=?, failures=?, seq=?, reason=?, "
                    "result_attempt=?, size=?, sha256=?, boost=? WHERE id=? AND state=?", rows)
                if cur.rowcount != len(rows):
                    raise StoreError(f"fragment states in the store disagree with the scheduler "
                                     f"({cur.rowcount} of {len(rows)} rows matched)")
            if j.results:
                c.executemany("INSERT INTO results(fragment_id, attempt, seq, data) "
                              "VALUES (?,?,?,?)", j.results)
            if j.drop_results:
                c.executemany("DELETE FROM results WHERE fragment_id=? AND attempt=?",
                              j.drop_results)
            if j.workers:
                c.executemany(
                    "INSERT OR REPLACE INTO workers(id, name, worker_key, slots, joined_s, "
                    "last_seen_s, state, done, failed) VALUES (?,?,?,?,?,?,?,?,?)",
                    [(w.id, w.name, w.key, w.slots, w.joined_s, w.last_seen,
                      "alive" if w.alive else "gone", w.done, w.failed) for w in j.workers])
            if j.jobs:      # last: an ended job's max_seq reads its fragments' new seqs
                c.executemany("UPDATE jobs SET state=?, ended_s=?, n_done=?, n_failed=?, "
                              f"max_seq={ENDED_MAX_SEQ_SQL} WHERE id=?",
                              [(job.state.value, now, job.n_done, job.n_failed, job.id)
                               for job in j.jobs])

    # -- restart -----------------------------------------------------------------------
    def snapshot(self, *, at_start: bool = False) -> dict:
        """What :meth:`Scheduler.restore` needs (see there): the live (running) jobs only,
        so the hub's memory and start time do not grow with the jobs that ended (those are
        answered from their rows: :mod:`.retention`). ``at_start``: first remove job
        submissions a crash interrupted."""
        if at_start:
            self._drop_loading()
        c = self.conn()
        with transaction(c, f"cannot read {self.path} to restore the hub", immediate=False):
            cur = c.execute("SELECT * FROM jobs WHERE state = 'running'")
            names = [d[0] for d in cur.description]
            jobs = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            # the acceptance numbers go on from the largest ever given (ended jobs' on
            # their rows, purged jobs' in high_marks): two fragments never share one
            seq = largest_seq(c)
            for job in jobs:
                n = dict(c.execute("SELECT state, count(*) FROM fragments WHERE job_id=? "
                                   "GROUP BY state", (job["id"],)).fetchall())
                job["n_done"] = n.get("DONE", 0)
                job["n_failed"] = n.get("FAILED", 0)
                job["n_leased"] = n.get("LEASED", 0)
                job["n_voting"] = n.get("VOTING", 0)
                seq = max(seq, c.execute("SELECT max(seq) FROM fragments WHERE job_id=? AND "
                                         "seq IS NOT NULL", (job["id"],)).fetchone()[0] or 0)
            running = [j["id"] for j in jobs]
            active = []
            for job_id in running:
                active += c.execute(
                    "SELECT id, job_id, idx, state, next_attempt, failures, boost, seq, "
                    "result_attempt, sha256, size FROM fragments "
                    "WHERE job_id=? AND state IN ('LEASED','VOTING')", (job_id,)).fetchall()
            fids = [a[0] for a in active]
            open_leases, votes, killers = [], [], []
            for i in range(0, len(fids), 500):
                part = fids[i:i + 500]
                marks = ",".join("?" * len(part))
                open_leases += c.execute(
                    f"SELECT fragment_id, attempt, worker_id, worker_key, deadline_s FROM attempts "
                    f"WHERE fragment_id IN ({marks}) AND end IS NULL", part).fetchall()
                votes += c.execute(
                    f"SELECT fragment_id, attempt, worker_key, sha256, size FROM attempts "
                    f"WHERE fragment_id IN ({marks}) AND end='vote'", part).fetchall()
                killers += c.execute(
                    f"SELECT DISTINCT fragment_id, worker_key FROM attempts "
                    f"WHERE fragment_id IN ({marks}) AND end IN ({KILL_ENDS_SQL})", part).fetchall()
            final_reports = []      # of every unfinished fragment: they need a quorum
            for job_id in running:
                final_reports += c.execute(
                    "SELECT a.fragment_id, a.worker_key, substr(a.end, 9) FROM fragments f "
                    "JOIN attempts a ON a.fragment_id = f.id WHERE f.job_id=? AND f.state IN "
                    f"('PENDING','LEASED','VOTING') AND a.end IN ({FINAL_ENDS_SQL})",
                    (job_id,)).fetchall()
        return {"seq": seq, "jobs": jobs, "active": active, "open_leases": open_leases,
                "votes": votes, "killers": killers, "final_reports": final_reports}

    def counts(self) -> dict[str, int]:
        return {state.value: n for state in FragState for (n,) in
                self._q("SELECT count(*) FROM fragments WHERE state=?", (state.value,))}


def _failure_ends(which) -> str:
    """The attempts.end values of failures whose outcome ``which`` selects, as SQL."""
    from ..outcome import Outcome
    return ",".join(f"'failure:{o.value}'" for o in Outcome if which(o))


KILL_ENDS_SQL = _failure_ends(lambda o: o.kills_sandbox)
#: attempts that ended with a final failure report ("failure:fragment_error", ...)
FINAL_ENDS_SQL = _failure_ends(lambda o: o.is_final)

