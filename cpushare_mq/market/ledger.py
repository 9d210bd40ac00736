"""The hub's ledger: one signed receipt per accepted fragment (I/O shell around
:mod:`.receipts` and :mod:`.metering`).

The ledger is its own SQLite file next to the hub's database (``hub.db`` ->
``hub.db.ledger``, created 0600). It holds the hub's Ed25519 receipt-signing key (made on
first use), the signed receipts, the fragments paid (``paid``: a fragment is paid once,
whatever restarts or reconnects happen), each job's terms and the meter's key records. The
worker's claimed CPU time comes from the outcome record it signed with its result;
:class:`~.metering.Meter` caps a flagged key at the job's median claim.

The ledger *follows* the hub's store (market/following.py): receipts are issued in memory
after the hub committed the results they pay for, and signed and stored every so often in
one transaction with the ``paid`` rows and the watermark ``paid_through_seq`` (the largest
acceptance number they cover). A hub killed in between pays at its next start what its store
accepted after the watermark.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import ConfigError, ProtocolError, StoreError
from ..hub.connections import columns, transaction
from ..outcome import MAX_CLAIM_US, cpu_claim_us
from ..protocol import EncodedBody
from . import keptbatches
from .claims import Claim
from .columnbatch import ColumnBatch
from .metering import Meter
from .money import Price, decimal_text
from .receiptbatch import ReceiptBatch, open_stored, sign_groups, stored_text, wire_row
from .receipts import ROW_FID, SignedReceipt, issued_row, verify_receipt
from .turns import turn_receipts, turn_text
from .unsigned import Unsigned

__all__ = ["DEFAULT_PRICE", "HubLedger", "JobTerms", "Signed", "SignedReceipt", "capped_us",
           "claimed_us", "ledger_path", "read_receipts", "verify_receipts"]

log = logging.getLogger(__name__)
DEFAULT_PRICE = Price(Decimal("1"), "credits")   # per CPU-hour without --price
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (
    fragment_id INTEGER PRIMARY KEY, job_id TEXT NOT NULL, worker_key TEXT NOT NULL,
    issued_s INTEGER NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0, proof TEXT, batch_id INTEGER, cpu_us INTEGER,
    amount TEXT, attempt INTEGER, price TEXT, currency TEXT);
CREATE INDEX IF NOT EXISTS receipts_job ON receipts (job_id);
CREATE TABLE IF NOT EXISTS receipt_batches (id INTEGER PRIMARY KEY, wire TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS turns (id INTEGER PRIMARY KEY, receipts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS terms (
    job_id TEXT PRIMARY KEY, price TEXT NOT NULL, currency TEXT NOT NULL,
    budget TEXT NOT NULL, cpu_limit_us INTEGER NOT NULL, ended INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS claims (
    fragment_id INTEGER NOT NULL, attempt INTEGER NOT NULL, job_id TEXT NOT NULL,
    worker_key TEXT NOT NULL, cpu_s REAL NOT NULL, limit_cpu_s REAL NOT NULL,
    cost TEXT NOT NULL, PRIMARY KEY (fragment_id, attempt));
CREATE TABLE IF NOT EXISTS meter_keys (
    worker_key TEXT PRIMARY KEY, comparisons INTEGER NOT NULL, log_ratio_sum REAL NOT NULL);
"""
#: A receipt is kept, once signed, with the batch it is sent in (keptbatches.py), its
#: fragment in ``paid``. Older hubs stored each turn's receipts before signing them
#: (``turns``: one row a turn, in the form of market/turns.py) and the open claims
#: (``claims``): read at start, and emptied. Older ledgers still kept receipts
#: as rows of ``receipts``: signed alone (``body``, ``signature``, ``proof`` of their own),
#: or with a batch of ``receipt_batches`` (``batch_id``, fields in columns); they are read
#: as they are. Columns added to ``receipts`` since the first ledgers: (name, ALTER TABLE).
_ADDED = (("delivered", "ALTER TABLE receipts ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0"),
          ("proof", "ALTER TABLE receipts ADD COLUMN proof TEXT"),    # NULL: signed alone (v1)
          ("batch_id", "ALTER TABLE receipts ADD COLUMN batch_id INTEGER"),
          ("cpu_us", "ALTER TABLE receipts ADD COLUMN cpu_us INTEGER"),
          ("amount", "ALTER TABLE receipts ADD COLUMN amount TEXT"),
          ("attempt", "ALTER TABLE receipts ADD COLUMN attempt INTEGER"),
          ("price", "ALTER TABLE receipts ADD COLUMN price TEXT"),
          ("currency", "ALTER TABLE receipts ADD COLUMN currency TEXT"))
