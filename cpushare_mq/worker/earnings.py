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
from ..hub.connections import columns, transaction
from ..market.columnbatch import ColumnBatch
from ..market.receiptbatch import CheckedBatch, hub_public, open_stored, stored_text
from ..market.receipts import SignedReceipt, verify_receipt

__all__ = ["EARNINGS_FILE", "Earnings", "read_earnings"]

log = logging.getLogger(__name__)
EARNINGS_FILE = "earnings.db"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS receipts (
    hub_key TEXT NOT NULL, fragment_id INTEGER NOT NULL, hub_curve TEXT NOT NULL,
    issued_s INTEGER NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL, proof TEXT,
    PRIMARY KEY (hub_key, fragment_id));
CREATE TABLE IF NOT EXISTS receipt_batches (
    id INTEGER PRIMARY KEY, wire TEXT NOT NULL, hub_curve TEXT);
"""
#: columns added since the first earnings files: (table, name, ALTER TABLE)
_ADDED = (("receipts", "proof", "ALTER TABLE receipts ADD COLUMN proof TEXT"),
          # files of the first batches kept a row per receipt of a batch too: its body,
          # signature and proof are the batch's (receipt_batches.wire), its own '' and NULL
          ("receipts", "batch_id", "ALTER TABLE receipts ADD COLUMN batch_id INTEGER"),
          # a batch kept alone (no rows): who sent it
          ("receipt_batches", "hub_curve", "ALTER TABLE receipt_batches ADD COLUMN hub_curve TEXT"))
_INSERT = ("INSERT OR IGNORE INTO receipts (hub_key, fragment_id, hub_curve, issued_s, body, "
           "signature, proof, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_BATCH = "INSERT INTO receipt_batches (wire, hub_curve) VALUES (?, ?)"


def _check(d: object, worker_key: str, seen: dict) -> SignedReceipt:
    """A peer's receipt, or :class:`ProtocolError` naming what is wrong with it. ``seen``:
    the signed roots already checked (one signature covers a whole signing)."""
    sr = SignedReceipt.from_dict(d)
    r = sr.receipt
    if r.worker_key != worker_key:
        raise ProtocolError(f"receipt for fragment {r.fragment_id} names another worker key")
    if not verify_receipt(r, sr.signature, _public(r.hub_key, r.fragment_id), sr.proof,
                          seen=seen):
        raise ProtocolError(f"receipt for fragment {r.fragment_id}: bad signature")
    return sr


def _check_batch(d: object, worker_key: str, seen: dict) -> CheckedBatch | ColumnBatch:
    """A peer's receipt batch (of rows, or of columns), checked whole, or
    :class:`ProtocolError`: one bad row or a bad signature refuses the whole batch. ``seen``: the signed roots checked before (a signing's
    other batches lead to the same one)."""
    batch = (ColumnBatch if type(d) is dict and "columns" in d else CheckedBatch).from_wire(d)
    first = batch.fragment_ids[0]
    if batch.worker_key != worker_key:
        raise ProtocolError(f"receipt batch of fragments {first}.. names another worker key")
    if not batch.verify(_public(batch.hub_key, first), seen):
        raise ProtocolError(f"receipt batch of fragments {first}..: bad signature")
    return batch


def _public(hub_key: str, fragment_id: int) -> Ed25519PublicKey:
    try:
        return hub_public(hub_key)
    except ProtocolError:
        raise ProtocolError(f"receipt for fragment {fragment_id}: hub_key is not an "
                            "Ed25519 key") from None


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
            for table, name, alter in _ADDED:
                if name not in columns(self.db, table):
                    self.db.execute(alter)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the earnings file {path}: {exc}") from exc
        self.path, self.worker_key = path, worker_key
        self._roots: dict = {}       # signed roots checked (receipts.signed_by)

    def take(self, hub_curve: str, items: list[dict], batches: list[dict] = (),
             body: bytes | None = None) -> list[int]:
        """Check and store a RECEIPTS message's receipts (one by one, keyed by hub and
        fragment, and in batches: a batch is stored whole, as it came); returns the fragment
        ids to acknowledge (those stored now or before). A bad receipt or batch is logged and
        not acknowledged, so it is never counted; the others are kept. A receipt the hub
        sends again (its acknowledgement was lost) is counted once: :func:`read_earnings`.
        ``body``: the message's JSON text as it came; a message of one batch alone (what a
        hub sends) is kept as that text, not encoded again (:func:`open_stored` reads it)."""
        singles = []
        for d in items:
            try:
                singles.append(_check(d, self.worker_key, self._roots))
            except ProtocolError as exc:
                log.warning("refused a receipt from hub %s: %s", hub_curve[:12] or "-", exc)
        good = []
        for d in batches:
            try:
                good.append((_check_batch(d, self.worker_key, self._roots), d))
            except ProtocolError as exc:
                log.warning("refused a receipt batch from hub %s: %s", hub_curve[:12] or "-",
                            exc)
        if not (singles or good):
            return []
        try:
            with transaction(self.db, f"cannot store receipts in {self.path}"):
                self.db.executemany(_INSERT, [
                    (sr.receipt.hub_key, sr.receipt.fragment_id, hub_curve, sr.receipt.issued_s,
                     json.dumps(sr.receipt.to_dict()), sr.signature,
                     None if sr.proof is None else json.dumps(sr.proof), None)
                    for sr in singles])
                if good:
                    kept = ([body.decode()] if body is not None and len(good) == len(batches) == 1
                            and not items else [stored_text(wire) for _, wire in good])
                    self.db.executemany(_INSERT_BATCH, [(text, hub_curve) for text in kept])
        except StoreError as exc:     # not acknowledged: the hub resends them later
            log.error("receipts not stored (the hub resends them): %s", exc)
            return []
        return ([sr.receipt.fragment_id for sr in singles]
                + [fid for batch, _ in good for fid in batch.fragment_ids])

    def close(self) -> None:
        self.db.close()


def read_earnings(directory: str | os.PathLike, hub: str | None = None
                  ) -> list[tuple[str, SignedReceipt]]:
    """``(hub CURVE key, receipt)`` pairs, oldest first, each receipt once (a hub may have
    sent one again); ``hub`` filters on the hub's CURVE key or its receipt key. A receipt
    kept in a batch gets its own proof, derived from the batch, whose signature is checked
    again here."""
    path = Path(directory) / EARNINGS_FILE
    if not path.exists():
        raise ConfigError(f"no earnings file {path}: has this worker (--config-dir "
                          f"{directory}) been paid by a hub yet?")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows, batches = _stored(db)
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot read the earnings file {path}: {exc}") from exc
    found: dict[tuple[str, int], tuple[str, SignedReceipt]] = {}
    opened: dict[int, dict[int, SignedReceipt]] = {}
    for curve, fid, body, sig, proof, bid in rows:
        if bid is None:
            sr = _kept_alone(path, fid, body, sig, proof)
        else:
            if bid not in opened:
                opened[bid] = _reopen(path, bid, batches.get(bid, (None, None))[0])
            sr = opened[bid][fid]
        found.setdefault((sr.receipt.hub_key, fid), (curve, sr))
    for bid, (wire, curve) in batches.items():
        if curve is not None:            # a batch kept alone
            for fid, sr in _reopen(path, bid, wire).items():
                found.setdefault((sr.receipt.hub_key, fid), (curve, sr))
    out = [(curve, sr) for curve, sr in found.values()
           if hub is None or hub in (curve, sr.receipt.hub_key)]
    out.sort(key=lambda p: (p[1].receipt.issued_s, p[1].receipt.hub_key,
                            p[1].receipt.fragment_id))
    return out


def _stored(db: sqlite3.Connection) -> tuple[list[tuple], dict[int, tuple[str, str | None]]]:
    """The receipts kept one by one (``hub_curve, fragment_id, body, signature, proof,
    batch_id``) and the batches (id -> ``(wire, hub_curve)``), from a file of any version."""
    batch_col = "batch_id" if "batch_id" in columns(db, "receipts") else "NULL"
    rows = db.execute(f"SELECT hub_curve, fragment_id, body, signature, proof, {batch_col} "
                      "FROM receipts").fetchall()
    have = columns(db, "receipt_batches")
    if not have:
        return rows, {}
    curve_col = "hub_curve" if "hub_curve" in have else "NULL"
    return rows, {bid: (wire, curve) for bid, wire, curve in
                  db.execute(f"SELECT id, wire, {curve_col} FROM receipt_batches")}


def _kept_alone(path: Path, fid: int, body: str, sig: str, proof: str | None) -> SignedReceipt:
    """A receipt kept one by one, or :class:`ConfigError` when the file was damaged."""
    try:
        return SignedReceipt.from_stored(body, sig, proof)
    except ProtocolError as exc:
        raise ConfigError(f"earnings file {path}: the receipt for fragment {fid} is damaged "
                          f"(was the file altered?): {exc}") from exc


def _reopen(path: Path, bid: int, wire: str | None) -> dict[int, SignedReceipt]:
    """A stored batch's receipts by fragment, each with its own proof, or
    :class:`ConfigError` when the batch is missing or no longer matches its signature."""
    try:
        return open_stored(wire)
    except ProtocolError as exc:
        raise ConfigError(f"earnings file {path}: receipt batch {bid} is missing, damaged or "
                          f"fails its hub's signature (was the file altered?): {exc}") from exc


class ReceiptInbox:
    """The agent's hook: a RECEIPTS message in, the RECEIPT_ACK body out (None: nothing to
    acknowledge). The store is opened on first use, on the agent's own thread."""

    def __init__(self, trust):
        self.trust = trust
        self._earnings: Earnings | None = None

    def on_receipts(self, items: list[dict], batches: list[dict] = (),
                    body: bytes | None = None) -> dict | None:
        """``body``: the message's JSON text (:meth:`Earnings.take`)."""
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
        ack = self._earnings.take(hub_curve, items, batches, body)
        return {"fragment_ids": ack} if ack else None

    def close(self) -> None:
        if self._earnings is not None:
            self._earnings.close()
            self._earnings = None
