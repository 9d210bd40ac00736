"""Retention: how long an ended job's data stays in the hub's database, and removing it.

The scheduler holds live (running) jobs only: a job leaves it once its end is committed,
and a restarted hub loads the running jobs alone, so the hub's memory, its start time and
its loop turns depend on live jobs, never on how many jobs it ever ran. An ended job is
answered from its row (state, final counts: :func:`ended_progress`) and its fragments'
rows (results, failures) until it is purged.

A job's data is kept ``keep_days`` after it ended (default 7: ``cpushare-hub serve
--keep-days``; ``Hub(keep_days=...)``); then the :class:`Janitor` thread purges it.
``cpushare purge JOB`` purges one ended job now (a running job is refused: cancel it
first). A purge:

1. in one transaction, deletes the job's row and notes the job in ``purges``: from then on
   every command treats the job as unknown;
2. deletes its fragments, their attempts and results :data:`PURGE_BATCH_FRAGMENTS`
   fragments per transaction (the hub's loop commits in between), and the signatures of
   those results in the trust ledger (``<db>.trust``) except where a strike cites them;
3. deletes the job's program and shared input unless another job uses them, and its
   ``purges`` row. A purge cut short (a crash) is finished by the next start's janitor.

Kept on purpose: the market ledger (receipts are money: ``cpushare ledger``), the trust
layer's per-key reputation and strikes, the workers table.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, SchedulingError, StoreError, UnknownJob
from .connections import transaction
from .highmarks import keep_purged

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_KEEP_DAYS", "PURGE_BATCH_FRAGMENTS", "JobStillRunning", "RetentionPolicy",
           "ended_progress", "purge_job", "Janitor"]

DAY_S = 86_400.0
DEFAULT_KEEP_DAYS = 7.0
#: fragments (with their attempts and results) deleted per transaction
PURGE_BATCH_FRAGMENTS = 500
#: the janitor looks for jobs past their keep time at least this often
JANITOR_MAX_INTERVAL_S = 600.0
#: ended jobs purged per janitor pass at most (the rest at the next pass)
JANITOR_JOBS_PER_PASS = 100

_LIVE_STATES = ("running", "loading")


class JobStillRunning(SchedulingError):
    """Raised when a purge names a job that has not ended."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long an ended job's data is kept (days; 0 = purge at the janitor's next pass)."""

    keep_days: float = DEFAULT_KEEP_DAYS

    def __post_init__(self) -> None:
        v = self.keep_days
        if type(v) not in (int, float) or not math.isfinite(v) or v < 0:
            raise ConfigError(f"keep_days must be a number of days >= 0 (e.g. 7 or 0.5), got {v!r}")

    @property
    def keep_s(self) -> float:
        return float(self.keep_days) * DAY_S

    def cutoff_s(self, now: float) -> float:
        """Jobs that ended before this time are due for purging."""
        return now - self.keep_s

    @property
    def pass_interval_s(self) -> float:
        """How often the janitor looks: a quarter of the keep time, between 1 s and 10 min."""
        return min(JANITOR_MAX_INTERVAL_S, max(1.0, self.keep_s / 4))


def _rows(c: sqlite3.Connection, sql: str, args: Sequence = ()) -> list[tuple]:
    try:
        return c.execute(sql, args).fetchall()
    except sqlite3.Error as exc:
        raise StoreError(f"hub database read failed: {exc}") from exc


# -- ended jobs, as the buyer sees them ------------------------------------------------------
_ENDED_COLUMNS = "id, name, state, total, n_done, n_failed, priority"