_FILL_SUMS = ("UPDATE receipts SET cpu_us=json_extract(body, '$.cpu_us'), "
              "amount=json_extract(body, '$.amount') WHERE cpu_us IS NULL AND body != ''")
_SIGNED_ONLY = "(batch_id IS NOT NULL OR signature != '')"
#: the previous form of the receipts stored and not signed yet (rows of ``receipts``, found
#: through this index): moved into a turn when such a ledger is opened
_OLD_UNSIGNED = ("SELECT job_id, fragment_id, attempt, cpu_us, price, currency, amount, "
                 "issued_s, worker_key FROM receipts INDEXED BY receipts_unsigned "
                 "WHERE batch_id IS NULL AND signature = '' ORDER BY fragment_id")
_INSERT_TURN = "INSERT INTO turns (receipts) VALUES (?)"
#: fragments entered in ``paid`` (or looked up) as one JSON array: one statement for a
#: signing's thousand receipts, not a row each from Python (SQLite's json_each, built in)
_INSERT_PAID = "INSERT INTO paid SELECT value FROM json_each(?)"
_PAID_AMONG = ("SELECT fragment_id FROM paid WHERE fragment_id IN "
               "(SELECT value FROM json_each(?))")
#: a job's terms stay (receipts name its price), marked ended so a restart loads live ones
_TERMS_ENDED = "ALTER TABLE terms ADD COLUMN ended INTEGER NOT NULL DEFAULT 0"
_SET_TERMS = ("INSERT INTO terms (job_id, price, currency, budget, cpu_limit_us) "
              "VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET price=excluded.price, "
              "currency=excluded.currency, budget=excluded.budget, "
              "cpu_limit_us=excluded.cpu_limit_us")
_TERMS = "SELECT job_id, price, currency, budget, cpu_limit_us FROM terms"
_UNDELIVERED_INDEX = ("CREATE INDEX IF NOT EXISTS receipts_undelivered ON receipts "
                      "(worker_key, fragment_id) WHERE delivered = 0")
_MARK_DELIVERED = "UPDATE receipts SET delivered=1 WHERE fragment_id=? AND worker_key=?"
_UPSERT_METER = "INSERT OR REPLACE INTO meter_keys VALUES (?, ?, ?)"


@dataclass(frozen=True)
class JobTerms:
    """What a job pays: its price (fixed at submission: the buyer's, else the hub's), its
    budget (None: none) and its CPU limit per fragment, the most one lease can cost."""

    price: Price
    budget: Decimal | None
    cpu_limit_us: int


@functools.lru_cache(maxsize=4096)
def claimed_us(cpu_s: float, limit_cpu_s: float) -> int:
    """A worker's claim as the store keeps it (:func:`~cpushare_mq.outcome.cpu_claim_us`: 0
    to a week), capped (:func:`capped_us`). (Remembered: CPU time is metered in clock ticks,
    so claims repeat a few values.)"""
    return capped_us(cpu_claim_us(cpu_s), int(limit_cpu_s * 1e6))


def capped_us(cpu_us: int, limit_us: int) -> int:
    """A claim of ``cpu_us`` (whole microseconds, as the store keeps it) as it is paid:
    never above the job's CPU limit ``limit_us`` (the sandbox kills a fragment past it)."""
    return min(cpu_us, limit_us)


def ledger_path(db_path: str) -> str:
    return f"{db_path}.ledger"


