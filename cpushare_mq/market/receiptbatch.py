"""Receipt batches: the receipts of one worker for one job, signed together, as they travel.

The hub signs the receipts it stored since it last signed at once (:mod:`.receipts`: the
root of a Merkle tree). In that tree the leaves of one worker's receipts for one job form a
subtree of their own (at most :data:`MAX_BATCH` receipts each), so the worker gets them as
one *batch*: the receipts as compact rows, the signature and one proof, from the subtree's
root to the signed root. The worker rebuilds the leaves and the subtree's root, checks the signature once
(:meth:`ReceiptBatch.open`), and derives each receipt's own proof: the same receipts, with
the same proofs, as the hub keeps in its ledger, each verifiable alone
(:func:`~.receipts.verify_receipt`).

On the wire (``RECEIPTS.batches``, for workers that announce the ``receipt_batches``
feature)::

    {"hub_key": HEX, "worker_key": KEY, "signature": HEX, "proof": ["l<64 hex>", ...],
     "rows": [[job_id, fragment_id, attempt, cpu_us, price, currency, amount, issued_s], ...]}

A worker that announces ``receipt_columns`` too gets its receipts as columns instead
(columnbatch.py: one hash a batch); :func:`sign_groups` signs both kinds in one tree.

Each row is validated as every receipt is (:meth:`~.receipts.Receipt.checked`). The worker
takes a batch as a :class:`CheckedBatch`: the same checks and refusals, without a
:class:`Receipt` per row (rows that differ in their fragment ids alone share one check).
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import ProtocolError
from ..protocol import MAX_RECEIPTS_PER_MESSAGE
from .columnbatch import ColumnBatch, columns_of
from .receipts import (
    ROOT_DOMAIN,
    ROW_AMOUNT,
    ROW_CURRENCY,
    ROW_FID,
    ROW_FIELDS,
    ROW_ISSUED_S,
    ROW_JOB,
    ROW_PRICE,
    Receipt,
    SignedReceipt,
    check_seal,
    leaf_around,
    leaf_at,
    merkle,
    merkle_root,
    signed_by,
    walk,
)

__all__ = ["MAX_BATCH", "ROW_FIELDS", "CheckedBatch", "ReceiptBatch", "hub_public", "open_stored",
           "reopened", "row_leaves", "sign_batches", "sign_groups", "stored_text", "wire_row"]

MAX_BATCH = MAX_RECEIPTS_PER_MESSAGE     # receipts in one batch (a RECEIPTS message carries one)
_WIRE_KEYS = frozenset(("hub_key", "worker_key", "signature", "proof", "rows"))
_ROW_LEN = len(ROW_FIELDS)
_INT_BOUND = 2**63           # as Receipt.checked's integers


@dataclass(frozen=True)
class ReceiptBatch:
    """Receipts of one worker under one signature, as wire rows (:data:`ROW_FIELDS`):
    ``proof`` leads from the root of their own subtree to the signed root."""

    hub_key: str
    worker_key: str
    rows: tuple[tuple, ...]
    signature: str
    proof: tuple[str, ...]

    #: the field of a RECEIPTS body that carries such batches
    WIRE_FIELD = "batches"

    @property
    def job_id(self) -> str:
        return self.rows[0][ROW_JOB]

    @property
    def fragment_ids(self) -> list[int]:
        return [row[ROW_FID] for row in self.rows]

    @property
    def issued_s(self) -> list[int]:
        return [row[ROW_ISSUED_S] for row in self.rows]

    def total_amount(self) -> Decimal:
        """The exact sum of the receipts' amounts."""
        return sum((Decimal(a) * n for a, n in Counter(row[ROW_AMOUNT] for row in self.rows)
                    .items()), Decimal(0))        # (a job's amounts repeat: CPU time comes in ticks)

    @functools.cached_property
    def receipts(self) -> tuple[Receipt, ...]:
        hub_key, worker_key = self.hub_key, self.worker_key
        return tuple(Receipt(hub_key, job_id, fid, attempt, worker_key, *rest)
                     for job_id, fid, attempt, *rest in self.rows)

    def to_wire(self) -> dict:
        return {"hub_key": self.hub_key, "worker_key": self.worker_key,
                "signature": self.signature, "proof": list(self.proof),
                "rows": [list(row) for row in self.rows]}

    @classmethod
    def from_wire(cls, d: object) -> ReceiptBatch:
        """A peer's batch, every row validated; raise :class:`ProtocolError`."""
        sig, proof, rows = _envelope(d)
        hub_key, worker_key = d["hub_key"], d["worker_key"]
        checked = [_row_receipt(hub_key, worker_key, row) for row in rows]
        return cls(hub_key, worker_key, tuple(map(wire_row, checked)), sig, tuple(proof))

    def verify(self, public: Ed25519PublicKey) -> bool:
        """True when ``public`` signed this batch's root; False when it did not (altered,
        reordered, cut short, or another key's)."""
        return self._check(public, merkle_root(self.leaves()))

    def open(self, public: Ed25519PublicKey) -> list[SignedReceipt] | None:
        """The receipts, each with its own proof, when ``public`` signed this batch's root;
        None when it did not."""
        root, proofs = merkle(self.leaves())
        if not self._check(public, root):
            return None
        return self._with_proofs(proofs)

    def signed(self) -> list[SignedReceipt]:
        """The receipts, each with its own proof (the signer's side: nothing to check)."""
        return self._with_proofs(merkle(self.leaves())[1])

    def leaves(self) -> list[bytes]:
        return row_leaves(self.hub_key, self.worker_key, self.rows)

    def _with_proofs(self, proofs: list[list[str]]) -> list[SignedReceipt]:
        return [SignedReceipt(r, self.signature, (*p, *self.proof))
                for r, p in zip(self.receipts, proofs, strict=True)]

    def _check(self, public: Ed25519PublicKey, subtree_root: bytes) -> bool:
        return _signs(public, self.signature, self.proof, subtree_root)


