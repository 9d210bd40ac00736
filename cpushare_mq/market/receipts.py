"""Receipts: what a hub signs for each result it pays for.

A receipt names the job, fragment and attempt, the worker key paid, the CPU time paid for
(whole microseconds), the price per CPU-hour with its currency, and the amount. The hub
signs its canonical bytes with its Ed25519 key; the worker verifies the signature with the
hub's public key before it keeps the receipt, so hub ledger and worker earnings are two
copies of the same signed records and reconcile exactly.

Canonical bytes (:func:`claim_bytes`): the domain ``b"cpushare-mq/receipt/v1\\0"``, then each
field in the order of :data:`FIELDS` as a u32 little-endian length and its UTF-8 text
(integers in decimal, amounts as :class:`~decimal.Decimal` strings). Nothing here trusts its
input: :meth:`Receipt.from_dict` validates every field of a peer's receipt.
"""

from __future__ import annotations

import re
import struct
from dataclasses import asdict, dataclass
from decimal import Decimal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import ProtocolError
from .money import AMOUNT_QUANTUM, Price, cost, decimal_text, parse_amount

__all__ = ["Receipt", "SignedReceipt", "FIELDS", "claim_bytes", "sign_receipt", "verify_receipt"]

DOMAIN = b"cpushare-mq/receipt/v1\0"
FIELDS = ("hub_key", "job_id", "fragment_id", "attempt", "worker_key", "cpu_us", "price",
          "currency", "amount", "issued_s")
_HEX_SIG = re.compile(r"[0-9a-f]{128}")
_SHORT = 128


@dataclass(frozen=True)
class Receipt:
    hub_key: str          # the hub's public signing key (hex), who pays
    job_id: str
    fragment_id: int
    attempt: int
    worker_key: str       # the worker key paid
    cpu_us: int           # CPU time paid for
    price: str            # per CPU-hour (a decimal string)
    currency: str
    amount: str           # price x cpu_us / 3.6e9, rounded half-even to 1e-9
    issued_s: int         # whole seconds since the epoch

    @classmethod
    def issue(cls, hub_key: str, job_id: str, fragment_id: int, attempt: int, worker_key: str,
              cpu_us: int, price: Price, issued_s: int) -> Receipt:
        return cls(hub_key, job_id, fragment_id, attempt, worker_key, cpu_us,
                   decimal_text(price.per_cpu_hour), price.currency,
                   decimal_text(cost(price, cpu_us)), issued_s)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: object) -> Receipt:
        """Validate a receipt from a peer or a file; raise :class:`ProtocolError`."""
        if not isinstance(d, dict) or set(d) != set(FIELDS):
            raise ProtocolError(f"a receipt must be an object with exactly the fields {FIELDS}")
        for name in ("hub_key", "job_id", "worker_key", "currency"):
            v = d[name]
            if type(v) is not str or not 0 < len(v) <= _SHORT:
                raise ProtocolError(f"receipt {name} must be a string of 1-{_SHORT} characters")
        for name in ("fragment_id", "attempt", "cpu_us", "issued_s"):
            v = d[name]
            if type(v) is not int or not 0 <= v < 2**63:
                raise ProtocolError(f"receipt {name} must be a non-negative integer")
        try:
            price = parse_amount(d["price"], "receipt price")
            amount = parse_amount(d["amount"], "receipt amount")
        except Exception as exc:  # ConfigError from the parser: a peer's bad field
            raise ProtocolError(str(exc)) from exc
        if amount != cost(Price(price, d["currency"]), d["cpu_us"]):
            raise ProtocolError("receipt amount is not price x cpu_us / 3.6e9")
        return cls(**{**d, "price": decimal_text(price), "amount": decimal_text(amount)})

    @property
    def amount_decimal(self) -> Decimal:
        return Decimal(self.amount).quantize(AMOUNT_QUANTUM)


@dataclass(frozen=True)
class SignedReceipt:
    receipt: Receipt
    signature: str

    def to_dict(self) -> dict:
        return {**self.receipt.to_dict(), "signature": self.signature}

    @classmethod
    def from_dict(cls, d: object) -> SignedReceipt:
        if not isinstance(d, dict) or type(d.get("signature")) is not str:
            raise ProtocolError("a signed receipt must be an object with a 'signature' string")
        body = {k: v for k, v in d.items() if k != "signature"}
        return cls(Receipt.from_dict(body), d["signature"])


def canonical_bytes(domain: bytes, record: object, names: tuple[str, ...]) -> bytes:
    """The bytes a market record is signed over: ``domain``, then each named field as a u32
    little-endian length and its UTF-8 text (receipts here, offers in :mod:`.offers`)."""
    out = [domain]
    for name in names:
        data = str(getattr(record, name)).encode()
        out.append(struct.pack("<I", len(data)) + data)
    return b"".join(out)


def claim_bytes(r: Receipt) -> bytes:
    return canonical_bytes(DOMAIN, r, FIELDS)


def sign_receipt(r: Receipt, key: Ed25519PrivateKey) -> str:
    return key.sign(claim_bytes(r)).hex()


def verify_receipt(r: Receipt, signature: str, public: Ed25519PublicKey) -> bool:
    """True when ``signature`` (hex) is ``public``'s signature of ``r``."""
    if type(signature) is not str or not _HEX_SIG.fullmatch(signature):
        return False
    try:
        public.verify(bytes.fromhex(signature), claim_bytes(r))
    except InvalidSignature:
        return False
    return True
