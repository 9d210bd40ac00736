"""The signed batches a hub's ledger keeps: each batch whole, as it was sent, with what the
ledger's questions need of it in columns (I/O shell around :mod:`.receiptbatch`).

A batch holds the receipts of one worker key for one job, signed together
(:func:`~.receiptbatch.sign_batches`). The ledger keeps it as one row of ``batches``: its
wire form (the receipts' fields, as rows or columns, and the signature: each receipt's
proof is derived from it when read), the job, the worker key, the span of its receipts'
``issued_s``, how many receipts, their amounts' exact sum, and whether its worker
acknowledged it. ``paid`` holds
every fragment the ledger paid (signed or not yet): a fragment is paid once.

Ledgers written before batches were kept whole have their receipts as rows of ``receipts``
(ledger.py reads both).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .columnbatch import ColumnBatch
from .columnroot import COLUMN_NAMES
from .money import decimal_text
from .receiptbatch import ReceiptBatch, open_stored, reopened
from .receipts import ROW_CPU_US, SignedReceipt

__all__ = ["SCHEMA", "Awaiting", "insert", "mark_delivered", "read", "recent_claims", "spent",
           "undelivered"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY, job_id TEXT NOT NULL, worker_key TEXT NOT NULL,
    first_s INTEGER NOT NULL, last_s INTEGER NOT NULL, n INTEGER NOT NULL,
    amount TEXT NOT NULL, delivered INTEGER NOT NULL DEFAULT 0, wire TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS batches_job ON batches (job_id);
CREATE INDEX IF NOT EXISTS batches_undelivered ON batches (worker_key, id) WHERE delivered = 0;
CREATE TABLE IF NOT EXISTS paid (fragment_id INTEGER PRIMARY KEY);
"""
_CPU_COLUMN = COLUMN_NAMES.index("cpu_us")
_INSERT = ("INSERT INTO batches (job_id, worker_key, first_s, last_s, n, amount, wire) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)")


def insert(db: sqlite3.Connection, batch: ReceiptBatch | ColumnBatch, text: str) -> int:
    """Keep a signed batch, ``text`` its wire form's (:func:`~.receiptbatch.stored_text`),
    in the caller's transaction; returns its id."""
    issued = batch.issued_s
    return db.execute(_INSERT, (batch.job_id, batch.worker_key, min(issued), max(issued),
                                len(issued), decimal_text(batch.total_amount()), text)
                      ).lastrowid


def mark_delivered(db: sqlite3.Connection, batch_ids: Iterable[int]) -> None:
    db.executemany("UPDATE batches SET delivered = 1 WHERE id = ?", [(b,) for b in batch_ids])


def spent(db: sqlite3.Connection, job_id: str) -> Decimal:
    """What ``job_id``'s kept batches add up to (exact)."""
    rows = db.execute("SELECT amount FROM batches WHERE job_id = ?", (job_id,))
    return sum((Decimal(a) for (a,) in rows), Decimal(0))


def recent_claims(db: sqlite3.Connection, job_id: str, n: int) -> list[tuple[str, int]]:
    """``(worker key, cpu_us)`` of up to ``n`` of ``job_id``'s newest kept receipts, oldest
    first (the rows as kept: this is the hub's own file)."""
    out: list[tuple[str, int]] = []
    rows = db.execute("SELECT worker_key, wire FROM batches WHERE job_id = ? ORDER BY id DESC",
                      (job_id,))
    for key, wire in rows:
        kept = json.loads(wire)
        claims = (kept["columns"][_CPU_COLUMN] if "columns" in kept
                  else [row[ROW_CPU_US] for row in kept["rows"]])
        out[:0] = [(key, cpu_us) for cpu_us in claims]
        if len(out) >= n:
            break
    return out[-n:]