class HubLedger:
    """The hub side: :meth:`issue` makes a receipt once the hub committed the result it pays
    for, :meth:`commit` hands the turn's receipts to the budgets, :meth:`sign` signs those
    waiting with one signature (a Merkle root: receipts.py) and stores them in one
    transaction, at most one per fragment, with the watermark :meth:`through` set. Each
    receipt is *undelivered* until its worker acknowledges it (:meth:`delivered`)."""

    def __init__(self, db_path: str, price: Price | None, meter: Meter | None = None):
        path = ledger_path(db_path)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        had_paid = bool(columns(self.db, "paid"))
        self.db.executescript(_SCHEMA + keptbatches.SCHEMA)
        if not had_paid:                  # a fragment is paid once: those paid before too
            self.db.execute("INSERT OR IGNORE INTO paid SELECT fragment_id FROM receipts")
        had = columns(self.db, "receipts")
        for name, alter in _ADDED:
            if name not in had:
                self.db.execute(alter)
        if "cpu_us" not in had:
            self.db.execute(_FILL_SUMS)
        if "ended" not in columns(self.db, "terms"):
            self.db.execute(_TERMS_ENDED)
        self.db.execute(_UNDELIVERED_INDEX)
        self._claims_gone: list[int] = []        # fragments whose stored claims were settled
        self._ended: list[str] = []              # jobs ended, recorded at sign()
        self._through_seq = 0                    # the watermark to store at sign()
        self._delivered: list[tuple[int, str]] = []    # acknowledged, marked at sign():
        self._batches_delivered: list[int] = []        # ... kept rows, and kept batches
        self._awaiting = keptbatches.Awaiting()
        self.price, self.meter = price, meter or Meter()
        self.meter.restore(self.db.execute("SELECT * FROM meter_keys"))
        self.key = self._signing_key()
        self.public_hex = self.key.public_key().public_bytes_raw().hex()
        self._last_turn = 0                      # the newest turn stored (older ledgers)
        self._unsigned = Unsigned()                 # issued, signed at sign()
        self._unsigned.add_earlier(self._stored_turns(path))
        row = self.db.execute("SELECT value FROM meta WHERE name='paid_through_seq'").fetchone()
        self.paid_through_seq = int(row[0]) if row else 0

    def _stored_turns(self, path: str) -> list[tuple[str, tuple]]:
        """The receipts an older hub stored with their turns and did not sign (killed first),
        oldest first, as ``(worker key, row)``; raises ConfigError for a damaged turn."""
        self._adopt_old_unsigned()
        out: list[tuple[str, tuple]] = []
        for tid, text in self.db.execute("SELECT id, receipts FROM turns ORDER BY id"):
            try:
                out += [(r.worker_key, wire_row(r)) for r in turn_receipts(self.public_hex, text)]
            except ProtocolError as exc:
                raise ConfigError(f"ledger {path}: its stored turn {tid} is damaged ({exc}): "
                                  "restore the file from a backup") from exc
            self._last_turn = tid
        return out

    def _adopt_old_unsigned(self) -> None:
        """A ledger of the previous form kept its unsigned receipts as ``receipts`` rows
        (index ``receipts_unsigned``): they move into one turn, once."""
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND "
                               "name = 'receipts_unsigned'").fetchone():
            return
        with transaction(self.db, "cannot move the ledger's unsigned receipts into a turn"):
            rows = self.db.execute(_OLD_UNSIGNED).fetchall()
            if rows:
                self.db.execute(_INSERT_TURN, (turn_text(
                    [(key, (job, *rest)) for job, *rest, key in rows]),))
                self.db.execute("DELETE FROM receipts WHERE batch_id IS NULL AND signature = ''")
            self.db.execute("DROP INDEX receipts_unsigned")

    def _signing_key(self) -> Ed25519PrivateKey:
        row = self.db.execute("SELECT value FROM meta WHERE name='signing_key'").fetchone()
        if row:
            return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(row[0]))
        key = Ed25519PrivateKey.generate()
        self.db.execute("INSERT INTO meta VALUES ('signing_key', ?)",
                        (key.private_bytes_raw().hex(),))
        return key

    def issue(self, job_id: str, worker_key: str, fragment_id: int, attempt: int,
              cpu_s: float, limit_cpu_s: float = MAX_CLAIM_US / 1e6,
              now_s: float | None = None, price: Price | None = None) -> bool:
        """A receipt, kept until :meth:`sign` (False: none: no price, or the fragment's was
        issued already). ``cpu_s``: what the worker's signed outcome record claims;
        never more than the job's CPU limit ``limit_cpu_s`` is paid (the sandbox kills a
        fragment past it). ``price``: the job's own price (default: the hub's)."""
        return self.issue_many(job_id, [(worker_key, fragment_id, attempt,
                                         claimed_us(cpu_s, limit_cpu_s))], now_s, price) == 1

    def issue_many(self, job_id: str, results: list[tuple[str, int, int, int]],
                   now_s: float | None = None, price: Price | None = None) -> int:
        """:meth:`issue` for results of one job, ``(worker_key, fragment_id, attempt,
        claim_us)`` each (the claim as :func:`claimed_us` gives it; a turn's: the job's
        price, median and the time looked up once); returns how many receipts were issued."""
        price = price or self.price
        if price is None:
            return 0
        meter, unsigned = self.meter, self._unsigned
        if not meter.has_job(job_id):           # its median: from its receipts so far
            meter.seed_job(job_id, self._recent_claims(job_id))
        issued_s = int(time.time() if now_s is None else now_s)
        n = 0
        for worker_key, fid, attempt, claim_us in results:
            if fid in unsigned:
                continue                          # (one paid before: left out at sign())
            key = worker_key or "-"
            paid = meter.paid_us(job_id, key, claim_us)
            unsigned.add_one(key, issued_row(job_id, fid, attempt, paid, price, issued_s))
            n += 1
        return n

    def settled(self, fragment_id: int) -> None:
        """The fragment's claims an older hub stored are done with (paid or dropped):
        deleted at :meth:`sign`."""
        self._claims_gone.append(fragment_id)

    def claims(self) -> list[Claim]:
        """The open claims an older hub stored (this one's are the votes in its store)."""
        rows = self.db.execute("SELECT job_id, fragment_id, attempt, worker_key, cpu_s, "
                               "limit_cpu_s, cost FROM claims ORDER BY fragment_id, attempt")
        return [Claim(j, f, a, k, claimed_us(c, lim), Decimal(cost))
                for j, f, a, k, c, lim, cost in rows]

    def commit(self) -> list[tuple[str, tuple]]:
        """The receipts issued since the last call, ``(worker key, row)`` (kept in memory
        until :meth:`sign`)."""
        return self._unsigned.take_fresh()

    def through(self, seq: int) -> None:
        """Every result the store accepted up to acceptance number ``seq`` is paid or is not
        payable: the watermark :meth:`sign` stores (a restarted hub pays what follows)."""
        self._through_seq = max(self._through_seq, seq)

    def last_paid_fragment(self) -> int:
        """The largest fragment id paid (0: none)."""
        return self.db.execute("SELECT coalesce(max(fragment_id), 0) FROM paid").fetchone()[0]

    def follow_store_from(self, seq: int) -> None:
        """At start, the store's largest acceptance number: a watermark past it (the hub's
        database was replaced and the ledger kept) is set back to it, so that what the store
        accepts from now on is paid after a restart too."""
        if self.paid_through_seq <= seq:
            return
        log.warning("ledger: paid through acceptance number %d, but the hub's database has "
                    "given only %d (was it replaced?): paying from %d on",
                    self.paid_through_seq, seq, seq)
        try:
            with transaction(self.db, "cannot set back the ledger's watermark"):
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('paid_through_seq', ?)",
                                (str(seq),))
        except StoreError as exc:    # in memory still: what the store accepts now is paid
            log.error("ledger: %s: after a kill, results up to acceptance number %d may go "
                      "unpaid", exc, self.paid_through_seq)
        self.paid_through_seq = seq

    @property
    def unsigned(self) -> int:
        """Receipts issued and not signed yet."""
        return len(self._unsigned)

    @property
    def dirty(self) -> bool:
        """:meth:`sign` has something to store: receipts, acknowledgements, key records, ended
        jobs, a watermark that moved."""
        return bool(self._unsigned or self._delivered or self._batches_delivered
                    or self._claims_gone or self._ended or self.meter.has_changed
                    or self._through_seq > self.paid_through_seq)

    def sign(self, as_columns: Callable[[str], bool] | None = None) -> Signed:
        """Sign the receipts not signed yet with one signature, as batches of one worker and
        one job each (receiptbatch.py), and store them in one transaction with the fragments
        they pay (``paid``), the watermark, the acknowledgements, the meter's key records and
        the jobs ended. A receipt for a fragment paid before (a result accepted again after a
        re-verification) is left out. Returns each batch with its wire form (``RECEIPTS``,
        its JSON text as kept), awaiting its worker's acknowledgement, and the rows left
        out. On a write error everything stays for the next call."""
        if not self.dirty:
            return Signed([], [])
        meter_keys = self.meter.take_changed()
        out, kept = [], []
        try:
            with transaction(self.db, "cannot store signed receipts", immediate=False):
                groups, dropped = self._pay(self._unsigned.groups())
                for batch in sign_groups(self.public_hex, groups, self.key, as_columns):
                    wire = batch.to_wire()
                    wire = EncodedBody(wire, stored_text(wire))    # kept and sent as this
                    kept.append(keptbatches.insert(self.db, batch, wire.text))
                    out.append((batch, wire))
                self._write_rest(meter_keys)
        except StoreError as exc:
            log.error("ledger: %d receipt(s) issued but not signed yet: %s",
                      len(self._unsigned), exc)
            self.meter.changed_again(k for k, _, _ in meter_keys)
            return Signed([], [])
        for (batch, _), bid in zip(out, kept, strict=True):
            self._awaiting.sent(batch.worker_key, bid, batch.fragment_ids)
        self._unsigned.clear()
        self._claims_gone, self._ended, self._last_turn = [], [], 0
        self.paid_through_seq = max(self.paid_through_seq, self._through_seq)
        return Signed(out, dropped)

    def _pay(self, groups: list[tuple[str, list[tuple]]]
             ) -> tuple[list[tuple[str, list[tuple]]], list[tuple[str, tuple]]]:
        """Enter the groups' fragments in ``paid`` (in the caller's transaction); returns the
        groups without the rows of fragments paid before, and those rows."""
        fids = [row[ROW_FID] for _, rows in groups for row in rows]
        self.db.execute("SAVEPOINT paying")
        try:
            self.db.execute(_INSERT_PAID, (json.dumps(fids),))
            return groups, []
        except sqlite3.IntegrityError:
            self.db.execute("ROLLBACK TO paying")
        finally:
            self.db.execute("RELEASE paying")
        paid = self.paid_among(fids)
        kept, dropped = [], []
        for key, rows in groups:
            dropped += [(key, row) for row in rows if row[ROW_FID] in paid]
            if mine := [row for row in rows if row[ROW_FID] not in paid]:
                kept.append((key, mine))
        self.db.execute(_INSERT_PAID, (json.dumps([row[ROW_FID] for _, rows in kept
                                                   for row in rows]),))
        return kept, dropped

    def paid_among(self, fids: list[int]) -> set[int]:
        """The fragments of ``fids`` paid already (signed and stored)."""
        return {f for (f,) in self.db.execute(_PAID_AMONG, (json.dumps(fids),))}

    def _write_rest(self, meter_keys: list[tuple[str, int, float]]) -> None:
        """Besides the receipts, in :meth:`sign`'s transaction: what was acknowledged, the
        key records, the settled claims of older hubs, the jobs ended, the watermark."""
        self._write_marks()
        if meter_keys:
            self.db.executemany(_UPSERT_METER, meter_keys)
        if self._claims_gone:
            self.db.executemany("DELETE FROM claims WHERE fragment_id=?",
                                [(f,) for f in self._claims_gone])
        if self._ended:
            self.db.executemany("UPDATE terms SET ended = 1 WHERE job_id = ?",
                                [(j,) for j in self._ended])
        if self._last_turn:
            self.db.execute("DELETE FROM turns WHERE id <= ?", (self._last_turn,))
        if self._through_seq > self.paid_through_seq:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('paid_through_seq', ?)",
                            (str(self._through_seq),))

    def _write_marks(self) -> None:
        """The acknowledgements recorded (:meth:`delivered`), in the caller's transaction
        (one lost to a crash only makes the hub resend those receipts, kept once)."""
        if self._batches_delivered:
            keptbatches.mark_delivered(self.db, self._batches_delivered)
            self._batches_delivered = []
        if self._delivered:
            self.db.executemany(_MARK_DELIVERED, self._delivered)
            self._delivered = []

    def _flush_marks(self) -> None:
        if self._delivered or self._batches_delivered:
            try:
                with transaction(self.db, "cannot record delivered receipts", immediate=False):
                    self._write_marks()
            except StoreError as exc:    # resent at the worker's next HELLO: harmless
                log.error("ledger: %s", exc)

    def _recent_claims(self, job_id: str) -> list[tuple[str, int]]:
        """``(key, cpu_us)`` of the job's last receipts, oldest first."""
        n = self.meter.policy.job_sample
        try:
            kept = keptbatches.recent_claims(self.db, job_id, n)
            rows = self.db.execute(
                "SELECT worker_key, cpu_us FROM receipts WHERE job_id=? ORDER BY fragment_id "
                "DESC LIMIT ?", (job_id, n - len(kept))).fetchall() if len(kept) < n else []
        except (sqlite3.Error, ValueError, LookupError) as exc:
            log.error("ledger: cannot read job %s's receipts: %s", job_id, exc)
            return []
        return [*reversed(rows), *kept]

    def on_result(self, job_id: str, worker_key: str, fragment_id: int, attempt: int,
                  cpu_s: float, limit_cpu_s: float = MAX_CLAIM_US / 1e6,
                  now_s: float | None = None, price: Price | None = None
                  ) -> SignedReceipt | None:
        """:meth:`issue`, :meth:`commit` and :meth:`sign` one receipt: it, or None when not
        stored (paid before, or no price)."""
        if not self.issue(job_id, worker_key, fragment_id, attempt, cpu_s, limit_cpu_s, now_s,
                          price):
            return None
        self.commit()
        batches = self.sign().batches
        return batches[0][0].signed()[0] if batches else None

    def undelivered(self, worker_key: str, limit: int, columns: bool = False) -> Owed:
        """The oldest (about) ``limit`` receipts of ``worker_key`` it has not acknowledged,
        awaited again: those kept as rows by older ledgers and in row batches one by one,
        and the column batches whole, to a worker that takes them (``columns``; another
        gets them when it does)."""
        owed, waiting = Owed([], []), 0
        try:
            self._flush_marks()
            rows = self.db.execute(
                f"SELECT {_READ} FROM receipts WHERE worker_key=? AND delivered=0 AND "
                f"{_SIGNED_ONLY} ORDER BY fragment_id LIMIT ?", (worker_key, limit)).fetchall()
            owed.receipts.extend(_signed(self.db, rows, self.key.public_key()))
            self._awaiting.sent_rows(worker_key, (sr.receipt.fragment_id
                                                  for sr in owed.receipts))
            for bid, batch, text in keptbatches.undelivered(
                    self.db, worker_key, limit - len(owed.receipts), self.key.public_key()):
                if type(batch) is ReceiptBatch:
                    owed.receipts.extend(batch.signed())
                elif columns:
                    owed.batches.append(EncodedBody(batch.to_wire(), text))
                else:
                    waiting += len(batch.fragment_ids)
                    continue
                self._awaiting.sent(worker_key, bid, batch.fragment_ids)
            if waiting:
                log.warning("worker key %s: %d receipts signed as columns wait for a worker "
                            "that takes them (feature receipt_columns: cpushare-worker since "
                            "2026-12-06)", worker_key[:16], waiting)
        except sqlite3.Error as exc:
            log.error("ledger: cannot read the receipts owed to %s: %s", worker_key[:16], exc)
        except ProtocolError as exc:
            log.error("ledger: the receipts owed to %s are damaged: %s", worker_key[:16], exc)
        return owed

    def delivered(self, worker_key: str, fragment_ids: list[int]) -> None:
        """``worker_key`` acknowledged these receipts (only those sent to it count: others'
        receipts and made-up ids are ignored, keeping nothing); recorded with the next
        :meth:`sign` (a mark lost to a crash only makes the hub resend those receipts at the
        worker's next HELLO, which it keeps once): a kept batch once each of its receipts is
        acknowledged, an older ledger's row one by one."""
        batches, rows = self._awaiting.acked(worker_key, fragment_ids)
        self._batches_delivered += batches
        self._delivered.extend((fid, worker_key) for fid in rows)

    def forget(self, worker_key: str) -> None:
        """Nobody takes ``worker_key``'s receipts now: what it did not acknowledge is resent
        at its next HELLO (:meth:`undelivered`)."""
        self._awaiting.forget(worker_key)

    def set_terms(self, job_id: str, terms: JobTerms) -> None:
        """A job's price and budget, kept across restarts (raises ConfigError: the job is
        then refused, before the buyer is told it was stored)."""
        try:
            self.db.execute(_SET_TERMS,
                            (job_id, decimal_text(terms.price.per_cpu_hour),
                             terms.price.currency,
                             "" if terms.budget is None else decimal_text(terms.budget),
                             terms.cpu_limit_us))
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot record the price of job {job_id}: {exc}") from exc

    def terms(self) -> dict[str, JobTerms]:
        """The terms of the jobs not ended (what a restarted hub needs in memory)."""
        rows = self.db.execute(_TERMS + " WHERE ended = 0")
        return {j: _terms(p, c, b, us) for j, p, c, b, us in rows}

    def terms_of(self, job_id: str) -> JobTerms | None:
        """``job_id``'s terms, ended or not (None: it has none)."""
        row = self.db.execute(_TERMS + " WHERE job_id = ?", (job_id,)).fetchone()
        return _terms(*row[1:]) if row else None

    def job_ended(self, job_id: str) -> None:
        """``job_id`` ended: recorded with its last receipts (:meth:`sign`), its terms are no
        longer loaded at start (:meth:`terms`)."""
        self._ended.append(job_id)

    def spent(self, job_id: str) -> Decimal:
        """What ``job_id``'s receipts add up to (exact)."""
        rows = self.db.execute("SELECT amount FROM receipts WHERE job_id=?", (job_id,))
        kept = sum((Decimal(a) for (a,) in rows), keptbatches.spent(self.db, job_id))
        return kept + self._unsigned.amount(job_id)

    def close(self) -> None:
        self.commit()
        self.sign()                  # resent at each worker's next HELLO
        self._flush_marks()          # the marks, if signing failed
        self.db.close()


