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
"""

from __future__ import annotations

import re
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..outcome import Outcome
from .errors import BadSignature

__all__ = ["RESULT_DOMAIN", "canonical_result_bytes", "ResultSigner", "verify_result",
           "SIGNATURE_HEX_CHARS", "EMPTY_SHA256"]

RESULT_DOMAIN = b"cpushare-mq/result/v1\x00"
SIGNATURE_HEX_CHARS = 128
#: the digest a FAILURE report's signature covers: sha256 of the empty output
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
_HEAD = struct.Struct(">QI")
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_SIG_RE = re.compile(r"[0-9a-f]{128}")


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
    name = outcome.value if isinstance(outcome, Outcome) else outcome
    try:
        name = Outcome(name).value
    except ValueError:
        raise BadSignature(f"unknown outcome {str(name)[:40]!r}") from None
    raw_name = name.encode("ascii")
    return (RESULT_DOMAIN + _HEAD.pack(fragment_id, attempt) + bytes.fromhex(sha256_hex)
            + bytes([len(raw_name)]) + raw_name)


class ResultSigner:
    """Signs result claims with a worker's Ed25519 key."""

    def __init__(self, private_key: Ed25519PrivateKey | bytes):
        self._key = (private_key if isinstance(private_key, Ed25519PrivateKey)
                     else Ed25519PrivateKey.from_private_bytes(private_key))

    def sign(self, fragment_id: int, attempt: int, sha256_hex: str,
             outcome: Outcome | str = Outcome.OK) -> str:
        """The hex signature to put in ``RESULT_END.signature``."""
        return self._key.sign(canonical_result_bytes(fragment_id, attempt, sha256_hex, outcome)).hex()


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
    try:
        Ed25519PublicKey.from_public_bytes(sign_public).verify(bytes.fromhex(signature_hex), message)
    except InvalidSignature:
        raise BadSignature(
            f"signature does not verify for fragment {fragment_id} attempt {attempt}") from None
    except ValueError as exc:        # malformed public key
        raise BadSignature(f"worker signing key is invalid: {exc}") from None
