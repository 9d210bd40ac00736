"""Fragment ids and acceptance numbers are never given twice.

A fragment id names one fragment for good: the ledger pays it once (market/ledger.py, table
``paid``) and a worker keeps one receipt for it (worker/earnings.py). SQLite gives a new row
the largest id in its table plus one, so once a purge removed the job holding the largest,
the next job would get its ids again, and its results would go unpaid as paid before. The
hub's table ``high_marks`` (one row, made by migrations.py) keeps the largest fragment id and
acceptance number (``fragments.seq``) of every purged job; new fragments are numbered after
it, and a restarted scheduler numbers acceptances after it.
"""

from __future__ import annotations

import sqlite3

__all__ = ["keep_above", "keep_purged", "largest_seq", "next_fragment_id"]


def next_fragment_id(c: sqlite3.Connection) -> int:
    """The id of the next fragment stored (in the caller's transaction)."""
    return c.execute("SELECT max(coalesce((SELECT max(id) FROM fragments), 0), "
                     "(SELECT fragment_id FROM high_marks)) + 1").fetchone()[0]


def largest_seq(c: sqlite3.Connection) -> int:
    """The largest acceptance number given: ended jobs' on their rows, purged jobs' here
    (the running jobs' fragments are read by the caller)."""
    return c.execute("SELECT max(coalesce((SELECT max(max_seq) FROM jobs), 0), "
                     "(SELECT seq FROM high_marks))").fetchone()[0]


def keep_purged(c: sqlite3.Connection, job_id: str) -> None:
    """Before ``job_id``'s fragments go (in the caller's transaction): keep their marks."""
    c.execute("UPDATE high_marks SET fragment_id = max(fragment_id, "
              "(SELECT coalesce(max(id), 0) FROM fragments WHERE job_id=?1)), seq = max(seq, "
              "(SELECT coalesce(max(seq), 0) FROM fragments WHERE job_id=?1))", (job_id,))


def keep_above(c: sqlite3.Connection, fragment_id: int) -> None:
    """Number new fragments after ``fragment_id`` too (one the ledger paid: a ledger kept
    while its hub's database was replaced, or purged by a hub before ``high_marks``)."""
    c.execute("UPDATE high_marks SET fragment_id = max(fragment_id, ?)", (fragment_id,))
