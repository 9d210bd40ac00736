"""The seller's earnings: the signed receipts its hubs sent, in its own SQLite file.

``earnings.db`` lives in the worker's identity directory (``--config-dir``, default
``~/.config/cpushare-worker``), created 0600: receipts name the worker key of that identity.
A receipt is kept only when it is well formed (every field, and ``amount`` follows from
``price`` and ``cpu_us``), names this worker's key and carries a valid Ed25519 signature by
the receipt key it names. The key ``(hub_key, fragment_id)`` makes storing idempotent: a
receipt the hub resends (after a reconnect or a restart of either side) is acknowledged
again and stored once. ``hub_curve`` records which hub (its CURVE key, authenticated by the
connection) sent it.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..errors import ConfigError, ProtocolError, StoreError
from ..hub.connections import transaction
from ..market.receipts import SignedReceipt, verify_receipt

__all__ = ["EARNINGS_FILE", "Earnings", "read_earnings"]

log = logging.getLogger(__name__)
EARNINGS_FILE = "earnings.db"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS receipts (
    hub_key TEXT NOT NULL, fragment_id INTEGER NOT NULL, hub_curve TEXT NOT NULL,
    issued_s INTEGER NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL, proof TEXT,
    PRIMARY KEY (hub_key, fragment_id));
"""


def _check(d: object, worker_key: str, seen: dict) -> SignedReceipt:
    """A peer's receipt, or :class:`ProtocolError` naming what is wrong with it. ``seen``:
    the batch signatures already checked (one signature covers a whole RECEIPTS message)."""
    sr = SignedReceipt.from_dict(d)
    r = sr.receipt
    if r.worker_key != worker_key:
        raise ProtocolError(f"receipt for fragment {r.fragment_id} names another worker key")
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(r.hub_key))
    except ValueError:
        raise ProtocolError(f"receipt for fragment {r.fragment_id}: hub_key is not an "
                            "Ed25519 key") from None
    if not verify_receipt(r, sr.signature, public, sr.proof, seen=seen):
        raise ProtocolError(f"receipt for fragment {r.fragment_id}: bad signature")
    return sr


class Earnings:
    """The worker's receipt store (one connection, used by one agent thread)."""

    def __init__(self, directory: str | os.PathLike, worker_key: str):
        path = Path(directory) / EARNINGS_FILE
        try:
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600))
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")    # as the hub's ledger
            self.db.executescript(_SCHEMA)
            if "proof" not in {r[1] for r in self.db.execute("PRAGMA table_info(receipts)")}:
                self.db.execute("ALTER TABLE receipts ADD COLUMN proof TEXT")
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the earnings file {path}: {exc}") from exc
        self.path, self.worker_key = path, worker_key

    def take(self, hub_curve: str, items: list[dict]) -> list[int]:
        """Check and store a RECEIPTS message's receipts; returns the fragment ids to
        acknowledge (those stored now or before). A bad receipt is logged and not
        acknowledged, so it is never counted, and the others are kept."""
        rows, ack, seen = [], [], {}
        for d in items:
            try:
                sr = _check(d, self.worker_key, seen)
            except ProtocolError as exc:
                log.warning("refused a receipt from hub %s: %s", hub_curve[:12] or "-", exc)
                continue
            r = sr.receipt
            rows.append((r.hub_key, r.fragment_id, hub_curve, r.issued_s,
                         json.dumps(r.to_dict()), sr.signature,
                         None if sr.proof is None else json.dumps(sr.proof)))
            ack.append(r.fragment_id)
        if not rows:
            return []
        try:
            with transaction(self.db, f"cannot store receipts in {self.path}"):
                self.db.executemany("INSERT OR IGNORE INTO receipts (hub_key, fragment_id, "
                                    "hub_curve, issued_s, body, signature, proof) VALUES "
                                    "(?, ?, ?, ?, ?, ?, ?)", rows)
        except StoreError as exc:     # not acknowledged: the hub resends them later
            log.error("%d receipts not stored (the hub resends them): %s", len(rows), exc)
            return []
        return ack

    def close(self) -> None:
        self.db.close()


def read_earnings(directory: str | os.PathLike, hub: str | None = None
                  ) -> list[tuple[str, SignedReceipt]]:
    """``(hub CURVE key, receipt)`` pairs, oldest first; ``hub`` filters on the hub's CURVE
    key or its receipt key."""
    path = Path(directory) / EARNINGS_FILE
    if not path.exists():
        raise ConfigError(f"no earnings file {path}: has this worker (--config-dir "
                          f"{directory}) been paid by a hub yet?")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            sql, params = "SELECT hub_curve, body, signature, proof FROM receipts", ()
            if hub is not None:
                sql, params = sql + " WHERE hub_curve=? OR hub_key=?", (hub, hub)
            rows = db.execute(sql + " ORDER BY issued_s, hub_key, fragment_id",
                              params).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot read the earnings file {path}: {exc}") from exc
    return [(c, SignedReceipt.from_dict({**json.loads(b), "signature": s,
                                         **({} if p is None else {"proof": json.loads(p)})}))
            for c, b, s, p in rows]


class ReceiptInbox:
    """The agent's hook: a RECEIPTS message in, the RECEIPT_ACK body out (None: nothing to
    acknowledge). The store is opened on first use, on the agent's own thread."""

    def __init__(self, trust):
        self.trust = trust
        self._earnings: Earnings | None = None

    def on_receipts(self, items: list[dict]) -> dict | None:
        trust = self.trust
        if trust is None or trust.claim is None:
            return None
        if self._earnings is None:
            try:
                self._earnings = Earnings(trust.claim.directory, trust.hello_key)
            except ConfigError as exc:
                log.error("%s: receipts not kept (the hub resends them)", exc)
                return None
        hub_curve = trust.hub_public.decode() if trust.hub_public else ""
        ack = self._earnings.take(hub_curve, items)
        return {"fragment_ids": ack} if ack else None

    def close(self) -> None:
        if self._earnings is not None:
            self._earnings.close()
            self._earnings = None
