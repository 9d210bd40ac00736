"""How much work the worker asks its hub for (pure: numbers and the time in).

The READY credit the hub has not used yet, how many leases to hold (slots plus the prefetch,
or this hub's share of a multi-hub worker's slots), the surplus to hand back once fragments
got longer, and when not to ask at all (after a sandbox set-up failure, while the hub holds
this worker, or while too many input bytes wait).
"""

from __future__ import annotations

from .allotment import Allotment
from .prefetch import Prefetch


class Credit:
    """READY credit out, and the rule for asking more."""

    def __init__(self, slots: int, min_ready_credit: int, max_queued_input_bytes: int,
                 pace: Prefetch, allotment: Allotment, now: float):
        self.slots = slots
        self.min_ready_credit = min_ready_credit
        self.max_queued_input_bytes = max_queued_input_bytes
        self.pace, self.allotment = pace, allotment
        self.out = 0                    # READY credit the hub has not used yet
        self.shed = 0                   # leases handed back as prefetch surplus
        self.no_work_until = now        # after a sandbox set-up failure, or a HOLD

    def lease_came(self) -> bool:
        """A lease arrived: it uses one credit (False: it came beyond our credit)."""
        solicited = self.out > 0
        self.out = max(0, self.out - 1)
        return solicited

    def plan(self, running: int, active: int) -> tuple[int, int]:
        """Leases to hold in all (running and waiting), and how many of the ``active`` to
        hand back now because the sandbox says fragments got longer (0: none)."""
        prefetch = self.pace.leases
        target = self.slots + prefetch
        if self.allotment.shared:    # several hubs share the slots (worker/arbiter.py)
            target = self.allotment.target(running, prefetch)
        keep = self.pace.shed_target()
        if keep is None:
            return target, 0
        surplus = active - keep if active > keep + max(2, keep // 2) else 0
        return min(target, keep), surplus

    def ask(self, active: int, target: int, waiting_bytes: int, now: float) -> int:
        """Credit to ask for now (0: none), counted as out."""
        if now < self.no_work_until or waiting_bytes > self.max_queued_input_bytes:
            return 0
        want = target - active - self.out
        if want > 0 and want >= max(self.min_ready_credit, target // 4):
            self.out += want
            return want
        return 0
