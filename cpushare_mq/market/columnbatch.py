"""Receipt batches sent as columns: one worker's receipts for one job at one price, hashed
whole (market/columnroot.py), for workers that announce the ``receipt_columns`` feature.

On the wire (``RECEIPTS.columns``)::

    {"hub_key": HEX, "worker_key": KEY, "job_id": J, "price": P, "currency": C,
     "signature": HEX, "proof": ["l<64 hex>", ...],
     "columns": [[fragment_id, ...], [attempt, ...], [cpu_us, ...], [issued_s, ...]]}

Each receipt's amount follows from the price and its ``cpu_us``. The hub signs, as for
row batches (receiptbatch.py), the root of a tree over its batches' roots; ``proof`` leads
from this batch's root to it. So a worker checks a batch with one hash over its columns and
one signature a signing (not a hash per receipt and a tree), and the batch travels and is
kept in a third of the bytes. A receipt taken out of it (:meth:`ColumnBatch.signed`) carries
the columns as the first step of its proof and is checked alone like any other
(:func:`~.receipts.verify_receipt`).
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..errors import ProtocolError
from ..protocol import MAX_RECEIPTS_PER_MESSAGE
from .columnroot import column_fault, columns_root, columns_step, columns_text
from .money import amount_text
from .receipts import (
    ROOT_DOMAIN,
    ROW_ATTEMPT,
    ROW_CPU_US,
    ROW_FID,
    ROW_ISSUED_S,
    Receipt,
    SignedReceipt,
    check_seal,
    check_text,
    checked_price,
    signed_by,
    walk,
)

__all__ = ["ColumnBatch", "columns_of"]

_WIRE_KEYS = frozenset(("hub_key", "worker_key", "job_id", "price", "currency", "signature",
                        "proof", "columns"))


@dataclass(frozen=True)
class ColumnBatch:
    """Receipts of one worker for one job at one price under one signature, as columns
    (fragment ids, attempts, ``cpu_us``, ``issued_s``: columnroot.COLUMN_NAMES)."""

    hub_key: str
    worker_key: str
    job_id: str
    price: str                # the price's one text form (receipts.checked_price)
    currency: str
    columns: tuple[list[int], list[int], list[int], list[int]]
    signature: str = ""
    proof: tuple[str, ...] = ()

    #: the field of a RECEIPTS body that carries such batches
    WIRE_FIELD = "columns"

    @classmethod
    def unsigned(cls, hub_key: str, worker_key: str, header: tuple[str, str, str],
                 columns: tuple[list[int], ...]) -> ColumnBatch:
        """Columns a hub issued (well formed), ``header`` = ``(job_id, price, currency)``."""
        return cls(hub_key, worker_key, *header, columns)

    def root(self) -> bytes:
        """The node that stands for this batch in the tree its hub signs."""
        return columns_root((self.hub_key, self.worker_key, self.job_id, self.price,
                             self.currency), self.columns)

    def signed_as(self, signature: str, proof: list[str]) -> ColumnBatch:
        return ColumnBatch(self.hub_key, self.worker_key, self.job_id, self.price,
                           self.currency, self.columns, signature, tuple(proof))

    @property
    def fragment_ids(self) -> list[int]:
        return self.columns[0]

    @property
    def issued_s(self) -> list[int]:
        return self.columns[3]

    def total_amount(self) -> Decimal:
        """The exact sum of the receipts' amounts (each rounded as its receipt says)."""
        return sum((Decimal(amount_text(self.price, cpu)) * n
                    for cpu, n in Counter(self.columns[2]).items()), Decimal(0))

    def to_wire(self) -> dict:
        return {"hub_key": self.hub_key, "worker_key": self.worker_key, "job_id": self.job_id,
                "price": self.price, "currency": self.currency, "signature": self.signature,
                "proof": list(self.proof), "columns": list(self.columns)}

    @classmethod
    def from_wire(cls, d: object) -> ColumnBatch:
        """A peer's batch, every field checked; raise :class:`ProtocolError` (one line)."""
        if not isinstance(d, dict) or set(d) != _WIRE_KEYS:
            raise ProtocolError(f"a receipt columns batch must be an object with exactly the "
                                f"fields {sorted(_WIRE_KEYS)}")
        for name in ("hub_key", "worker_key", "job_id", "currency"):
            check_text(name, d[name])
        price = checked_price(d["price"])
        if price != d["price"]:
            raise ProtocolError(f"receipt price must be written {price!r}")
        sig, proof, columns = d["signature"], d["proof"], d["columns"]
        check_seal(sig, proof)
        fault = column_fault(columns, MAX_RECEIPTS_PER_MESSAGE)
        if fault is not None:
            raise ProtocolError(f"receipt batch {fault}")
        return cls(d["hub_key"], d["worker_key"], d["job_id"], price, d["currency"],
                   tuple(columns), sig, tuple(proof))

    def verify(self, public: Ed25519PublicKey, seen: dict | None = None) -> bool:
        """True when ``public`` signed the root this batch's proof leads to (``seen``: as
        :func:`~.receipts.signed_by`'s)."""
        return signed_by(public, self.signature, ROOT_DOMAIN + walk(self.root(), self.proof),
                         seen)

    @functools.cached_property
    def receipts(self) -> tuple[Receipt, ...]:
        head, tail = (self.hub_key, self.job_id), (self.price, self.currency)
        return tuple(Receipt(*head, fid, attempt, self.worker_key, cpu, *tail,
                             amount_text(self.price, cpu), issued)
                     for fid, attempt, cpu, issued in zip(*self.columns, strict=True))

    def signed(self) -> list[SignedReceipt]:
        """The receipts, each with its own proof: the columns, then the batch's proof."""
        proof = (columns_step(columns_text(self.columns)), *self.proof)
        return [SignedReceipt(r, self.signature, proof) for r in self.receipts]

    def open(self, public: Ed25519PublicKey) -> list[SignedReceipt] | None:
        """:meth:`signed` when ``public`` signed this batch; None when it did not."""
        return self.signed() if self.verify(public) else None


def columns_of(rows: list[tuple]) -> tuple[list[int], list[int], list[int], list[int]]:
    """The columns of rows a hub issued (receipts.ROW_FIELDS)."""
    return tuple([r[i] for r in rows] for i in (ROW_FID, ROW_ATTEMPT, ROW_CPU_US,
                                                 ROW_ISSUED_S))