def wire_row(r: Receipt) -> tuple:
    """``r`` as a batch's row (:data:`ROW_FIELDS`: its batch names its hub and worker)."""
    return (r.job_id, r.fragment_id, r.attempt, r.cpu_us, r.price, r.currency, r.amount,
            r.issued_s)


def row_leaves(hub_key: str, worker_key: str, rows: tuple[tuple, ...] | list[tuple]
               ) -> list[bytes]:
    """The Merkle leaves of a batch's rows, well formed (its signer's or checked): rows alike
    in all but their fragment ids hash the same bytes around it (:func:`leaf_around`)."""
    known: dict[tuple, tuple[bytes, bytes]] = {}
    out = []
    for row in rows:
        job_id, fid, attempt, cpu_us, price, currency, amount, issued_s = row
        like = (job_id, attempt, cpu_us, price, currency, amount, issued_s)
        around = known.get(like)
        if around is None:
            around = known[like] = leaf_around(Receipt(hub_key, job_id, fid, attempt,
                                                       worker_key, *row[3:]))
        out.append(leaf_at(around, fid))
    return out


def _signs(public: Ed25519PublicKey, signature: str, proof: tuple[str, ...],
           subtree_root: bytes, seen: dict | None = None) -> bool:
    """True when ``public`` signed the root ``proof`` leads to from ``subtree_root``
    (``seen``: as :func:`~.receipts.signed_by`'s)."""
    return signed_by(public, signature, ROOT_DOMAIN + walk(subtree_root, proof), seen)


def _envelope(d: object) -> tuple[str, list[str], list]:
    """A peer's batch's signature, proof and rows (not yet checked), or
    :class:`ProtocolError`."""
    if not isinstance(d, dict) or set(d) != _WIRE_KEYS:
        raise ProtocolError(f"a receipt batch must be an object with exactly the fields "
                            f"{sorted(_WIRE_KEYS)}")
    sig, proof, rows = d["signature"], d["proof"], d["rows"]
    check_seal(sig, proof)
    if type(rows) is not list or not 0 < len(rows) <= MAX_BATCH:
        raise ProtocolError(f"receipt batch rows must be a list of 1-{MAX_BATCH} rows")
    return sig, proof, rows


def _row_receipt(hub_key: object, worker_key: object, row: object) -> Receipt:
    """One row of a peer's batch, validated as every receipt is, or :class:`ProtocolError`."""
    if type(row) is not list or len(row) != _ROW_LEN:
        raise ProtocolError(f"a receipt row must be a list of {_ROW_LEN} values: "
                            "job_id, fragment_id, attempt, cpu_us, price, currency, "
                            "amount, issued_s")
    job_id, fid, attempt, cpu_us, price, currency, amount, issued_s = row
    return Receipt.checked(hub_key, job_id, fid, attempt, worker_key, cpu_us, price, currency,
                           amount, issued_s)


