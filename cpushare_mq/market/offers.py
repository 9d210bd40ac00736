"""Offers: what a hub publishes on a market, signed.

An offer says: *the hub holding the CURVE key* ``hub_key`` *takes workers at* ``endpoint``
*and pays* ``price`` ``currency`` *per CPU-hour; it has* ``work`` *fragments waiting*. It is
valid for ``ttl_s`` seconds from ``issued_s`` (whole seconds since the epoch, the hub's
clock); the hub renews it well before that, and a hub that stops renewing drops off.

The hub signs it with an Ed25519 key derived from its CURVE secret key
(:func:`offer_signing_key`: no extra key file), whose public half travels in the offer
(``sign_key``). Canonical bytes (:func:`claim_bytes`): the domain
``b"cpushare-mq/offer/v1\\0"``, then each field of :data:`SIGNED` in order as a u32
little-endian length and its UTF-8 text (integers in decimal). The market admits an offer
only over a CURVE connection authenticated with ``hub_key`` itself and pins the first
``sign_key`` it sees for that hub, so an offer reaching a worker was made by the holder of
``hub_key``'s secret and not changed since. :meth:`Offer.from_dict` trusts nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from zmq.utils import z85

from ..errors import ConfigError, ProtocolError
from .money import MAX_PRICE, parse_amount
from .receipts import canonical_bytes

__all__ = ["Offer", "SIGNED", "FIELDS", "claim_bytes", "offer_signing_key", "sign_offer",
           "MAX_TTL_S", "MAX_OFFER_BYTES"]

DOMAIN = b"cpushare-mq/offer/v1\0"
SIGNED = ("hub_key", "sign_key", "endpoint", "price", "currency", "work", "issued_s", "ttl_s")
FIELDS = (*SIGNED, "signature")
MAX_TTL_S = 300               # an offer lives at most 5 minutes without a renewal
MAX_WORK = 10**12
MAX_OFFER_BYTES = 2048        # an offer's JSON, at most
_Z85_KEY = re.compile(r"[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}")
_HEX32 = re.compile(r"[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-f]{128}")
_ENDPOINT = re.compile(r"tcp://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]{1,253}):\d{1,5}")
_CURRENCY = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,15}")


@dataclass(frozen=True)
class Offer:
    hub_key: str          # the hub's CURVE public key (Z85): workers' --hub-key
    sign_key: str         # Ed25519 public key (hex) that signed this offer
    endpoint: str         # tcp://HOST:PORT where workers connect
    price: str            # per CPU-hour (decimal text)
    currency: str         # a label
    work: int             # fragments waiting
    issued_s: int         # whole seconds since the epoch (the hub's clock)
    ttl_s: int            # valid this long after issued_s
    signature: str = ""   # hex Ed25519 signature of claim_bytes()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: object) -> Offer:
        """Validate an offer from a peer; raise :class:`ProtocolError` naming the field."""
        if not isinstance(d, dict) or set(d) != set(FIELDS):
            raise ProtocolError(f"an offer must be an object with exactly the fields "
                                f"{', '.join(FIELDS)}")
        checks = (("hub_key", _Z85_KEY, "a CURVE public key (40 Z85 characters)"),
                  ("sign_key", _HEX32, "an Ed25519 public key (64 hex digits)"),
                  ("endpoint", _ENDPOINT, "tcp://HOST:PORT"),
                  ("currency", _CURRENCY, "a label of 1-16 letters, digits, - or _"),
                  ("signature", _HEX64, "an Ed25519 signature (128 hex digits)"))
        for name, pattern, what in checks:
            v = d[name]
            if type(v) is not str or not pattern.fullmatch(v):
                raise ProtocolError(f"offer {name} must be {what}")
        port = int(d["endpoint"].rsplit(":", 1)[1])
        if not 0 < port < 65536:
            raise ProtocolError("offer endpoint port must be 1-65535")
        for name, hi in (("work", MAX_WORK), ("issued_s", 2**40), ("ttl_s", MAX_TTL_S)):
            v = d[name]
            if type(v) is not int or not 0 <= v <= hi:
                raise ProtocolError(f"offer {name} must be an integer in [0, {hi}]")
        if d["ttl_s"] < 1:
            raise ProtocolError("offer ttl_s must be at least 1")
        try:
            price = parse_amount(d["price"], "offer price")
        except ConfigError as exc:
            raise ProtocolError(str(exc)) from exc
        if price > MAX_PRICE:
            raise ProtocolError(f"offer price is above {MAX_PRICE} per CPU-hour")
        return cls(**d)

    @property
    def price_decimal(self):
        return parse_amount(self.price, "offer price")

    def expired(self, now_wall_s: float, skew_s: float = 0.0) -> bool:
        return now_wall_s > self.issued_s + self.ttl_s + skew_s

    def verify(self) -> bool:
        """True when ``signature`` is ``sign_key``'s signature of this offer."""
        try:
            public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.sign_key))
            public.verify(bytes.fromhex(self.signature), claim_bytes(self))
        except (InvalidSignature, ValueError):
            return False
        return True


def claim_bytes(o: Offer) -> bytes:
    return canonical_bytes(DOMAIN, o, SIGNED)


def offer_signing_key(curve_secret_z85: bytes) -> Ed25519PrivateKey:
    """The hub's offer-signing key, derived from its CURVE secret key (Z85)."""
    raw = z85.decode(curve_secret_z85)
    seed = hashlib.sha256(b"cpushare-mq/offer-signing/v1\0" + raw).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def sign_offer(hub_key: str, key: Ed25519PrivateKey, *, endpoint: str, price: str,
               currency: str, work: int, issued_s: int, ttl_s: int) -> Offer:
    sign_key = key.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw).hex()
    unsigned = Offer(hub_key, sign_key, endpoint, price, currency, work, issued_s, ttl_s)
    return Offer(**{**unsigned.to_dict(), "signature": key.sign(claim_bytes(unsigned)).hex()})
