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

One signature per batch (:func:`sign_batch`): the hub signs, once per turn of its loop, the
root of a Merkle tree whose leaves are the turn's receipts, ``sha256(0x00 || claim_bytes)``;
an inner node is ``sha256(0x01 || left || right)`` (an odd node goes up as it is). Each
receipt carries that signature and its *proof*: the sibling hashes from its leaf to the
root, each as ``"l"`` or ``"r"`` (the sibling's side) and 64 hex digits. The signed bytes
are ``b"cpushare-mq/receipts-root/v1\\0" || root``. A receipt without a proof (the first
ledgers) is a signature of its claim bytes alone. A receipt of a batch sent as columns
(columnbatch.py) has no leaf: its proof starts with its batch's columns, whose root stands
in the tree for all of them (columnroot.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import struct
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import ProtocolError
from .columnroot import COLUMNS_STEP, step_root
from .money import Price, amount_decimal, amount_text, decimal_text, parse_amount

__all__ = ["Receipt", "SignedReceipt", "FIELDS", "ROW_FIELDS", "MAX_BATCH_PROOF", "check_seal",
           "check_text", "checked_price", "claim_bytes", "issued_row",
           "sign_receipt", "sign_batch", "verify_receipt", "proof_root", "merkle", "merkle_root",
           "leaf", "leaf_around", "leaf_at", "node", "walk", "HEX_SIGNATURE",
           "PROOF_STEP"]

DOMAIN = b"cpushare-mq/receipt/v1\0"
FIELDS = ("hub_key", "job_id", "fragment_id", "attempt", "worker_key", "cpu_us", "price",
          "currency", "amount", "issued_s")
#: a receipt's fields but its hub's and worker's keys, in order: the *row* a hub issues,
#: stores and sends in a batch (receiptbatch.py), which names the two keys once
ROW_FIELDS = ("job_id", "fragment_id", "attempt", "cpu_us", "price", "currency", "amount",
              "issued_s")
#: where each field sits in a row (receiptbatch.py, columnbatch.py)
ROW_JOB, ROW_FID, ROW_ATTEMPT, ROW_CPU_US, ROW_PRICE, ROW_CURRENCY, ROW_AMOUNT, ROW_ISSUED_S = (
    range(len(ROW_FIELDS)))
HEX_SIGNATURE = re.compile(r"[0-9a-f]{128}")
ROOT_DOMAIN = b"cpushare-mq/receipts-root/v1\0"
PROOF_STEP = re.compile(r"[lr][0-9a-f]{64}")
MAX_PROOF = 40                 # a tree of up to 2**40 receipts
_U32 = struct.Struct("<I").pack
_SHORT = 128
_LEAF_HEAD = b"\x00" + DOMAIN
_sha256 = hashlib.sha256


class Receipt(NamedTuple):
    """One receipt's fields (a named tuple: one is made for every paid result, on both
    sides, and a frozen dataclass of ten fields costs several times as much to make)."""

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
        job_id, fragment_id, attempt, cpu_us, price_text, currency, amount, issued_s = (
            issued_row(job_id, fragment_id, attempt, cpu_us, price, issued_s))
        return cls(hub_key, job_id, fragment_id, attempt, worker_key, cpu_us, price_text,
                   currency, amount, issued_s)

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in FIELDS}    # (asdict deep-copies)

    @classmethod
    def from_dict(cls, d: object) -> Receipt:
        """Validate a receipt from a peer or a file; raise :class:`ProtocolError`."""
        if not isinstance(d, dict) or set(d) != set(FIELDS):
            raise ProtocolError(f"a receipt must be an object with exactly the fields {FIELDS}")
        return cls.checked(*(d[name] for name in FIELDS))

    @classmethod
    def checked(cls, hub_key: object, job_id: object, fragment_id: object, attempt: object,
                worker_key: object, cpu_us: object, price: object, currency: object,
                amount: object, issued_s: object) -> Receipt:
        """The one validation of a receipt's fields (in the order of :data:`FIELDS`), from
        a peer or a file: every field typed and bounded, ``amount`` = price x cpu_us /
        3.6e9. Raises :class:`ProtocolError` naming the field."""
        for name, v in (("hub_key", hub_key), ("job_id", job_id), ("worker_key", worker_key),
                        ("currency", currency)):
            check_text(name, v)
        for name, v in (("fragment_id", fragment_id), ("attempt", attempt), ("cpu_us", cpu_us),
                        ("issued_s", issued_s)):
            if type(v) is not int or not 0 <= v < 2**63:
                raise ProtocolError(f"receipt {name} must be a non-negative integer")
        price_text = checked_price(price)
        paid = amount_text(price_text, cpu_us)
        if amount != paid:      # the hub's text form, else the same number written otherwise
            written = _amount(amount, "receipt amount")
            if written != Decimal(paid):
                raise ProtocolError("receipt amount is not price x cpu_us / 3.6e9")
            paid = decimal_text(written)
        return cls(hub_key, job_id, fragment_id, attempt, worker_key, cpu_us, price_text,
                   currency, paid, issued_s)

    @property
    def amount_decimal(self) -> Decimal:
        return amount_decimal(self.amount)


def check_text(name: str, v: object) -> None:
    """A receipt's text field ``name``: a string of 1-128 characters that UTF-8 can spell
    (JSON may escape a lone surrogate, which it cannot), or :class:`ProtocolError`."""
    if type(v) is not str or not 0 < len(v) <= _SHORT:
        raise ProtocolError(f"receipt {name} must be a string of 1-{_SHORT} characters")
    if not v.isascii():
        try:
            v.encode()
        except UnicodeEncodeError:
            raise ProtocolError(f"receipt {name} is not UTF-8 text (it holds a lone "
                                "surrogate)") from None


def issued_row(job_id: str, fragment_id: int, attempt: int, cpu_us: int, price: Price,
               issued_s: int) -> tuple:
    """A receipt as its hub issues it, a row of :data:`ROW_FIELDS` (a plain tuple: the hub
    makes one for every paid result): the price's one text form and the amount it makes."""
    price_text = _price_of(price)
    return (job_id, fragment_id, attempt, cpu_us, price_text, price.currency,
            amount_text(price_text, cpu_us), issued_s)


@dataclass(frozen=True)
class SignedReceipt:
    receipt: Receipt
    signature: str
    proof: tuple[str, ...] | None = None    # Merkle path to the signed root (None: v1)

    def to_dict(self) -> dict:
        d = {**self.receipt.to_dict(), "signature": self.signature}
        if self.proof is not None:
            d["proof"] = list(self.proof)
        return d

    @classmethod
    def from_dict(cls, d: object) -> SignedReceipt:
        if not isinstance(d, dict) or type(d.get("signature")) is not str:
            raise ProtocolError("a signed receipt must be an object with a 'signature' string")
        proof = d.get("proof")
        if proof is not None and not _proof_form(proof):
            raise ProtocolError(f"receipt proof must be a list of at most {MAX_PROOF} "
                                "'l'/'r' + 64-hex-digit steps, the first of them may be its "
                                "batch's columns ('c' + base64)")
        body = {k: v for k, v in d.items() if k not in ("signature", "proof")}
        return cls(Receipt.from_dict(body), d["signature"],
                   None if proof is None else tuple(proof))

    @classmethod
    def from_stored(cls, body: str, signature: str, proof: str | None) -> SignedReceipt:
        """A receipt kept alone in a ledger or earnings file (its body and proof as JSON
        text), validated like a peer's; raise :class:`ProtocolError` when it is damaged."""
        try:
            d = {**json.loads(body), "signature": signature}
            if proof is not None:
                d["proof"] = json.loads(proof)
        except (ValueError, TypeError) as exc:
            raise ProtocolError(f"a stored receipt is not a JSON object: {exc}") from exc
        return cls.from_dict(d)


#: a batch's own proof (from its root to the signed root) leaves room for the steps inside
#: it (2**8 = 256 receipts), so each receipt's whole proof stays within MAX_PROOF
MAX_BATCH_PROOF = MAX_PROOF - 8


def check_seal(signature: object, proof: object) -> None:
    """A peer's batch's signature and its proof to the signed root, well formed, or
    :class:`ProtocolError` (one line): batches of rows and of columns alike."""
    if type(signature) is not str or not HEX_SIGNATURE.fullmatch(signature):
        raise ProtocolError("receipt batch signature must be 128 hex digits")
    if type(proof) is not list or len(proof) > MAX_BATCH_PROOF or not all(
            type(s) is str and PROOF_STEP.fullmatch(s) for s in proof):
        raise ProtocolError(f"receipt batch proof must be a list of at most {MAX_BATCH_PROOF} "
                            "'l'/'r' + 64-hex-digit steps")


def _proof_form(proof: object) -> bool:
    """Is ``proof`` a well-formed proof: sibling steps, after its batch's columns (a
    receipt sent in columns: columnroot.py)?"""
    if type(proof) is not list or len(proof) > MAX_PROOF:
        return False
    steps = proof[1:] if proof and type(proof[0]) is str and proof[0][:1] == "c" else proof
    return (len(steps) == len(proof) or COLUMNS_STEP.fullmatch(proof[0]) is not None) and all(
        type(s) is str and PROOF_STEP.fullmatch(s) for s in steps)


def canonical_bytes(domain: bytes, record: object, names: tuple[str, ...]) -> bytes:
    """The bytes a market record is signed over: ``domain``, then each named field as a u32
    little-endian length and its UTF-8 text (receipts here, offers in :mod:`.offers`)."""
    out = [domain]
    for name in names:
        data = str(getattr(record, name)).encode()
        out.append(_U32(len(data)))
        out.append(data)
    return b"".join(out)


def claim_bytes(r: Receipt) -> bytes:
    """:func:`canonical_bytes` of a receipt (written out: it is on the path of every paid
    result, on both sides; a test holds the two equal)."""
    return b"".join(_claim_parts(DOMAIN, r))


def _claim_parts(head: bytes, r: Receipt) -> tuple[bytes, ...]:
    return (head, _text(r.hub_key), _text(r.job_id), _number(r.fragment_id),
            _number(r.attempt), _text(r.worker_key), _number(r.cpu_us), _text(r.price),
            _text(r.currency), _fresh_text(r.amount), _number(r.issued_s))


@functools.lru_cache(maxsize=4096)
def _text(text: str) -> bytes:
    """A length-prefixed text that repeats from receipt to receipt (keys, job ids, prices,
    currencies), remembered (bounded: a peer's values may churn it, not grow it)."""
    return _fresh_text(text)


def _fresh_text(text: str) -> bytes:
    data = text.encode()
    return _U32(len(data)) + data


def _number(n: int) -> bytes:
    data = b"%d" % n
    return _U32(len(data)) + data


def sign_receipt(r: Receipt, key: Ed25519PrivateKey) -> str:
    """A v1 signature: of ``r``'s claim bytes alone (tests; the hub signs batches)."""
    return key.sign(claim_bytes(r)).hex()


def _amount(text: object, what: str) -> Decimal:
    try:
        return parse_amount(text, what)
    except Exception as exc:  # ConfigError from the parser: a peer's bad field
        raise ProtocolError(str(exc)) from exc


def checked_price(text: object) -> str:
    """A receipt's price in its one text form, or :class:`ProtocolError`."""
    if type(text) is not str:      # (not remembered: the parser refuses it, one line)
        return decimal_text(_amount(text, "receipt price"))
    return _price_text(text)


@functools.lru_cache(maxsize=256)
def _price_of(price: Price) -> str:
    """A price's text as receipts carry it (remembered: a hub issues many at each price)."""
    return decimal_text(price.per_cpu_hour)


@functools.lru_cache(maxsize=4096)
def _price_text(text: str) -> str:
    return decimal_text(_amount(text, "receipt price"))


def leaf(r: Receipt) -> bytes:
    """The Merkle leaf of ``r``: ``sha256(0x00 || claim bytes)``."""
    return _sha256(b"".join(_claim_parts(_LEAF_HEAD, r))).digest()


_FID = FIELDS.index("fragment_id")
_AT_FID = 1 + _FID      # in _claim_parts: the head, then each field


def leaf_around(r: Receipt) -> tuple[bytes, bytes]:
    """What :func:`leaf` hashes before and after ``r``'s fragment id: receipts that differ in
    their fragment ids alone (a batch's rows, mostly) share them (:func:`leaf_at`;
    receiptbatch.row_leaves)."""
    parts = _claim_parts(_LEAF_HEAD, r)
    return b"".join(parts[:_AT_FID]), b"".join(parts[_AT_FID + 1:])


def leaf_at(around: tuple[bytes, bytes], fragment_id: int) -> bytes:
    """The leaf of the receipt :func:`leaf_around` gave ``around`` for, with ``fragment_id``:
    ``leaf_at(leaf_around(r), r.fragment_id) == leaf(r)``."""
    return _sha256(around[0] + _number(fragment_id) + around[1]).digest()


_NODE = b"\x01"


def node(left: bytes, right: bytes) -> bytes:
    return _sha256(_NODE + left + right).digest()


def merkle(leaves: list[bytes]) -> tuple[bytes, list[list[str]]]:
    """The root over ``leaves`` (at least one) and each leaf's proof (its sibling steps)."""
    level, proofs, pos = leaves, [[] for _ in leaves], list(range(len(leaves)))
    while len(level) > 1:
        for i, p in enumerate(pos):
            sib = p ^ 1
            if sib < len(level):
                proofs[i].append(("l" if sib < p else "r") + level[sib].hex())
            pos[i] = p // 2
        level = [node(level[j], level[j + 1]) if j + 1 < len(level) else level[j]
                 for j in range(0, len(level), 2)]
    return level[0], proofs


def merkle_root(leaves: list[bytes]) -> bytes:
    """:func:`merkle`'s root alone (no proofs: what a verifier needs)."""
    level = leaves
    while (n := len(level)) > 1:           # (node() written out: on every result's path)
        level = [_sha256(_NODE + level[j] + level[j + 1]).digest() if j + 1 < n else level[j]
                 for j in range(0, n, 2)]
    return level[0]


def sign_batch(receipts: list[Receipt], key: Ed25519PrivateKey) -> list[SignedReceipt]:
    """One signature for all of ``receipts``: each gets it with its Merkle proof. (The hub
    signs its turns with :func:`~.receiptbatch.sign_batches`, whose receipts verify alike.)"""
    if not receipts:
        return []
    root, proofs = merkle([leaf(r) for r in receipts])
    signature = key.sign(ROOT_DOMAIN + root).hex()
    return [SignedReceipt(r, signature, tuple(p)) for r, p in zip(receipts, proofs, strict=True)]


def proof_root(r: Receipt, proof: tuple[str, ...]) -> bytes | None:
    """The Merkle root ``proof`` leads to from ``r``'s leaf, or from the root of the batch
    whose columns its first step carries (None: they do not hold ``r``)."""
    if proof and proof[0][:1] == "c":
        start = step_root((r.hub_key, r.worker_key, r.job_id, r.price, r.currency),
                          (r.fragment_id, r.attempt, r.cpu_us, r.issued_s), proof[0])
        return None if start is None else walk(start, proof[1:])
    return walk(leaf(r), proof)


def walk(h: bytes, proof: tuple[str, ...] | list[str]) -> bytes:
    """The root ``proof``'s sibling steps lead to from the node ``h``."""
    for step in proof:
        sib = bytes.fromhex(step[1:])
        h = node(sib, h) if step[0] == "l" else node(h, sib)
    return h


def verify_receipt(r: Receipt, signature: str, public: Ed25519PublicKey,
                   proof: tuple[str, ...] | None = None, *, seen: dict | None = None) -> bool:
    """True when ``signature`` (hex) is ``public``'s signature of ``r`` (with ``proof``: of
    the batch root it leads to). ``seen``: as :func:`signed_by`'s."""
    if type(signature) is not str or not HEX_SIGNATURE.fullmatch(signature):
        return False
    if proof is None:
        return signed_by(public, signature, claim_bytes(r), seen)
    root = proof_root(r, proof)
    return root is not None and signed_by(public, signature, ROOT_DOMAIN + root, seen)


#: signatures :func:`signed_by` remembers in one ``seen`` (then it starts again)
_SEEN_MAX = 4096


def signed_by(public: Ed25519PublicKey, signature: str, message: bytes,
              seen: dict | None = None) -> bool:
    """True when ``signature`` (hex) is ``public``'s signature of ``message``. ``seen``
    remembers the answers: one signature covers every batch and receipt of a signing, so a
    checker that meets its root again (the next batch of the same signing) skips the
    Ed25519 check."""
    memo = (public.public_bytes_raw(), message, signature)
    if seen is not None and memo in seen:
        return seen[memo]
    try:
        public.verify(bytes.fromhex(signature), message)
        ok = True
    except InvalidSignature:
        ok = False
    if seen is not None:
        if len(seen) >= _SEEN_MAX:
            seen.clear()
        seen[memo] = ok
    return ok
