"""Signed results: a worker signs what it claims, so a wrong result is evidence against its key.

The claim is (fragment_id, attempt, sha256 of the whole uncompressed result, outcome name).
Its canonical bytes are fixed-width and unambiguous::

    b"cpushare-mq/result/v1\\0" | u64 fragment_id | u32 attempt | 32 bytes sha256
                                | u8 len(outcome) | outcome (ASCII)

(big-endian integers). The signature is Ed25519 over those bytes, sent as 128 hex digits in
``RESULT_END.signature``. The hub verifies it against the signing half of the worker's key
(:func:`cpushare_mq.trust.keys.parse_worker_key`) and stores it with the result.

FAILURE reports are signed the same way (``FAILURE.signature``, when the hub accepted the
protocol feature ``signed_failures``): the claim is (fragment_id, attempt,
:data:`EMPTY_SHA256`, the failure's outcome name) -- a failure carries no result, so its
digest is that of the empty output. The outcome name is never ``ok`` for a failure, so a
signed failure cannot pass for a signed (empty) result, nor the other way round. The exit
code and message of a failure are not covered.

Batch signatures (protocol feature ``batch_signature``): a worker may sign all the results
of one ``RESULT_BATCH`` with ONE signature (``RESULT_BATCH.signature``; the items then carry
``""``). The batch claim is::

    b"cpushare-mq/batch/v1\\0" | u32 count | claim 1 | claim 2 | ... | claim count

where claim i is exactly ``canonical_result_bytes(...)`` of item i, in message order (each
starts with the result domain and carries its own outcome length, so the concatenation has
only one reading; :func:`parse_batch_claim` reads it back, strictly). Changing, adding,
dropping or reordering any item changes the bytes, hence breaks the signature. The batch
domain differs from the result domain, so a batch signature never passes for a single
result's, nor the other way round (a batch of one included). The hub keeps the claim bytes
and the signature once per batch; each result of the batch stays provable: verify the batch
signature over the stored claim, then find the result's exact claim in it.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..outcome import Outcome
from .errors import BadSignature

__all__ = ["RESULT_DOMAIN", "BATCH_DOMAIN", "canonical_result_bytes", "canonical_batch_bytes",
           "parse_batch_claim", "ResultSigner", "verify_result", "verify_batch",
           "verify_batch_claim", "SIGNATURE_HEX_CHARS", "EMPTY_SHA256", "MAX_BATCH_ITEMS"]

RESULT_DOMAIN = b"cpushare-mq/result/v1\x00"
BATCH_DOMAIN = b"cpushare-mq/batch/v1\x00"
#: the most results one batch claim may cover (the protocol allows 1024 per RESULT_BATCH)
MAX_BATCH_ITEMS = 65536
SIGNATURE_HEX_CHARS = 128
#: the digest a FAILURE report's signature covers: sha256 of the empty output
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
_HEAD = struct.Struct(">QI")
_COUNT = struct.Struct(">I")
#: (fragment_id, attempt, sha256 hex, outcome) of one result
Claim = tuple[int, int, str, "Outcome | str"]
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_SIG_RE = re.compile(r"[0-9a-f]{128}")
#: outcome name (an Outcome is a str, so it finds its own) -> u8 length | ASCII name
_OUTCOME_TAIL = {o.value: bytes([len(o.value)]) + o.value.encode("ascii") for o in Outcome}


def canonical_result_bytes(fragment_id: int, attempt: int, sha256_hex: str,
                           outcome: Outcome | str) -> bytes:
    """The exact bytes a result signature covers. Raises :class:`BadSignature` (a
    :class:`~cpushare_mq.errors.ProtocolError`) when a field is out of range."""
    if type(fragment_id) is not int or not 0 <= fragment_id < 2**64:
        raise BadSignature(f"fragment_id {fragment_id!r} is not an integer in [0, 2**64)")
    if type(attempt) is not int or not 0 <= attempt < 2**32:
        raise BadSignature(f"attempt {attempt!r} is not an integer in [0, 2**32)")
    if type(sha256_hex) is not str or not _SHA_RE.fullmatch(sha256_hex):
        raise BadSignature("sha256 must be 64 lowercase hex digits")
    tail = _OUTCOME_TAIL.get(outcome) if isinstance(outcome, str) else None
    if tail is None:
        raise BadSignature(f"unknown outcome {str(outcome)[:40]!r}")
    return RESULT_DOMAIN + _HEAD.pack(fragment_id, attempt) + bytes.fromhex(sha256_hex) + tail


def canonical_batch_bytes(items: Sequence[Claim]) -> bytes:
    """The exact bytes a batch signature covers: the batch domain, the number of items and
    each item's :func:`canonical_result_bytes`, in order. Raises :class:`BadSignature` when
    there are no items, too many, or an item is out of range."""
    n = len(items)
    if not 1 <= n <= MAX_BATCH_ITEMS:
        raise BadSignature(f"a batch claim covers 1..{MAX_BATCH_ITEMS} results, not {n}")
    return (BATCH_DOMAIN + _COUNT.pack(n)
            + b"".join([canonical_result_bytes(*item) for item in items]))


def parse_batch_claim(claim: bytes) -> list[tuple[int, int, str, str]]:
    """The (fragment_id, attempt, sha256, outcome name) items of a batch claim, in order.
    Strict: the claim must be exactly what :func:`canonical_batch_bytes` makes of them
    (domain, count, each item well formed, nothing after the last); raises
    :class:`BadSignature` naming what is wrong."""
    if type(claim) is not bytes or not claim.startswith(BATCH_DOMAIN):
        raise BadSignature("not a batch claim (wrong domain)")
    pos = len(BATCH_DOMAIN)
    if len(claim) < pos + _COUNT.size:
        raise BadSignature("batch claim is truncated before its count")
    (n,) = _COUNT.unpack_from(claim, pos)
    pos += _COUNT.size
    if not 1 <= n <= MAX_BATCH_ITEMS:
        raise BadSignature(f"batch claim counts {n} results, not 1..{MAX_BATCH_ITEMS}")
    fixed = len(RESULT_DOMAIN) + _HEAD.size + 32
    out = []
    for i in range(n):
        if claim[pos:pos + len(RESULT_DOMAIN)] != RESULT_DOMAIN or len(claim) < pos + fixed + 1:
            raise BadSignature(f"batch claim item {i} is truncated or has the wrong domain")
        fid, attempt = _HEAD.unpack_from(claim, pos + len(RESULT_DOMAIN))
        sha = claim[pos + fixed - 32:pos + fixed].hex()
        name_len = claim[pos + fixed]
        raw_name = claim[pos + fixed + 1:pos + fixed + 1 + name_len]
        if len(raw_name) != name_len:
            raise BadSignature(f"batch claim item {i} is truncated in its outcome")
        try:
            name = Outcome(raw_name.decode("ascii")).value
        except (UnicodeDecodeError, ValueError):
            raise BadSignature(f"batch claim item {i} has an unknown outcome") from None
        out.append((fid, attempt, sha, name))
        pos += fixed + 1 + name_len
    if pos != len(claim):
        raise BadSignature(f"batch claim has {len(claim) - pos} bytes after its last item")
    return out


class ResultSigner:
    """Signs result claims with a worker's Ed25519 key."""

    def __init__(self, private_key: Ed25519PrivateKey | bytes):
        self._key = (private_key if isinstance(private_key, Ed25519PrivateKey)
                     else Ed25519PrivateKey.from_private_bytes(private_key))

    def sign(self, fragment_id: int, attempt: int, sha256_hex: str,
             outcome: Outcome | str = Outcome.OK) -> str:
        """The hex signature to put in ``RESULT_END.signature``."""
        return self._key.sign(canonical_result_bytes(fragment_id, attempt, sha256_hex, outcome)).hex()

    def sign_batch(self, items: Sequence[Claim]) -> str:
        """The hex signature to put in ``RESULT_BATCH.signature``: one for all ``items``
        ((fragment_id, attempt, sha256, outcome) of each result, in message order)."""
        return self._key.sign(canonical_batch_bytes(items)).hex()


