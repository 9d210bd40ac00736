"""A multi-hub worker's share of the slots for one hub (pure; set by worker/arbiter.py's
decisions through :meth:`WorkerCore.set_allotment`).

Without a share (one hub) every free slot may start a lease and the prefetch decides how
many to hold. With one, a hub that is winning slots (``hold_queued`` None) refills its share
as its fragments end and asks credit in batches as with one hub; any other starts only the
``starts`` it was just given and holds at most ``hold_queued`` leases waiting beyond those.
"""

from __future__ import annotations


class Allotment:
    """Leases this hub may still start, and may hold queued beyond those."""

    def __init__(self) -> None:
        self.start_budget: int | None = None   # None: no share (one hub)
        self.hold_queued: int | None = None    # None: the usual prefetch
        self.slot_share = 0                    # running + starts when the share was set

    @property
    def shared(self) -> bool:
        return self.start_budget is not None

    def set(self, starts: int, hold_queued: int | None, running: int) -> None:
        self.start_budget = max(0, starts)
        self.hold_queued = None if hold_queued is None else max(0, hold_queued)
        self.slot_share = running + self.start_budget

    def may_start(self, running: int) -> bool:
        """Within this hub's share: a hub that is winning slots refills its share as its
        fragments end (as with one hub); any other starts only what it was just given."""
        if self.start_budget is None:
            return True
        if self.hold_queued is None:
            return running < self.slot_share
        return self.start_budget > 0

    def started(self) -> None:
        if self.start_budget is not None:
            self.start_budget -= 1

    def target(self, running: int, prefetch: int) -> int:
        """Leases to hold in all (with a share)."""
        if self.hold_queued is None:    # its share, as with one hub: credit asked in batches
            return self.slot_share + prefetch
        return running + (self.start_budget or 0) + self.hold_queued

    def handing_back(self) -> bool:
        """Only a hub losing its slots hands leases back (the prefetch of a winning one
        moves with the fragments' run time: shedding on it would churn)."""
        return self.hold_queued is not None