def undelivered(db: sqlite3.Connection, worker_key: str, limit: int,
                public: Ed25519PublicKey) -> list[tuple[int, ReceiptBatch | ColumnBatch, str]]:
    """The oldest batches of ``worker_key`` it has not acknowledged, up to about ``limit``
    receipts: ``(batch id, the batch, its text as kept)``, each checked against ``public``'s
    signature. Raises ProtocolError for a damaged one."""
    out, count = [], 0
    if limit <= 0:
        return out
    rows = db.execute("SELECT id, n, wire FROM batches WHERE worker_key = ? AND delivered = 0 "
                      "ORDER BY id", (worker_key,))
    for bid, n, wire in rows:
        if out and count + n > limit:
            break
        out.append((bid, reopened(wire, public), wire))
        count += n
    return out


def read(db: sqlite3.Connection, public: Ed25519PublicKey | None, *, job: str | None,
         worker: str | None, since_s: int | None) -> list[SignedReceipt]:
    """The kept batches' receipts that match (``cpushare ledger``'s filters), each batch's
    signature checked as it is read. Raises ProtocolError for a damaged one."""
    sql, params = "SELECT wire FROM batches WHERE 1 = 1", []
    for cond, value in (("job_id = ?", job), ("worker_key = ?", worker),
                        ("last_s >= ?", since_s)):
        if value is not None:
            sql += f" AND {cond}"
            params.append(value)
    out = []
    for (wire,) in db.execute(sql + " ORDER BY id", params):
        out += [sr for sr in open_stored(wire, public).values()
                if since_s is None or sr.receipt.issued_s >= since_s]
    return out


class Awaiting:
    """Which kept batches each worker key has not acknowledged yet, receipt by receipt (a
    worker acknowledges the receipts it keeps: a batch whole, or one by one when it was
    resent so): a batch is delivered once each of its receipts was acknowledged by its
    own worker key; and which receipts of older ledgers, kept one by one, were sent to it.
    An acknowledgement of anything else (a fragment id never sent to that key, or already
    acknowledged) is ignored: it costs a lookup, never memory or a write. Pure: the ledger
    writes the marks."""

    def __init__(self) -> None:
        self._batch_of: dict[str, dict[int, int]] = {}   # key -> fragment -> batch id
        self._left: dict[int, int] = {}                  # batch id -> receipts not acked
        self._rows_of: dict[str, set[int]] = {}          # key -> older ledgers' rows sent

    def sent(self, worker_key: str, batch_id: int, fragment_ids: Iterable[int]) -> None:
        """``batch_id`` (these receipts) went to ``worker_key``: its acknowledgement awaited."""
        if batch_id in self._left:
            return                               # sent again before it was acknowledged
        mine = self._batch_of.setdefault(worker_key, {})
        n = len(mine)
        mine.update(dict.fromkeys(fragment_ids, batch_id))
        self._left[batch_id] = len(mine) - n

    def sent_rows(self, worker_key: str, fragment_ids: Iterable[int]) -> None:
        """Receipts of older ledgers, kept one by one, went to ``worker_key``."""
        self._rows_of.setdefault(worker_key, set()).update(fragment_ids)

    def acked(self, worker_key: str, fragment_ids: Iterable[int]) -> tuple[list[int], list[int]]:
        """``worker_key`` acknowledged these receipts: ``(batches now delivered, rows of
        older ledgers now delivered)``; the rest is ignored (not awaited from that key)."""
        mine = self._batch_of.get(worker_key)
        rows = self._rows_of.get(worker_key)
        done: list[int] = []
        other: list[int] = []
        for fid in fragment_ids:
            bid = mine.pop(fid, None) if mine else None
            if bid is None:
                if rows and fid in rows:
                    rows.discard(fid)
                    other.append(fid)
                continue
            left = self._left[bid] - 1
            if left:
                self._left[bid] = left
            else:
                del self._left[bid]
                done.append(bid)
        return done, other

    def forget(self, worker_key: str) -> None:
        """``worker_key`` left: what it did not acknowledge is resent at its next HELLO."""
        for bid in set(self._batch_of.pop(worker_key, {}).values()):
            self._left.pop(bid, None)
        self._rows_of.pop(worker_key, None)
