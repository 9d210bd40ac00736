"""What the hub's ledger reads from the hub's store (I/O: SQL on the store's connection).

The store is the one record of what was accepted, with which attempt, and what CPU time
each attempt's signed outcome record claimed (``attempts.cpu_us``, written in the same
transaction as the result). The ledger *follows* it: it issues receipts in memory once a
turn's results are committed and signs them every quarter second; a hub killed in between
pays, when it starts again, what the store accepted after the ledger's watermark (the
largest acceptance number ``seq`` it signed through) and the ledger has not paid
(:func:`payable_after`). The copies still waiting for their fragment's vote are claims again
(:func:`open_votes`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import NamedTuple

from ..errors import StoreError
from ..outcome import Outcome
from .paid import failure_is_paid

__all__ = ["Payable", "open_votes", "payable_after"]

#: a finished fragment's paying attempt: a DONE one's accepted attempt; a FAILED one's last
#: failure report (paid when its outcome is the program's fault: market/paid.py)
_PAYABLE = (
    "SELECT f.id, f.state, a.attempt, a.worker_key, a.cpu_us, a.end FROM fragments f "
    "JOIN attempts a ON a.fragment_id = f.id AND a.attempt = CASE f.state "
    "WHEN 'DONE' THEN f.result_attempt ELSE (SELECT max(x.attempt) FROM attempts x "
    "WHERE x.fragment_id = f.id AND x.end LIKE 'failure:%') END "
    "WHERE f.job_id = ? AND f.seq IS NOT NULL AND f.seq > ? AND f.state IN ('DONE', 'FAILED') "
    "ORDER BY f.seq")
_VOTES = ("SELECT a.fragment_id, a.attempt, a.worker_key, a.cpu_us FROM fragments f "
          "JOIN attempts a ON a.fragment_id = f.id WHERE f.job_id = ? AND f.state = 'VOTING' "
          "AND a.end = 'vote' AND a.cpu_us IS NOT NULL ORDER BY a.fragment_id, a.attempt")


class Payable(NamedTuple):
    """A finished fragment's paying attempt and its CPU-time claim."""

    fragment_id: int
    attempt: int
    worker_key: str
    cpu_us: int


def payable_after(conn: sqlite3.Connection, job_id: str, after_seq: int) -> list[Payable]:
    """``job_id``'s fragments accepted (or failed for the program's fault) after acceptance
    number ``after_seq``, in that order, with the claim to pay. Attempts stored before the
    store kept claims (``cpu_us`` NULL) are left out: nothing says what to pay. Raises
    :class:`StoreError`."""
    try:
        rows = conn.execute(_PAYABLE, (job_id, after_seq)).fetchall()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read job {job_id}'s accepted results: {exc}") from exc
    return [Payable(fid, attempt, key or "", cpu_us)
            for fid, state, attempt, key, cpu_us, end in rows
            if cpu_us is not None and (state == "DONE" or _paid_failure(end))]


def _paid_failure(end: str) -> bool:
    try:
        return failure_is_paid(Outcome(end.removeprefix("failure:")))
    except ValueError:
        return False


def open_votes(conn: sqlite3.Connection, job_ids: Iterable[str]
               ) -> list[tuple[str, int, int, str, int]]:
    """``(job_id, fragment_id, attempt, worker_key, cpu_us)`` of the ok results counted as
    votes of ``job_ids``' fragments still voting. Raises :class:`StoreError`."""
    out = []
    try:
        for job_id in job_ids:
            out += [(job_id, fid, attempt, key or "", cpu_us)
                    for fid, attempt, key, cpu_us in conn.execute(_VOTES, (job_id,))]
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the votes in progress: {exc}") from exc
    return out
