"""The hub's trust ledger: worker reputation records, result signatures and strikes, kept in
their own SQLite file beside the hub's database (``<db>.trust``, mode 0600).

Signatures are evidence: a result that lost a vote keeps its row here (the hub's store drops
the losing result's bytes but not who signed which digest), so a strike can be proven
against the key that signed it.
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
from .reputation import WorkerRecord

log = logging.getLogger(__name__)

__all__ = ["TrustLedger"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workers (key TEXT PRIMARY KEY, record TEXT NOT NULL, updated_s REAL NOT NULL);
CREATE TABLE IF NOT EXISTS signatures (
    fragment_id INTEGER NOT NULL, attempt INTEGER NOT NULL, worker_key TEXT NOT NULL,
    sha256 TEXT NOT NULL, outcome TEXT NOT NULL, signature TEXT NOT NULL, received_s REAL NOT NULL,
    PRIMARY KEY (fragment_id, attempt));
CREATE INDEX IF NOT EXISTS signatures_by_key ON signatures (worker_key);
CREATE TABLE IF NOT EXISTS strikes (
    worker_key TEXT NOT NULL, fragment_id INTEGER NOT NULL, sha256 TEXT NOT NULL,
    majority_sha256 TEXT NOT NULL, at_s REAL NOT NULL);
"""
SCHEMA_VERSION = "1"


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
            elif row[0] != SCHEMA_VERSION:
                raise StoreError(f"trust ledger {self.path} has schema {row[0]}, expected {SCHEMA_VERSION}")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the trust ledger {self.path}: {exc}") from exc
        self._signatures: list[tuple] = []
        self._strikes: list[tuple] = []
        self._records: dict[str, WorkerRecord] = {}

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
                      outcome: str, signature: str) -> None:
        self._signatures.append((fragment_id, attempt, worker_key, sha256, outcome, signature,
                                 time.time()))

    def add_strike(self, worker_key: str, fragment_id: int, sha256: str, majority: str) -> None:
        self._strikes.append((worker_key, fragment_id, sha256, majority, time.time()))

    def put_records(self, records: Iterable[WorkerRecord]) -> None:
        for r in records:
            self._records[r.key] = r

    def flush(self) -> None:
        """Write what was added since the last flush in one transaction (errors are logged:
        the ledger never stops the hub)."""
        if not (self._signatures or self._strikes or self._records):
            return
        now = time.time()
        try:
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany("INSERT OR REPLACE INTO signatures VALUES (?,?,?,?,?,?,?)",
                                    self._signatures)
                self.db.executemany("INSERT INTO strikes VALUES (?,?,?,?,?)", self._strikes)
                self.db.executemany(
                    "INSERT OR REPLACE INTO workers VALUES (?,?,?)",
                    [(k, json.dumps(r.to_dict()), now) for k, r in self._records.items()])
        except sqlite3.Error as exc:
            log.error("cannot write the trust ledger %s: %s (will retry)", self.path, exc)
            return
        self._signatures.clear()
        self._strikes.clear()
        self._records.clear()

    def signature(self, fragment_id: int, attempt: int) -> dict | None:
        row = self.db.execute(
            "SELECT worker_key, sha256, outcome, signature FROM signatures "
            "WHERE fragment_id=? AND attempt=?", (fragment_id, attempt)).fetchone()
        if row is None:
            return None
        return dict(zip(("worker_key", "sha256", "outcome", "signature"), row, strict=True))

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