@dataclass(frozen=True)
class CheckedBatch:
    """A peer's batch checked as :meth:`ReceiptBatch.from_wire` checks it (every row, the
    same refusals), kept as what the worker needs to verify and acknowledge it: its
    fragment ids and leaves, no :class:`Receipt` per row (the worker's hot path)."""

    hub_key: str
    worker_key: str
    fragment_ids: list[int]
    leaves: list[bytes]
    signature: str
    proof: tuple[str, ...]

    @classmethod
    def from_wire(cls, d: object) -> CheckedBatch:
        """Raise :class:`ProtocolError` as :meth:`ReceiptBatch.from_wire` does (a test holds
        the two to it)."""
        sig, proof, rows = _envelope(d)
        first = _row_receipt(d["hub_key"], d["worker_key"], rows[0])
        fids, leaves = _rows_leaves(first, rows)
        return cls(first.hub_key, first.worker_key, fids, leaves, sig, tuple(proof))

    def verify(self, public: Ed25519PublicKey, seen: dict | None = None) -> bool:
        """As :meth:`ReceiptBatch.verify` (``seen``: the roots checked before, as
        :func:`~.receipts.signed_by`'s: the next batch of the same signing is not checked
        again)."""
        return _signs(public, self.signature, self.proof, merkle_root(self.leaves), seen)


def _rows_leaves(first: Receipt, rows: list) -> tuple[list[int], list[bytes]]:
    """The fragment ids and leaves of a batch's rows, each row checked. A row that differs
    from one checked before in its fragment id alone (a valid one) is that row's receipt with
    its fragment id, so only its fragment id is checked and its leaf is :func:`leaf_at` the
    bytes around it; any other row is checked whole (:func:`_row_receipt`)."""
    hub_key, worker_key = first.hub_key, first.worker_key
    known: dict[tuple, tuple[bytes, bytes]] = {}
    fids, leaves = [], []
    for row in rows:
        around = key = None
        if type(row) is list and len(row) == _ROW_LEN:
            job_id, fid, attempt, cpu_us, price, currency, amount, issued_s = row
            if (type(fid) is type(attempt) is type(cpu_us) is type(issued_s) is int
                    and type(job_id) is type(price) is type(currency) is type(amount) is str
                    and 0 <= fid < _INT_BOUND):      # the types the hub writes
                key = (job_id, attempt, cpu_us, price, currency, amount, issued_s)
                around = known.get(key)
        if around is None:
            r = _row_receipt(hub_key, worker_key, row)
            fid, around = r.fragment_id, leaf_around(r)
            if key is not None:
                known[key] = around
        fids.append(fid)
        leaves.append(leaf_at(around, fid))
    return fids, leaves


def sign_batches(receipts: list[Receipt], key: Ed25519PrivateKey) -> list[ReceiptBatch]:
    """Sign receipts of one hub with one signature (:func:`sign_groups`), grouped by worker
    and job in their order."""
    groups: dict[tuple[str, str], list[tuple]] = {}
    for r in receipts:
        groups.setdefault((r.worker_key, r.job_id), []).append(wire_row(r))
    hub_key = receipts[0].hub_key if receipts else ""
    return sign_groups(hub_key, [(k, rows) for (k, _), rows in groups.items()], key)