def ended_progress(c: sqlite3.Connection, job_id: str | None = None) -> list[dict]:
    """Progress records (the shape of ``Scheduler.progress``) of every ended job still kept,
    oldest first, or of ``job_id`` alone (raises :class:`UnknownJob` unless it is kept and
    ended)."""
    where = "state NOT IN ('running', 'loading')" + (" AND id=?" if job_id else "")
    rows = _rows(c, f"SELECT {_ENDED_COLUMNS} FROM jobs WHERE {where} ORDER BY created_s",
                 (job_id,) if job_id else ())
    if job_id and not rows:
        raise UnknownJob(f"no job {job_id!r}")
    out = []
    for jid, name, state, total, n_done, n_failed, priority in rows:
        done, failed = n_done or 0, n_failed or 0
        out.append({"job_id": jid, "name": name or "", "state": state, "total": total,
                    "pending": max(0, total - done - failed), "leased": 0, "voting": 0,
                    "done": done, "failed": failed, "priority": priority or 0, "waiting": ""})
    return out


# -- purging -----------------------------------------------------------------------------------
def begin_purge(c: sqlite3.Connection, job_id: str, now: float) -> None:
    """Step 1: the job's row goes, its ``purges`` row comes and ``high_marks`` keeps its
    largest fragment id and acceptance number (never given again), in one transaction. Raises
    :class:`UnknownJob` or :class:`JobStillRunning`; a purge already begun is left to go on."""
    with transaction(c, f"cannot purge job {job_id}"):
        r = c.execute("SELECT state, program_sha256, shared_sha256 FROM jobs WHERE id=?",
                      (job_id,)).fetchone()
        if r is None:
            if c.execute("SELECT 1 FROM purges WHERE job_id=?", (job_id,)).fetchone():
                return
            raise UnknownJob(f"no job {job_id!r} (never submitted, or already purged)")
        if r[0] in _LIVE_STATES:
            raise JobStillRunning(f"job {job_id} is still running: cancel it first "
                                  f"(cpushare cancel {job_id}), then purge it")
        c.execute("INSERT INTO purges(job_id, program_sha256, shared_sha256, started_s) "
                  "VALUES (?,?,?,?)", (job_id, r[1], r[2], now))
        keep_purged(c, job_id)
        c.execute("DELETE FROM jobs WHERE id=?", (job_id,))


def _in_trust_ledger(trust_path: Path | None, what: str, sql: str, args: Sequence = ()) -> None:
    """Run one statement in its own transaction on the trust ledger, if there is one."""
    if trust_path is None or not trust_path.exists():
        return
    try:
        t = sqlite3.connect(trust_path, isolation_level=None, timeout=30.0)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the trust ledger {trust_path}: {exc}") from exc
    try:
        with transaction(t, f"cannot remove {what} from {trust_path}"):
            t.execute(sql, args)
    finally:
        t.close()


def _forget_signatures(trust_path: Path | None, fids: Sequence[int]) -> None:
    """The trust ledger's signatures of these fragments' results, except the ones a strike
    cites (evidence against a key is kept)."""
    marks = ",".join("?" * len(fids))
    _in_trust_ledger(trust_path, "purged signatures",
                     f"DELETE FROM signatures WHERE fragment_id IN ({marks}) AND fragment_id "
                     f"NOT IN (SELECT fragment_id FROM strikes)", list(fids))


def _forget_unused_batches(trust_path: Path | None) -> None:
    _in_trust_ledger(trust_path, "purged batch signatures",
                     "DELETE FROM batches WHERE id NOT IN "
                     "(SELECT batch_id FROM signatures WHERE batch_id IS NOT NULL)")


def finish_purge(c: sqlite3.Connection, job_id: str, trust_path: Path | None = None,
                 stop: threading.Event | None = None) -> int:
    """Steps 2 and 3 of a begun purge; returns the fragments removed (a ``stop`` set between
    batches leaves the rest to the next call)."""
    removed = 0
    while stop is None or not stop.is_set():
        fids = [r[0] for r in _rows(c, "SELECT id FROM fragments WHERE job_id=? ORDER BY id "
                                       "LIMIT ?", (job_id, PURGE_BATCH_FRAGMENTS))]
        if not fids:
            _end_purge(c, job_id)
            _forget_unused_batches(trust_path)
            break
        _forget_signatures(trust_path, fids)    # first: a crash after it only redoes it
        marks = ",".join("?" * len(fids))
        with transaction(c, f"cannot purge job {job_id}"):
            c.execute(f"DELETE FROM results WHERE fragment_id IN ({marks})", fids)
            c.execute(f"DELETE FROM attempts WHERE fragment_id IN ({marks})", fids)
            c.execute(f"DELETE FROM fragments WHERE id IN ({marks})", fids)
        removed += len(fids)
    return removed


