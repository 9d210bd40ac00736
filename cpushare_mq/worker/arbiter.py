"""Which hub gets this worker's free slots (pure core of the multi-hub worker).

A seller's worker may serve several hubs at once (``cpushare-worker --hub A --hub-key KA
--hub B --hub-key KB``, or the hubs it finds with ``--market``). Each hub has a price per
CPU-hour (from its signed offer; unknown for a hub without one) and may or may not have
work. The rule, applied whenever anything changes:

1. a fragment that runs keeps its slot: nothing here ever stops one (a better-paying hub
   takes slots only as they free up, at fragment boundaries);
2. a hub is *acceptable* when the worker is connected to it and its price is at or above
   the seller's ``--min-price`` (an unknown price counts as 0);
3. free slots go to acceptable hubs that have work, best price first (ties: the order the
   hubs were given in), each getting at most what it can use (its held leases plus the work
   its offer says is waiting; all free slots when that is unknown); a hub has work until it
   proves *dry* (it held our credit for a while and sent nothing), whatever its offer said;
4. the best hub with work keeps its usual prefetch even when no slot is free (the next
   slots that free up are its); any other hub that gets no slot holds no more leases than
   it runs (its queued ones go back to it, so other workers can run them), except one
   *probe* lease for acceptable hubs without known work that beat every hub with work:
   that is how the worker learns a better hub has work again.

:func:`allot` is the rule; :class:`Dryness` decides, from what a hub did with the credit
it was given, that it has no work. No sockets, no threads, no clock reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["HubView", "Allotment", "allot", "Dryness"]


@dataclass(frozen=True)
class HubView:
    """What the worker knows about one hub right now."""

    order: int                 # tie-break: the order hubs were given in (lower first)
    connected: bool            # its session is up
    running: int               # slots busy with its fragments (never taken away)
    queued: int                # its leases held and waiting for a slot
    price: Decimal | None = None   # per CPU-hour from its offer; None = unknown (counts as 0)
    work: int | None = None    # fragments its offer says are waiting; None = unknown
    dry: bool = False          # asked for work, it sent none for a while (:class:`Dryness`)

    @property
    def more_work(self) -> bool:
        """Might it lease more than it already did? Until it proves dry, yes: an offer's
        count is seconds old, what the hub does with our credit is news."""
        return not self.dry

    def demand(self, total: int) -> int:
        """Slots it could use now: its held leases, plus the work its offer says is
        waiting (all slots when that is unknown or stale at 0)."""
        if not self.more_work:
            return self.queued
        return self.queued + (self.work if self.work else total)

    @property
    def has_work(self) -> bool:
        return self.queued > 0 or self.more_work


@dataclass(frozen=True)
class Allotment:
    """What one hub may use: run at most ``slots`` of its fragments at once, and hold at
    most ``hold`` leases in all (``None``: as many as the worker's prefetch wants)."""

    slots: int
    hold: int | None


def _rank_price(h: HubView) -> Decimal:
    return h.price if h.price is not None else Decimal(0)


def acceptable(h: HubView, min_price: Decimal) -> bool:
    return h.connected and _rank_price(h) >= min_price


def allot(total: int, hubs: dict[str, HubView], min_price: Decimal = Decimal(0)
          ) -> dict[str, Allotment]:
    """The rule of the module docstring: ``total`` slots over ``hubs`` (name -> view)."""
    free = max(0, total - sum(max(0, h.running) for h in hubs.values()))
    ranked = sorted((name for name, h in hubs.items() if acceptable(h, min_price)),
                    key=lambda n: (-_rank_price(hubs[n]), hubs[n].order))
    out = {name: Allotment(max(0, h.running), max(0, h.running)) for name, h in hubs.items()}
    best_with_work: tuple | None = None
    for name in ranked:
        h = hubs[name]
        if not h.has_work:
            continue
        first = best_with_work is None
        if first:
            best_with_work = (-_rank_price(h), h.order)
        give = min(free, h.demand(total))
        free -= give
        running = max(0, h.running)
        if give > 0:
            out[name] = Allotment(running + give, None)
        elif first:     # the next slots that free up are its: keep its usual prefetch
            out[name] = Allotment(running, None)
    for name in ranked:
        h = hubs[name]
        if h.has_work or out[name].slots > max(0, h.running):
            continue
        if best_with_work is None or (-_rank_price(h), h.order) < best_with_work:
            running = max(0, h.running)
            out[name] = Allotment(running, running + 1)    # one probe lease
    return out


class Dryness:
    """A hub is *dry* once it has held our READY credit for ``after_s`` without sending a
    lease; it is wet again as soon as a lease comes. Feed :meth:`observe` with the core's
    credit outstanding and its count of leases received."""

    def __init__(self, after_s: float = 1.0):
        self.after_s = after_s
        self._leases = 0
        self._since: float | None = None     # credit outstanding, no lease, since then
        self.dry = False

    def observe(self, now: float, credit_out: int, leases_received: int) -> bool:
        if leases_received != self._leases:
            self._leases = leases_received
            self._since = None
            self.dry = False
        if credit_out <= 0:
            self._since = None      # nothing asked: no news (dry stays what it was)
            return self.dry
        if self._since is None:
            self._since = now
        elif now - self._since >= self.after_s:
            self.dry = True
        return self.dry
