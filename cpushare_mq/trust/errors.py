"""Errors of the trust layer (each derives from one of :mod:`cpushare_mq.errors`)."""

from __future__ import annotations

from ..errors import ConfigError, ProtocolError


class KeyFileError(ConfigError):
    """Raised when a key file or key string is missing, unreadable or malformed (not a Z85
    CURVE key, secret and public key that do not match, a bad signing key)."""


class InsecureKeyFile(KeyFileError):
    """Raised when a secret key file can be read by group or others, or is owned by another
    user: it is refused rather than used (fix with ``chmod 600 FILE``)."""


class BadSignature(ProtocolError):
    """Raised when a result signature from a worker is malformed or does not verify against
    the worker's public signing key for the claimed (fragment, attempt, sha256, outcome)."""


class BadWorkerKey(ProtocolError):
    """Raised when a worker key announced on the wire (``HELLO.worker_key``) is not of the form
    ``<CURVE public key, Z85>_<Ed25519 public key, hex>``."""