def _end_purge(c: sqlite3.Connection, job_id: str) -> None:
    """The program and shared input unless another job (or a purge still going on) uses
    them, and the ``purges`` row."""
    with transaction(c, f"cannot finish purging job {job_id}"):
        r = c.execute("SELECT program_sha256, shared_sha256 FROM purges WHERE job_id=?",
                      (job_id,)).fetchone()
        c.execute("DELETE FROM purges WHERE job_id=?", (job_id,))
        for sha in set(r or ()):
            if sha and not c.execute(
                    "SELECT 1 FROM jobs WHERE program_sha256=?1 OR shared_sha256=?1 UNION ALL "
                    "SELECT 1 FROM purges WHERE program_sha256=?1 OR shared_sha256=?1 LIMIT 1",
                    (sha,)).fetchone():
                c.execute("DELETE FROM blobs WHERE sha256=?", (sha,))


def purge_job(c: sqlite3.Connection, job_id: str, now: float, trust_path: Path | None = None) -> int:
    """Purge ended job ``job_id`` now, all three steps; returns its fragments removed."""
    begin_purge(c, job_id, now)
    return finish_purge(c, job_id, trust_path)


def due_jobs(c: sqlite3.Connection, cutoff_s: float, limit: int = JANITOR_JOBS_PER_PASS) -> list[str]:
    """Ended jobs that ended before ``cutoff_s``, oldest first."""
    return [r[0] for r in _rows(
        c, "SELECT id FROM jobs WHERE state NOT IN ('running', 'loading') AND ended_s IS NOT NULL "
           "AND ended_s < ? ORDER BY ended_s LIMIT ?", (cutoff_s, limit))]


def begun_purges(c: sqlite3.Connection) -> list[str]:
    return [r[0] for r in _rows(c, "SELECT job_id FROM purges ORDER BY started_s")]


class Janitor:
    """A thread that finishes interrupted purges at start, then purges ended jobs past their
    keep time every :attr:`RetentionPolicy.pass_interval_s`. ``connection`` gives the
    thread's own connection to the hub database; ``on_purged(job_id)`` is called after each
    purge (the hub forgets what it kept for the job)."""

    def __init__(self, connection: Callable[[], sqlite3.Connection], policy: RetentionPolicy, *,
                 trust_path: Path | None = None, on_purged: Callable[[str], None] = lambda _j: None,
                 clock: Callable[[], float] = time.time):
        self.policy = policy
        self._connection = connection
        self._trust_path = trust_path
        self._on_purged = on_purged
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.purged = 0        # jobs purged by this janitor

    def start(self) -> Janitor:
        self._thread = threading.Thread(target=self._run, name="cpushare-hub-janitor", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pass()
            except StoreError as exc:       # a full or locked disk: try again next pass
                log.error("retention: %s", exc)
            self._stop.wait(self.policy.pass_interval_s)

    def run_pass(self) -> int:
        """Finish begun purges, then purge the jobs due; returns the jobs purged."""
        c = self._connection()
        n = 0
        for job_id in begun_purges(c) + due_jobs(c, self.policy.cutoff_s(self._clock())):
            if self._stop.is_set():
                break
            try:
                begin_purge(c, job_id, self._clock())
            except UnknownJob:      # purged meanwhile by `cpushare purge`
                continue
            fragments = finish_purge(c, job_id, self._trust_path, self._stop)
            if self._stop.is_set():
                break
            n += 1
            self.purged += 1
            self._on_purged(job_id)
            log.info("purged job %s (%d fragments): ended more than %g days ago", job_id,
                     fragments, self.policy.keep_days)
        return n