class Owed(NamedTuple):
    """What a worker key did not acknowledge (:meth:`HubLedger.undelivered`): receipts to
    send one by one, and column batches to send whole (their wire as kept)."""

    receipts: list[SignedReceipt]
    batches: list[EncodedBody]


class Signed(NamedTuple):
    """What :meth:`HubLedger.sign` stored: each batch with its wire form, and the receipts
    left out (``(worker key, row)``: their fragments were paid before)."""

    batches: list[tuple[ReceiptBatch | ColumnBatch, EncodedBody]]
    dropped: list[tuple[str, tuple]]


def _terms(price: str, currency: str, budget: str, cpu_limit_us: int) -> JobTerms:
    return JobTerms(Price(Decimal(price), currency), Decimal(budget) if budget else None,
                    cpu_limit_us)


def read_receipts(db_path: str, *, job: str | None = None, worker: str | None = None,
                  since_s: int | None = None) -> tuple[str, list[SignedReceipt]]:
    """The hub's public receipt key and its receipts (filtered), oldest first. A receipt
    kept with its batch gets its own proof, derived from the batch, whose signature is
    checked again here (a ledger altered since is refused)."""
    path = ledger_path(db_path)
    if not os.path.exists(path):
        raise ConfigError(f"no ledger {path}: is --db the hub's database ('cpushare-hub serve "
                          "--db FILE'), and was the hub started with --price (no price, no "
                          "receipts)?")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT value FROM meta WHERE name='signing_key'").fetchone()
        public = (Ed25519PrivateKey.from_private_bytes(bytes.fromhex(row[0])).public_key()
                  if row else None)
        sql = (f"SELECT {_READ} FROM receipts WHERE {_SIGNED_ONLY}"
               if "batch_id" in columns(db, "receipts")
               else "SELECT fragment_id, body, signature, proof, NULL FROM receipts WHERE 1=1")
        params: list = []
        for cond, value in (("job_id=?", job), ("worker_key=?", worker),
                            ("issued_s>=?", since_s)):
            if value is not None:
                sql += f" AND {cond}"
                params.append(value)
        rows = db.execute(sql + " ORDER BY issued_s, fragment_id", params).fetchall()
        receipts = _signed(db, rows, public)
        if columns(db, "batches"):
            receipts += keptbatches.read(db, public, job=job, worker=worker, since_s=since_s)
            receipts.sort(key=lambda sr: (sr.receipt.issued_s, sr.receipt.fragment_id))
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot read the ledger {path}: {exc}") from exc
    except ProtocolError as exc:
        raise ConfigError(f"the ledger {path} is damaged (was it altered?): {exc}") from exc
    finally:
        db.close()
    return (public.public_bytes_raw().hex() if public else ""), receipts


