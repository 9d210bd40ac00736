"""Which of the held leases run in the slots (pure): starting queued leases on free slots
within the hub's share, and what happens to a lease when its run is over, was given up by
its slot or lost its blob."""

from __future__ import annotations

from .actions import Abort, Run
from .allotment import Allotment
from .leasebook import Lease, LeaseBook, LeaseState
from .prefetch import Prefetch
from .slotwork import LeaseKey


class Runs:
    """Slot occupancy (``running``: includes aborted runs whose sandbox is not gone yet)."""

    def __init__(self, slots: int, book: LeaseBook, pace: Prefetch, allotment: Allotment):
        self.slots = slots
        self.book, self.pace, self.allotment = book, pace, allotment
        self.running: set[LeaseKey] = set()

    def running_lease(self, key: LeaseKey) -> Lease | None:
        lease = self.book.get(key)
        return lease if lease is not None and lease.state is LeaseState.RUNNING else None

    def start_queued(self, out: list, now: float) -> None:
        """Start queued leases on free slots (:class:`Run` actions to ``out``)."""
        running, allotment = self.running, self.allotment
        while len(running) < self.slots and allotment.may_start(len(running)):
            lease = self.book.next_queued()
            if lease is None:
                return
            self.book.move(lease, LeaseState.RUNNING)
            lease.started_at = now
            running.add(lease.key)
            allotment.started()
            out.append(Run(lease.work_item()))

    def over(self, key: LeaseKey, failed: bool, sandbox_wall_s: float, now: float) -> Lease | None:
        """The run of ``key`` ended (its slot is free): its lease, FINISHED now, or None when
        the lease is no longer running here. A failed run's chunks are void."""
        self.running.discard(key)
        lease = self.running_lease(key)
        if lease is None:
            return None
        if failed:
            self.book.forget_retained(lease)
            lease.retain_ok = True
        self.book.finish(lease, now)
        self.pace.note_run_time(now - lease.started_at, sandbox_wall_s)
        return lease

    def gave_up(self, key: LeaseKey) -> bool:
        """The slot could not run ``key``: forget the lease (True if it was running)."""
        self.running.discard(key)
        lease = self.running_lease(key)
        if lease is not None:
            self.book.drop(lease)
        return lease is not None

    def lost_blob(self, key: LeaseKey) -> bool:
        """A blob of ``key`` was lost before its run: it waits for the blob again (True if
        it was running)."""
        self.running.discard(key)
        lease = self.running_lease(key)
        if lease is not None:
            self.book.move(lease, LeaseState.FETCHING)   # its input stays until it ends
        return lease is not None

    def abort_all(self, out: list, reason: str) -> list[LeaseKey]:
        """Abort every running lease and forget it; their keys."""
        keys = [lease.key for lease in self.book.in_state(LeaseState.RUNNING)]
        for key in keys:
            out.append(Abort(key, reason))
            self.book.drop(self.book.leases[key])
        return keys