def verify_result(sign_public: bytes, signature_hex: str, fragment_id: int, attempt: int,
                  sha256_hex: str, outcome: Outcome | str = Outcome.OK) -> None:
    """Check a result signature; raise :class:`BadSignature` naming what is wrong. Never
    raises anything else on hostile input."""
    if type(signature_hex) is not str or not signature_hex:
        raise BadSignature("result is not signed")
    if not _SIG_RE.fullmatch(signature_hex):
        raise BadSignature(f"signature must be {SIGNATURE_HEX_CHARS} lowercase hex digits")
    if type(sign_public) is not bytes or len(sign_public) != 32:
        raise BadSignature("worker signing key must be 32 bytes")
    message = canonical_result_bytes(fragment_id, attempt, sha256_hex, outcome)
    _verify(sign_public, signature_hex, message,
            f"signature does not verify for fragment {fragment_id} attempt {attempt}")


def verify_batch(sign_public: bytes, signature_hex: str, items: Sequence[Claim]) -> bytes:
    """Check a batch signature over ``items`` (in message order); return the claim bytes it
    covers (what the hub keeps as evidence). Raises only :class:`BadSignature`."""
    _check_signature_form(signature_hex, sign_public, "batch")
    message = canonical_batch_bytes(items)
    _verify(sign_public, signature_hex, message,
            f"batch signature does not verify for its {len(items)} results")
    return message


def verify_batch_claim(sign_public: bytes, signature_hex: str,
                       claim: bytes) -> list[tuple[int, int, str, str]]:
    """Check a batch signature over stored claim bytes; return the claim's items (see
    :func:`parse_batch_claim`). Raises only :class:`BadSignature`."""
    _check_signature_form(signature_hex, sign_public, "batch")
    items = parse_batch_claim(claim)
    _verify(sign_public, signature_hex, claim,
            f"batch signature does not verify for its {len(items)} results")
    return items


def _check_signature_form(signature_hex: str, sign_public: bytes, what: str) -> None:
    if type(signature_hex) is not str or not signature_hex:
        raise BadSignature(f"{what} is not signed")
    if not _SIG_RE.fullmatch(signature_hex):
        raise BadSignature(f"signature must be {SIGNATURE_HEX_CHARS} lowercase hex digits")
    if type(sign_public) is not bytes or len(sign_public) != 32:
        raise BadSignature("worker signing key must be 32 bytes")


def _verify(sign_public: bytes, signature_hex: str, message: bytes, why: str) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(sign_public).verify(bytes.fromhex(signature_hex), message)
    except InvalidSignature:
        raise BadSignature(why) from None
    except ValueError as exc:        # malformed public key
        raise BadSignature(f"worker signing key is invalid: {exc}") from None
