"""May a job lease more? (pure core)

A job may have a budget. Leasing stops when the money already committed — paid receipts
plus the most each lease in flight can cost (its CPU limit at the job's price) — plus the
most the next lease can cost would exceed the budget; the job then waits with that reason
until the buyer raises the budget. So a job never spends more than its budget, whatever its
workers claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .money import Price, cost

__all__ = ["Budget"]


@dataclass(frozen=True)
class Budget:
    price: Price
    limit: Decimal | None          # None: no budget
    cpu_limit_us: int              # the job's per-fragment CPU cap: the most a lease can cost

    def lease_cost(self) -> Decimal:
        return cost(self.price, self.cpu_limit_us)

    def room_for(self, spent: Decimal, in_flight: int) -> int:
        """How many more leases fit (a large number when there is no budget)."""
        if self.limit is None:
            return 1 << 30
        each = self.lease_cost()
        left = self.limit - spent - each * in_flight
        if each == 0:
            return 1 << 30 if left >= 0 else 0
        return max(0, int(left // each))
