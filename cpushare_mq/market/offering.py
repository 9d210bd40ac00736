"""When a hub (re)publishes its offer, and what it says (pure core).

The hub renews its offer every ``renew_s`` (well within its ``ttl_s``, so a lost renewal or
two do not drop it from the market) and at once — but not more often than every
``min_gap_s`` — when something a worker decides on changes: the price, or whether the hub
has work at all. The work count itself changes with every lease and is only refreshed at
renewals. A refused offer (the market said why) is logged once per reason and retried at
the next renewal; nothing here blocks the hub.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OfferPolicy", "Offering"]


@dataclass(frozen=True)
class OfferPolicy:
    renew_s: float = 5.0
    ttl_s: int = 20
    min_gap_s: float = 1.0

    def __post_init__(self):
        if not 0 < self.min_gap_s <= self.renew_s < self.ttl_s:
            raise ValueError("need 0 < min_gap_s <= renew_s < ttl_s")


class Offering:
    def __init__(self, policy: OfferPolicy | None = None):
        self.policy = policy or OfferPolicy()
        self.sent_at: float | None = None
        self.sent: tuple | None = None
        self.last_refusal = ""

    def due(self, now: float, price: str, currency: str, work: int) -> bool:
        """Publish now? (price, currency, work: what the offer would say now)"""
        if self.sent_at is None:
            return True
        since = now - self.sent_at
        if since >= self.policy.renew_s:
            return True
        return since >= self.policy.min_gap_s and self.sent != (price, currency, work > 0)

    def published(self, now: float, price: str, currency: str, work: int) -> None:
        self.sent_at = now
        self.sent = (price, currency, work > 0)

    def refused(self, reason: str) -> bool:
        """The market refused the offer; True when this reason is new (log it)."""
        new = reason != self.last_refusal
        self.last_refusal = reason
        return new

    def accepted(self) -> None:
        self.last_refusal = ""
