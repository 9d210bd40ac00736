"""Copies counted but not yet paid (pure core).

A fragment may be run more than once: redundant copies (``--redundancy``), a spot check,
a re-verification. Each ok result the scheduler counts as a vote is a **claim**: the worker
key, the attempt and the CPU time its signed outcome record reports. Nothing is paid then:
a vote can still be outvoted. When the scheduler accepts the fragment it names the accepted
attempt (the first copy of the winning result); its claim is paid (one receipt per
fragment), the others are dropped. A fragment that fails, or a job that ends, drops its
open claims.

:class:`Claims` keeps the open claims and, per job, what they could still cost (the budget
counts it with the receipts already paid: market/budget.py). The ledger persists open
claims so that a hub restarted between a fragment's votes still pays its earlier copies
(market/ledger.py); :class:`Claims` decides, the ledger stores.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

__all__ = ["Claim", "Claims"]


class Claim(NamedTuple):
    """One counted copy of a fragment, waiting for the fragment's verdict (a named tuple:
    one is made for every counted result)."""

    job_id: str
    fragment_id: int
    attempt: int
    worker_key: str
    #: the CPU time the worker's signed outcome record reports, in whole microseconds and
    #: never above the job's CPU limit (market/ledger.py: claimed_us)
    claim_us: int
    cost: Decimal          # the most it can be paid: the claim at the job's price


class Claims:
    """Open claims by fragment, and their cost by job."""

    def __init__(self, open_claims: Iterable[Claim] = ()):
        self._by_frag: dict[int, dict[int, Claim]] = {}
        self._owed: dict[str, Decimal] = {}
        for c in open_claims:
            self.add(c)

    def __len__(self) -> int:
        return len(self._by_frag)

    def __contains__(self, fragment_id: int) -> bool:
        return fragment_id in self._by_frag

    def add(self, c: Claim) -> None:
        """A copy counted as a vote (a copy counted again replaces itself)."""
        copies = self._by_frag.get(c.fragment_id)
        if copies is None:                       # (mostly: a fragment's first copy)
            self._by_frag[c.fragment_id] = {c.attempt: c}
        else:
            old = copies.get(c.attempt)
            if old is not None and old.cost:
                self._owe(old.job_id, -old.cost)
            copies[c.attempt] = c
        if c.cost:                  # (0 unless the job has a budget)
            self._owe(c.job_id, c.cost)

    def settle(self, fragment_id: int, winners: Iterable[int]) -> tuple[list[Claim], list[Claim]]:
        """The fragment was accepted with the result of the attempts ``winners``: the
        claims to pay, and those dropped. A winner without an open claim (paid before: a
        re-verified result) is left out."""
        copies = self._take(fragment_id)
        paid = [copies.pop(a) for a in winners if a in copies]
        return paid, list(copies.values())

    def pay(self, fragment_id: int, attempt: int) -> tuple[Claim | None, int]:
        """:meth:`settle` with one winner (the hub's path for every accepted result): its
        claim (None: none open) and how many other claims are dropped."""
        copies = self._take(fragment_id)
        paid = copies.get(attempt)
        return paid, len(copies) - (paid is not None)

    def _take(self, fragment_id: int) -> dict[int, Claim]:
        """The fragment's open claims by attempt, no longer open."""
        copies = self._by_frag.pop(fragment_id, None)
        if copies is None:
            return {}
        if self._owed:                           # (claims cost something with a budget)
            for c in copies.values():
                if c.cost:
                    self._owe(c.job_id, -c.cost)
        return copies

    def drop_fragment(self, fragment_id: int) -> list[Claim]:
        """The fragment failed: its open claims, not paid."""
        return self.settle(fragment_id, ())[1]

    def drop_job(self, job_id: str) -> list[Claim]:
        """The job ended: its open claims, not paid."""
        fids = [fid for fid, copies in self._by_frag.items()
                if any(c.job_id == job_id for c in copies.values())]
        dropped = [c for fid in fids for c in self.drop_fragment(fid)]
        self._owed.pop(job_id, None)
        return dropped

    def owed(self, job_id: str) -> Decimal:
        """What ``job_id``'s open claims could still cost."""
        return self._owed.get(job_id, Decimal(0))

    def _owe(self, job_id: str, amount: Decimal) -> None:
        left = self._owed.get(job_id, Decimal(0)) + amount
        if left:
            self._owed[job_id] = left
        else:
            self._owed.pop(job_id, None)
