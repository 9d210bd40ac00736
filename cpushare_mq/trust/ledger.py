"""The hub's trust ledger: worker reputation records, result signatures and strikes, kept in
their own SQLite file beside the hub's database (``<db>.trust``, mode 0600).

Signatures are evidence: a result that lost a vote keeps its row here (the hub's store drops
the losing result's bytes but not who signed which digest), so a strike can be proven
against the key that signed it.

A result signed alone has its signature in its ``signatures`` row. The results of a batch
signed once (protocol feature ``batch_signature``) share one ``batches`` row holding the
batch's claim bytes and its signature; their ``signatures`` rows have ``signature = ''`` and
``batch_id`` set (see :meth:`cpushare_mq.trust.hubside.HubTrust.evidence`).

Schema versions: 1 had no batches; a version-1 ledger is migrated in place on open (table
``batches`` added, column ``signatures.batch_id`` added, NULL for its old rows).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from ..errors import StoreError
from ..hub.connections import columns
from .reputation import WorkerRecord

log = logging.getLogger(__name__)

__all__ = ["TrustLedger"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workers (key TEXT PRIMARY KEY, record TEXT NOT NULL, updated_s REAL NOT NULL);
CREATE TABLE IF NOT EXISTS signatures (
    fragment_id INTEGER NOT NULL, attempt INTEGER NOT NULL, worker_key TEXT NOT NULL,
    sha256 TEXT NOT NULL, outcome TEXT NOT NULL, signature TEXT NOT NULL, received_s REAL NOT NULL,
    batch_id INTEGER,
    PRIMARY KEY (fragment_id, attempt));
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY, worker_key TEXT NOT NULL, claim BLOB NOT NULL,
    signature TEXT NOT NULL, received_s REAL NOT NULL);
CREATE INDEX IF NOT EXISTS signatures_by_key ON signatures (worker_key);
CREATE TABLE IF NOT EXISTS strikes (
    worker_key TEXT NOT NULL, fragment_id INTEGER NOT NULL, sha256 TEXT NOT NULL,
    majority_sha256 TEXT NOT NULL, at_s REAL NOT NULL);
"""
SCHEMA_VERSION = "2"
_SIGNATURE_COLUMNS = ("fragment_id, attempt, worker_key, sha256, outcome, signature, "
                      "received_s, batch_id")