def sign_groups(hub_key: str, groups: list[tuple[str, list[tuple]]], key: Ed25519PrivateKey,
                as_columns: Callable[[str], bool] | None = None
                ) -> list[ReceiptBatch | ColumnBatch]:
    """Sign groups of rows with one signature: each ``(worker_key, rows)`` group is one
    worker's receipts for one job, in issue order; each :data:`MAX_BATCH` of them form a
    batch, and the signed root is the tree over the batches' roots (a :class:`ReceiptBatch`'s:
    the tree over its receipts' leaves; a :class:`ColumnBatch`'s, for the worker keys
    ``as_columns`` names: the hash of its columns). Returns the batches, signed (their
    ``signed()`` gives each receipt's own proof)."""
    parts: list[ReceiptBatch | ColumnBatch] = []
    for worker_key, rows in groups:
        if as_columns is not None and as_columns(worker_key):
            parts += _column_parts(hub_key, worker_key, rows)
        else:
            parts += [ReceiptBatch(hub_key, worker_key, tuple(rows[i:i + MAX_BATCH]), "", ())
                      for i in range(0, len(rows), MAX_BATCH)]
    if not parts:
        return []
    root, tops = merkle([merkle_root(p.leaves()) if type(p) is ReceiptBatch else p.root()
                         for p in parts])
    signature = key.sign(ROOT_DOMAIN + root).hex()
    return [ReceiptBatch(hub_key, p.worker_key, p.rows, signature, tuple(top))
            if type(p) is ReceiptBatch else p.signed_as(signature, top)
            for p, top in zip(parts, tops, strict=True)]


def _column_parts(hub_key: str, worker_key: str, rows: list[tuple]) -> list[ColumnBatch]:
    """One worker's rows for one job as column batches: every :data:`MAX_BATCH` rows, and
    apart at each price (a job's price is fixed: a safeguard)."""
    terms = slice(ROW_PRICE, ROW_CURRENCY + 1)
    prices: dict[tuple, list[tuple]] = {}
    if len({row[terms] for row in rows}) == 1:
        prices[rows[0][terms]] = rows
    else:
        for row in rows:
            prices.setdefault(row[terms], []).append(row)
    return [ColumnBatch.unsigned(hub_key, worker_key, (same[0][ROW_JOB], *price),
                                 columns_of(same[i:i + MAX_BATCH]))
            for price, same in prices.items() for i in range(0, len(same), MAX_BATCH)]


def stored_text(wire: dict) -> str:
    """A batch's wire form as it is kept (compact JSON): :func:`open_stored` reads it."""
    return json.dumps(wire, separators=(",", ":"))


def open_stored(text: str | None, public: Ed25519PublicKey | None = None
                ) -> dict[int, SignedReceipt]:
    """A batch kept as it came (its wire as JSON text, or the text of the ``RECEIPTS`` body
    that carried it alone: worker/earnings.py), reopened: its receipts by fragment,
    each with its own proof. Raises :class:`ProtocolError` when it is missing, damaged or
    not signed by ``public`` (default: the receipt key it names), as when the file holding
    it was altered."""
    if not text:
        raise ProtocolError("the batch is missing")
    try:
        wire = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"the batch is not JSON: {exc}") from exc
    batch = _kept(wire)
    signed = batch.open(public or hub_public(batch.hub_key))
    if signed is None:
        raise ProtocolError("the batch fails its hub's signature")
    return {sr.receipt.fragment_id: sr for sr in signed}


def reopened(text: str, public: Ed25519PublicKey) -> ReceiptBatch | ColumnBatch:
    """A batch the hub's ledger kept (its wire form's text), checked whole and against
    ``public``'s signature; raises :class:`ProtocolError`."""
    try:
        batch = _kept(json.loads(text))
    except ValueError as exc:
        raise ProtocolError(f"the batch is not JSON: {exc}") from exc
    if not batch.verify(public):
        raise ProtocolError("the batch fails its hub's signature")
    return batch


def _kept(wire: object) -> ReceiptBatch | ColumnBatch:
    """A kept batch's wire form, or the RECEIPTS body that carried it alone, checked whole
    (not its signature); raises :class:`ProtocolError`."""
    if type(wire) is dict and "signature" not in wire:    # the RECEIPTS body that carried it
        carried = [wire.get(name, []) for name in ("batches", "columns")]
        carried = [b for c in carried if type(c) is list for b in c]
        if len(carried) != 1:
            raise ProtocolError("a kept RECEIPTS message must carry exactly one batch")
        wire = carried[0]
    return (ColumnBatch if type(wire) is dict and "columns" in wire else
            ReceiptBatch).from_wire(wire)


def hub_public(hub_key: str) -> Ed25519PublicKey:
    """The receipt key a receipt names, or :class:`ProtocolError`."""
    try:
        return _public_key(hub_key)
    except ValueError:
        raise ProtocolError(f"receipt hub_key {hub_key[:20]!r} is not an Ed25519 key") from None


@functools.lru_cache(maxsize=16)
def _public_key(hub_key: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hub_key))