_READ = "fragment_id, body, signature, proof, batch_id"


def _signed(db: sqlite3.Connection, rows: list[tuple], public: Ed25519PublicKey | None
            ) -> list[SignedReceipt]:
    """Ledger rows (:data:`_READ`) as signed receipts: stored alone, or reopened from their
    batch (each batch read and checked once). Raises ProtocolError for a damaged one."""
    batches: dict[int, dict[int, SignedReceipt]] = {}
    out = []
    for fid, body, sig, proof, bid in rows:
        if bid is None:
            out.append(SignedReceipt.from_stored(body, sig, proof))
            continue
        if bid not in batches:
            (wire,) = db.execute("SELECT wire FROM receipt_batches WHERE id=?", (bid,)
                                 ).fetchone() or (None,)
            batches[bid] = open_stored(wire, public)
        if fid not in batches[bid]:
            raise ProtocolError(f"receipt batch {bid} has no receipt for fragment {fid}")
        out.append(batches[bid][fid])
    return out


def verify_receipts(items: object, hub_key_hex: str) -> list[SignedReceipt]:
    """Check receipts from a file offline: each must be well formed, name ``hub_key_hex``
    and carry its valid signature. Raise :class:`ProtocolError` naming the first bad one."""
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(hub_key_hex))
    except ValueError as exc:
        raise ConfigError(f"--hub-key {hub_key_hex[:20]!r}... is not a 64-hex-digit "
                          "Ed25519 key (printed by 'cpushare ledger --db hub.db')") from exc
    if not isinstance(items, list):
        raise ProtocolError("expected a JSON list of receipts ('cpushare ledger --json')")
    out, seen = [], {}
    for i, d in enumerate(items):
        try:
            sr = SignedReceipt.from_dict(d)
        except ProtocolError as exc:
            raise ProtocolError(f"receipt {i}: {exc}") from None
        if sr.receipt.hub_key != hub_key_hex or not verify_receipt(
                sr.receipt, sr.signature, public, sr.proof, seen=seen):
            raise ProtocolError(f"receipt {i} (fragment {sr.receipt.fragment_id}): bad "
                                "signature: altered, or not signed by this hub")
        out.append(sr)
    return out