class TrustLedger:
    """A small SQLite file; one connection, used from the hub's loop thread."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            if not self.path.exists():
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.close(fd)
            self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            row = self.db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            elif row[0] == "1":
                self._migrate_from_1()
            elif row[0] != SCHEMA_VERSION:
                raise StoreError(f"trust ledger {self.path} has schema {row[0]}, expected {SCHEMA_VERSION}")
            self._next_batch_id = 1 + (self.db.execute("SELECT max(id) FROM batches").fetchone()[0]
                                       or 0)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the trust ledger {self.path}: {exc}") from exc
        self._signatures: list[tuple] = []
        self._batches: list[tuple] = []
        self._strikes: list[tuple] = []
        self._records: dict[str, WorkerRecord] = {}

    def _migrate_from_1(self) -> None:
        """Schema 1 -> 2: ``signatures.batch_id`` (NULL for the old rows: signed alone) and
        the ``batches`` table (created by the schema script), in one transaction."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if "batch_id" not in columns(self.db, "signatures"):
                self.db.execute("ALTER TABLE signatures ADD COLUMN batch_id INTEGER")
            self.db.execute("UPDATE meta SET value=? WHERE name='schema'", (SCHEMA_VERSION,))
        log.info("trust ledger %s migrated from schema 1 to %s", self.path, SCHEMA_VERSION)

    def load_records(self) -> list[WorkerRecord]:
        out = []
        try:
            rows = self.db.execute("SELECT key, record FROM workers").fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the trust ledger: {exc}") from exc
        for key, text in rows:
            try:
                out.append(WorkerRecord.from_dict(json.loads(text)))
            except (ValueError, TypeError) as exc:
                log.error("trust ledger: skipping unreadable record of %s: %s", key[:16], exc)
        return out

    def add_signature(self, fragment_id: int, attempt: int, worker_key: str, sha256: str,
                      outcome: str, signature: str, batch_id: int | None = None) -> None:
        """Keep a result's signed claim: its own ``signature``, or ``batch_id`` (from
        :meth:`add_batch`) with ``signature=""`` when it was signed as part of a batch."""
        self._signatures.append((fragment_id, attempt, worker_key, sha256, outcome, signature,
                                 time.time(), batch_id))

    def add_batch(self, worker_key: str, claim: bytes, signature: str) -> int:
        """Keep a batch's claim bytes and signature (once per batch); returns its id for the
        :meth:`add_signature` rows of its results."""
        batch_id = self._next_batch_id
        self._next_batch_id += 1
        self._batches.append((batch_id, worker_key, claim, signature, time.time()))
        return batch_id

    def add_strike(self, worker_key: str, fragment_id: int, sha256: str, majority: str) -> None:
        self._strikes.append((worker_key, fragment_id, sha256, majority, time.time()))

    def put_records(self, records: Iterable[WorkerRecord]) -> None:
        for r in records:
            self._records[r.key] = r

    def flush(self) -> None:
        """Write what was added since the last flush in one transaction (errors are logged:
        the ledger never stops the hub)."""
        if not (self._signatures or self._strikes or self._records or self._batches):
            return
        now = time.time()
        try:
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany("INSERT OR REPLACE INTO batches VALUES (?,?,?,?,?)",
                                    self._batches)
                self.db.executemany(
                    f"INSERT OR REPLACE INTO signatures ({_SIGNATURE_COLUMNS}) "
                    "VALUES (?,?,?,?,?,?,?,?)", self._signatures)
                self.db.executemany("INSERT INTO strikes VALUES (?,?,?,?,?)", self._strikes)
                self.db.executemany(
                    "INSERT OR REPLACE INTO workers VALUES (?,?,?)",
                    [(k, json.dumps(r.to_dict()), now) for k, r in self._records.items()])
        except sqlite3.Error as exc:
            log.error("cannot write the trust ledger %s: %s (will retry)", self.path, exc)
            return
        self._signatures.clear()
        self._batches.clear()
        self._strikes.clear()
        self._records.clear()

    def signature(self, fragment_id: int, attempt: int) -> dict | None:
        """The stored claim of one result: worker_key, sha256, outcome, signature (its own;
        "" when it was signed in a batch) and batch_id (None when signed alone)."""
        row = self.db.execute(
            "SELECT worker_key, sha256, outcome, signature, batch_id FROM signatures "
            "WHERE fragment_id=? AND attempt=?", (fragment_id, attempt)).fetchone()
        if row is None:
            return None
        return dict(zip(("worker_key", "sha256", "outcome", "signature", "batch_id"), row,
                        strict=True))

    def batch(self, batch_id: int) -> dict | None:
        """A stored batch: worker_key, claim (bytes), signature."""
        row = self.db.execute("SELECT worker_key, claim, signature FROM batches WHERE id=?",
                              (batch_id,)).fetchone()
        if row is None:
            return None
        return {"worker_key": row[0], "claim": bytes(row[1]), "signature": row[2]}

    def strikes(self, worker_key: str | None = None) -> list[dict]:
        q = "SELECT worker_key, fragment_id, sha256, majority_sha256, at_s FROM strikes"
        rows = (self.db.execute(q + " WHERE worker_key=?", (worker_key,)) if worker_key
                else self.db.execute(q)).fetchall()
        return [dict(zip(("worker_key", "fragment_id", "sha256", "majority_sha256", "at_s"), r,
                         strict=True)) for r in rows]

    def close(self) -> None:
        self.flush()
        try:
            self.db.close()
        except sqlite3.Error:
            pass
