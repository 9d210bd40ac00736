"""Read-only queries on the hub's SQLite store for the dashboard.

The dashboard never keeps books of its own: what the hub's core holds right now comes from
the hub's public snapshot methods (``status``, ``job_progress``), everything historical from
the store, opened here read-only (``mode=ro``: a bug here cannot write). The store is in WAL
mode, so these readers never block the hub's commits. Every query is bounded (LIMIT, an
index, or a primary-key range over one job's fragment ids).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from ...errors import DecompressionError, StoreError, UnknownJob
from ...limits import Limits
from ...protocol import decompress_chunk
from ..connections import ThreadConnections

#: decompression cap for one stored chunk (workers cut results into 256 KiB pieces)
CHUNK_RAW_CAP = Limits.CHUNK_RAW_CAP
#: the most result bytes the dashboard reads for one download or tile
MAX_RESULT_BYTES = 256 << 20


class StoreReader:
    """Read-only access to one hub database; each thread gets its own connection."""

    def __init__(self, db_path: str):
        self.db_path = str(db_path)
        self._conns = ThreadConnections(self._open)

    def conn(self) -> sqlite3.Connection:
        return self._conns.get()

    def _open(self) -> sqlite3.Connection:
        uri = Path(self.db_path).resolve().as_uri() + "?mode=ro"
        try:
            c = sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False)
            c.execute("PRAGMA busy_timeout=5000")
            c.execute("PRAGMA query_only=1")
        except sqlite3.Error as exc:
            raise StoreError(f"dashboard cannot open {self.db_path} read-only: {exc}") from exc
        return c

    def close(self) -> None:
        self._conns.close_all()

    def q(self, sql: str, args: Sequence = ()) -> list[tuple]:
        try:
            return self.conn().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"dashboard read failed: {exc}") from exc

    def rows(self, sql: str, args: Sequence = ()) -> list[dict]:
        try:
            cur = self.conn().execute(sql, args)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        except sqlite3.Error as exc:
            raise StoreError(f"dashboard read failed: {exc}") from exc

    # -- jobs ------------------------------------------------------------------------
    def job(self, job_id: str) -> dict:
        r = self.rows("SELECT id, name, state, total, redundancy, quorum, cpu_s, wall_s, "
                      "max_attempts, priority, created_s, ended_s FROM jobs WHERE id=?",
                      (job_id,))
        if not r:
            raise UnknownJob(f"no job {job_id!r}")
        return r[0]

    def fid_range(self, job_id: str) -> tuple[int, int]:
        """The job's fragment ids are one range (inserted together): attempts are found by
        a primary-key range instead of a scan of every attempt."""
        r = self.q("SELECT min(id), max(id) FROM fragments WHERE job_id=?", (job_id,))
        lo, hi = r[0] if r else (None, None)
        return (lo or 0, hi if hi is not None else -1)

    def failures_by_reason(self, job_id: str) -> list[dict]:
        return self.rows("SELECT reason, count(*) AS n FROM fragments WHERE job_id=? AND "
                         "state='FAILED' GROUP BY reason ORDER BY n DESC LIMIT 20", (job_id,))

    def failed(self, job_id: str, limit: int = 50) -> list[dict]:
        return self.rows(
            "SELECT f.idx AS idx, f.reason AS reason, f.next_attempt AS attempts, "
            "a.worker_id AS worker_id, w.name AS worker_name, a.end AS last_end "
            "FROM fragments f LEFT JOIN attempts a ON a.fragment_id=f.id "
            "AND a.attempt=f.next_attempt-1 LEFT JOIN workers w ON w.id=a.worker_id "
            "WHERE f.job_id=? AND f.state='FAILED' ORDER BY f.seq DESC LIMIT ?", (job_id, limit))

    def attempt_ends(self, job_id: str, fids: tuple[int, int]) -> list[dict]:
        return self.rows("SELECT coalesce(end, 'running') AS end, count(*) AS n FROM attempts "
                         "WHERE fragment_id BETWEEN ? AND ? AND job_id=? GROUP BY 1 "
                         "ORDER BY n DESC", (fids[0], fids[1], job_id))

    def slowest(self, job_id: str, fids: tuple[int, int], limit: int = 10) -> list[dict]:
        return self.rows(
            "SELECT f.idx AS idx, a.attempt AS attempt, a.worker_id AS worker_id, "
            "w.name AS worker_name, round(a.ended_s - a.leased_s, 3) AS seconds, a.end AS end "
            "FROM attempts a JOIN fragments f ON f.id=a.fragment_id "
            "LEFT JOIN workers w ON w.id=a.worker_id WHERE a.fragment_id BETWEEN ? AND ? "
            "AND a.job_id=? AND a.ended_s IS NOT NULL ORDER BY a.ended_s - a.leased_s DESC "
            "LIMIT ?", (fids[0], fids[1], job_id, limit))

    def in_flight(self, job_id: str) -> list[int]:
        return [r[0] for r in self.q("SELECT idx FROM fragments WHERE job_id=? AND state IN "
                                     "('LEASED', 'VOTING')", (job_id,))]

    def finished_after(self, job_id: str, after_seq: int, limit: int) -> list[tuple]:
        """(seq, idx, fragment id, ok, size, result attempt) after ``after_seq``."""
        return self.q("SELECT seq, idx, id, state='DONE', size, result_attempt FROM fragments "
                      "WHERE job_id=? AND seq>? ORDER BY seq LIMIT ?", (job_id, after_seq, limit))

    def finished_results(self, job_id: str, after_seq: int, limit: int) -> list[tuple]:
        """(seq, idx, ok, result or None) after ``after_seq``: one query for the lot (a
        result stored in several chunks is read on its own)."""
        rows = self.q(
            "SELECT f.seq, f.idx, f.id, f.state='DONE', f.size, f.result_attempt, r.data "
            "FROM fragments f LEFT JOIN results r ON f.state='DONE' AND r.fragment_id=f.id "
            "AND r.attempt=f.result_attempt AND r.seq=0 WHERE f.job_id=? AND f.seq>? "
            "ORDER BY f.seq LIMIT ?", (job_id, after_seq, limit))
        out = []
        for seq, idx, fid, ok, size, attempt, first in rows:
            data = None
            if ok and first is not None:
                try:
                    data = decompress_chunk(first, CHUNK_RAW_CAP)
                except DecompressionError:
                    data = None
                if data is not None and len(data) != size:
                    data = self.result_of(fid, attempt)
            out.append((seq, idx, bool(ok), data))
        return out

    def recent_done(self, job_id: str, limit: int = 100) -> list[dict]:
        return self.rows("SELECT idx, size FROM fragments WHERE job_id=? AND state='DONE' AND "
                         "seq IS NOT NULL ORDER BY seq DESC LIMIT ?", (job_id, limit))

    def inputs(self, job_id: str, limit: int) -> list[bytes]:
        """The first ``limit`` fragment inputs in index order."""
        return [r[0] for r in self.q("SELECT input FROM fragments WHERE job_id=? ORDER BY id "
                                     "LIMIT ?", (job_id, limit))]

    def result(self, job_id: str, idx: int) -> bytes | None:
        """The accepted result of fragment ``idx``, or None if it has none (yet)."""
        r = self.q("SELECT id, result_attempt FROM fragments WHERE job_id=? AND idx=? AND "
                   "state='DONE'", (job_id, idx))
        if not r:
            return None
        return self.result_of(r[0][0], r[0][1])

    def result_of(self, fid: int, attempt: int) -> bytes:
        out = bytearray()
        for (data,) in self.q("SELECT data FROM results WHERE fragment_id=? AND attempt=? "
                              "ORDER BY seq", (fid, attempt)):
            try:
                out += decompress_chunk(data, CHUNK_RAW_CAP)
            except DecompressionError as exc:
                raise StoreError(f"stored result of fragment {fid} is corrupt: {exc}") from exc
            if len(out) > MAX_RESULT_BYTES:
                raise StoreError(f"result of fragment {fid} is larger than the dashboard "
                                 f"shows ({MAX_RESULT_BYTES} bytes)")
        return bytes(out)

    # -- workers -----------------------------------------------------------------------
    def worker(self, worker_id: str) -> dict | None:
        r = self.rows("SELECT id, name, worker_key, slots, joined_s, last_seen_s, state, done, "
                      "failed FROM workers WHERE id=?", (worker_id,))
        return r[0] if r else None

    def sessions(self, worker_key: str, limit: int = 50) -> list[dict]:
        return self.rows("SELECT id, name, slots, joined_s, last_seen_s, state, done, failed "
                         "FROM workers WHERE worker_key=? ORDER BY joined_s DESC LIMIT ?",
                         (worker_key, limit))

    def worker_attempts(self, worker_id: str, limit: int = 50) -> list[dict]:
        return self.rows(
            "SELECT a.job_id AS job_id, f.idx AS idx, a.attempt AS attempt, "
            "a.leased_s AS leased_s, round(a.ended_s - a.leased_s, 3) AS seconds, "
            "coalesce(a.end, 'running') AS end, a.detail AS detail FROM attempts a "
            "JOIN fragments f ON f.id=a.fragment_id WHERE a.worker_id=? "
            "ORDER BY a.leased_s DESC LIMIT ?", (worker_id, limit))

    def worker_ends(self, worker_id: str) -> list[dict]:
        return self.rows("SELECT coalesce(end, 'running') AS end, count(*) AS n, "
                         "round(sum(coalesce(ended_s, leased_s) - leased_s), 3) AS seconds "
                         "FROM attempts WHERE worker_id=? GROUP BY 1 ORDER BY n DESC",
                         (worker_id,))

    def lease_seconds(self, worker_ids: Sequence[str]) -> dict[str, float]:
        """Seconds of finished leases per worker session (wall time on the hub's clock)."""
        if not worker_ids:
            return {}
        marks = ",".join("?" * len(worker_ids))
        return {w: round(s or 0.0, 1) for w, s in self.q(
            f"SELECT worker_id, sum(ended_s - leased_s) FROM attempts WHERE worker_id IN "
            f"({marks}) AND ended_s IS NOT NULL GROUP BY worker_id", list(worker_ids))}

    def done_times(self, since_s: float) -> list[tuple[int, int]]:
        """Results voted per whole second since ``since_s`` (to fill the chart's past)."""
        return self.q("SELECT CAST(ended_s AS INTEGER), count(*) FROM attempts WHERE "
                      "ended_s > ? AND end='vote' GROUP BY 1 ORDER BY 1", (since_s,))
