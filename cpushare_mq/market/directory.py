"""The market's directory of offers (pure core of ``cpushare-market serve``).

Events in with the time, answers out; no sockets, no SQL, no clock:

* :meth:`Directory.handle` takes one decoded message from a peer (its authenticated CURVE
  key, or ``None`` on a plain connection) and returns the reply ``(type, body)``, or
  ``None`` when the peer is over its budget and was already told so (a flood costs the
  market a dictionary lookup per message, and never an answer);
* :meth:`Directory.expire` drops offers whose hub stopped renewing them.

Rules: an offer is admitted only from the peer authenticated with the offer's ``hub_key``
(a hub publishes for itself, one offer per hub, a new one replaces the old), with a valid
signature by the ``sign_key`` first pinned for that hub, not expired, and lives until
``min(ttl_s, MAX_TTL_S)`` after it arrived (the market's clock). Every peer has its own
token bucket; nobody's flood uses up another peer's budget. Offers are kept in memory and
written through by the shell (market/server.py) to SQLite, so a restarted market keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..errors import ConfigError, ProtocolError
from ..trust.ratelimit import RateLimiter
from .money import parse_amount
from .offers import MAX_OFFER_BYTES, MAX_TTL_S, Offer
from .wire import MAX_LIST_OFFERS, MarketMsg

__all__ = ["Directory", "DirectoryPolicy", "Stored"]


@dataclass(frozen=True)
class DirectoryPolicy:
    max_offers: int = 10_000          # hubs listed at once
    rate_per_s: float = 5.0           # messages per peer per second ...
    burst: float = 20.0               # ... saved up at most
    skew_s: float = 120.0             # clock difference tolerated between a hub and us


@dataclass(frozen=True)
class Stored:
    offer: Offer
    expires_at: float                 # the market's monotonic clock


class Directory:
    def __init__(self, policy: DirectoryPolicy | None = None):
        self.policy = policy or DirectoryPolicy()
        self.offers: dict[str, Stored] = {}         # hub_key -> offer
        self.pinned: dict[str, str] = {}            # hub_key -> sign_key first seen
        self.limits = RateLimiter(self.policy.rate_per_s, self.policy.burst, max_peers=100_000)
        self._told: set[object] = set()             # peers told they are over budget
        self.refused = 0

    # -- events -----------------------------------------------------------------------

    def handle(self, peer: object, curve_key: str | None, mtype: MarketMsg, body: dict,
               now: float, wall_s: float) -> tuple[MarketMsg, dict] | None:
        over = self._over_budget(peer, now)
        if over is not False:
            return over
        try:
            if mtype is MarketMsg.PUBLISH:
                return self._publish(curve_key, body, now, wall_s)
            if mtype is MarketMsg.WITHDRAW:
                return self._withdraw(curve_key)
            if mtype is MarketMsg.LIST:
                return self._list(body, now)
            raise ProtocolError(f"{mtype.name} is not something a peer sends to the market")
        except ProtocolError as exc:
            return self._error("malformed", str(exc))

    def undecodable(self, peer: object, reason: str, now: float) -> tuple[MarketMsg, dict] | None:
        """A message from ``peer`` that could not be decoded (``reason``): counted against
        its budget like any other, refused with the reason."""
        over = self._over_budget(peer, now)
        return self._error("malformed", reason) if over is False else over

    def _over_budget(self, peer: object, now: float):
        """False when ``peer`` may send this message; else the one refusal it gets for a
        burst (then None: dropped unanswered)."""
        if self.limits.allow(peer, now):
            self._told.discard(peer)
            return False
        if peer in self._told:
            return None
        if len(self._told) > 100_000:
            self._told.clear()
        self._told.add(peer)
        return self._error("rate_limited", "too many messages: at most "
                           f"{self.policy.rate_per_s:g} per second; slow down")

    def expire(self, now: float) -> list[str]:
        gone = [k for k, s in self.offers.items() if s.expires_at <= now]
        for k in gone:
            del self.offers[k]
        return gone

    def restore(self, offer: Offer, expires_at: float) -> None:
        """An offer read back from the shell's SQLite at start (already checked once)."""
        self.offers[offer.hub_key] = Stored(offer, expires_at)
        self.pinned.setdefault(offer.hub_key, offer.sign_key)

    # -- messages ---------------------------------------------------------------------

    def _error(self, code: str, message: str) -> tuple[MarketMsg, dict]:
        self.refused += 1
        return MarketMsg.ERROR, {"code": code, "message": message[:300]}

    def _publish(self, curve_key, body, now, wall_s):
        if set(body) != {"offer"}:
            raise ProtocolError("PUBLISH carries exactly one field, offer")
        if len(repr(body["offer"])) > MAX_OFFER_BYTES:
            raise ProtocolError(f"offer larger than {MAX_OFFER_BYTES} bytes")
        offer = Offer.from_dict(body["offer"])
        if curve_key is None:
            return self._error("forbidden", "offers are taken only over CURVE, from the hub "
                               "whose key they name")
        if curve_key != offer.hub_key:
            return self._error("forbidden", "this offer names another hub's key: a hub "
                               "publishes only its own offer (connect with its key pair)")
        pinned = self.pinned.get(offer.hub_key)
        if pinned is not None and pinned != offer.sign_key:
            return self._error("forbidden", "offer signed with another key than this hub's "
                               "earlier offers")
        if not offer.verify():
            return self._error("bad_signature", "the offer's signature does not verify")
        if offer.expired(wall_s, self.policy.skew_s) or \
                offer.issued_s > wall_s + self.policy.skew_s:
            return self._error("expired", "the offer is expired or issued in the future: "
                               "check the hub's clock")
        if offer.hub_key not in self.offers and len(self.offers) >= self.policy.max_offers:
            return self._error("full", "the market lists as many hubs as it takes; try later")
        ttl = min(offer.ttl_s, MAX_TTL_S)
        self.pinned.setdefault(offer.hub_key, offer.sign_key)
        self.offers[offer.hub_key] = Stored(offer, now + ttl)
        return MarketMsg.OK, {"expires_in_s": ttl}

    def _withdraw(self, curve_key):
        if curve_key is None or curve_key not in self.offers:
            return self._error("not_found", "no offer of this hub is listed")
        del self.offers[curve_key]
        return MarketMsg.OK, {"expires_in_s": 0}

    def _list(self, body, now):
        if not set(body) <= {"currency", "min_price"}:
            raise ProtocolError("LIST takes only currency and min_price")
        currency = body.get("currency", "")
        if type(currency) is not str or len(currency) > 16:
            raise ProtocolError("LIST currency must be a label of at most 16 characters")
        try:
            min_price = parse_amount(body.get("min_price", "0"), "LIST min_price")
        except ConfigError as exc:
            raise ProtocolError(str(exc)) from exc
        live = [s for s in self.offers.values() if s.expires_at > now
                and (not currency or s.offer.currency == currency)
                and Decimal(s.offer.price) >= min_price]
        live.sort(key=lambda s: (-Decimal(s.offer.price), s.offer.hub_key))
        live = live[:MAX_LIST_OFFERS]
        return MarketMsg.OFFERS, {"offers": [s.offer.to_dict() for s in live],
                                  "expires_in_s": [max(1, int(s.expires_at - now)) for s in live]}
