"""The leases a worker holds, their states and what they cost (pure: no I/O, no clock).

Lease life on the worker (the one table :data:`TRANSITIONS`, applied by :meth:`LeaseBook.move`,
which also keeps the counts)::

    FETCHING --blobs cached--> QUEUED --slot free--> RUNNING --end/failure--> FINISHED --ACK--> gone
        RUNNING --its blob was lost--> FETCHING
        any state --CANCEL / not in WELCOME.held_ok / lease expired before start--> gone

Results of FINISHED leases (and the chunks of RUNNING ones) are retained, up to
``retain_bytes`` in total, so they can be replayed after a reconnect; a lease whose result
could not be retained is not re-announced in ``HELLO.held`` (the hub re-queues it instead).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from enum import StrEnum

from ..errors import IllegalTransition
from ..protocol import AckStatus
from .actions import Abort, Send
from .slotwork import LeaseKey, WorkItem

log = logging.getLogger(__name__)

MAX_HELD = 65536            # HELLO.held cap (protocol)
MAX_UNACKED = 20000         # finished results kept waiting for an ACK, at most


class LeaseState(StrEnum):
    FETCHING = "fetching"    # waiting for the program / shared input
    QUEUED = "queued"        # ready, waiting for a free slot
    RUNNING = "running"
    FINISHED = "finished"    # result / failure sent, waiting for the hub's ACK


TRANSITIONS: dict[LeaseState, frozenset[LeaseState]] = {
    LeaseState.FETCHING: frozenset({LeaseState.QUEUED}),
    LeaseState.QUEUED: frozenset({LeaseState.RUNNING}),
    LeaseState.RUNNING: frozenset({LeaseState.FINISHED, LeaseState.FETCHING}),
    LeaseState.FINISHED: frozenset(),
}
WAITING = (LeaseState.FETCHING, LeaseState.QUEUED)


class Lease:
    """One lease the worker holds (fragment, attempt) with what it needs to run it."""

    __slots__ = ("key", "job_id", "index", "program_sha256", "shared_sha256", "cpu_s",
                 "wall_s", "max_output_bytes", "input", "deadline", "state", "retained",
                 "retained_bytes", "retain_ok", "finished_at", "started_at")

    def __init__(self, spec: dict, data: bytes, now: float):
        self.key: LeaseKey = (spec["fragment_id"], spec["attempt"])
        self.job_id: str = spec["job_id"]
        self.index: int = spec["index"]
        self.program_sha256: str = spec["program_sha256"]
        self.shared_sha256: str = spec["shared_sha256"]
        self.cpu_s: float = spec["cpu_s"]
        self.wall_s: float = spec["wall_s"]
        self.max_output_bytes: int = spec["max_output_bytes"]
        self.input: bytes | None = data
        self.deadline: float = now + spec["lease_s"]
        self.state = LeaseState.FETCHING
        self.retained: list[Send] = []     # result messages sent so far, for replay
        self.retained_bytes = 0
        self.retain_ok = True
        self.finished_at = 0.0
        self.started_at = 0.0

    def work_item(self) -> WorkItem:
        return WorkItem(self.key, self.job_id, self.index, self.program_sha256,
                        self.shared_sha256, self.cpu_s, self.wall_s, self.max_output_bytes,
                        self.input or b"")

    @property
    def fragment_id(self) -> int:
        return self.key[0]

    @property
    def attempt(self) -> int:
        return self.key[1]

    def __repr__(self) -> str:
        return f"Lease({self.key[0]}#{self.key[1]} {self.state.value})"


class LeaseBook:
    """The held leases by key, the queue of those ready to start, and their counts: leases
    waiting to run (``waiting``, ``waiting_bytes`` of input), results waiting for an ACK
    (``unacked``) and result bytes retained for replay (``retained_total``)."""

    def __init__(self, retain_bytes: int):
        self.retain_bytes = retain_bytes
        self.leases: dict[LeaseKey, Lease] = {}
        self.queue: deque[LeaseKey] = deque()  # QUEUED leases in arrival order (may hold stale keys)
        self.waiting = 0                    # leases FETCHING or QUEUED
        self.waiting_bytes = 0              # their inputs
        self.unacked = 0                    # leases FINISHED
        self.retained_total = 0

    def get(self, key: LeaseKey) -> Lease | None:
        return self.leases.get(key)

    def in_state(self, *states: LeaseState) -> list[Lease]:
        return [lease for lease in self.leases.values() if lease.state in states]

    # -- life -----------------------------------------------------------------------------

    def add(self, lease: Lease, ready: bool) -> None:
        """A new lease, FETCHING (its blobs are not all here) or QUEUED (``ready``)."""
        self.leases[lease.key] = lease
        self.waiting += 1
        self.waiting_bytes += len(lease.input or b"")
        if ready:
            self.move(lease, LeaseState.QUEUED)

    def move(self, lease: Lease, to: LeaseState) -> None:
        """The one way a lease changes state (checked against :data:`TRANSITIONS`)."""
        if to not in TRANSITIONS[lease.state]:
            raise IllegalTransition(f"lease {lease.key}: {lease.state} -> {to}")
        was_waiting, is_waiting = lease.state in WAITING, to in WAITING
        if was_waiting != is_waiting:
            sign = 1 if is_waiting else -1
            self.waiting += sign
            self.waiting_bytes += sign * len(lease.input or b"")
        if to is LeaseState.QUEUED:
            self.queue.append(lease.key)
        elif to is LeaseState.FINISHED:
            self.unacked += 1
            lease.input = None         # ran: never needed again
        lease.state = to

    def next_queued(self) -> Lease | None:
        """The oldest QUEUED lease, taken off the queue (stale keys skipped)."""
        while self.queue:
            lease = self.leases.get(self.queue.popleft())
            if lease is not None and lease.state is LeaseState.QUEUED:
                return lease
        return None

    def take_newest_queued(self, n: int) -> list[LeaseKey]:
        """Drop up to ``n`` of the most recently queued leases; their keys."""
        keys: list[LeaseKey] = []
        while self.queue and len(keys) < n:
            lease = self.leases.get(self.queue.pop())
            if lease is not None and lease.state is LeaseState.QUEUED:
                keys.append(lease.key)
                self.drop(lease)
        return keys

    def take_unstarted(self) -> list[LeaseKey]:
        """Drop every lease not started yet (FETCHING or QUEUED); their keys."""
        keys = [lease.key for lease in self.in_state(*WAITING)]
        for key in keys:
            self.drop(self.leases[key])
        self.queue.clear()
        return keys

    def drop(self, lease: Lease) -> None:
        if self.leases.pop(lease.key, None) is not None:
            if lease.state in WAITING:
                self.waiting -= 1
                self.waiting_bytes -= len(lease.input or b"")
            elif lease.state is LeaseState.FINISHED:
                self.unacked -= 1
        self.forget_retained(lease)
        lease.input = None

    def finish(self, lease: Lease, now: float) -> None:
        """RUNNING -> FINISHED (its result is being sent); then :meth:`bound_unacked`."""
        self.move(lease, LeaseState.FINISHED)
        lease.finished_at = now

    def bound_unacked(self) -> None:
        """A hub that never acknowledges must not make us keep finished leases forever: past
        MAX_UNACKED the oldest are forgotten (the hub re-queues them when their leases end)."""
        if self.unacked <= MAX_UNACKED:
            return
        oldest = sorted(self.in_state(LeaseState.FINISHED), key=lambda le: le.finished_at)
        oldest = oldest[:self.unacked - MAX_UNACKED + MAX_UNACKED // 20]
        log.warning("%d results never acknowledged by the hub; forgetting the %d oldest",
                    self.unacked, len(oldest))
        for old in oldest:
            self.drop(old)

    # -- retained results -----------------------------------------------------------------

    def retain(self, lease: Lease, msg: Send) -> None:
        if not lease.retain_ok:
            return
        size = sum(len(b) for b in msg.blobs) + 256
        if self.retained_total + size > self.retain_bytes:
            lease.retain_ok = False
            self.forget_retained(lease)
            return
        lease.retained.append(msg)
        lease.retained_bytes += size
        self.retained_total += size

    def forget_retained(self, lease: Lease) -> None:
        self.retained_total -= lease.retained_bytes
        lease.retained = []
        lease.retained_bytes = 0

    def held_for_hello(self) -> list[list[int]]:
        """The leases to announce in HELLO.held: those whose result we can still replay and
        those not started."""
        held = [list(lease.key) for lease in self.leases.values()
                if lease.retain_ok or lease.state in WAITING]
        return held[:MAX_HELD]

    def expire_and_resend(self, now: float, ack_timeout_s: float) -> list[Send]:
        """Drop leases that expired before they could start; the retained messages of
        results never acknowledged within ``ack_timeout_s``, to send again."""
        out: list[Send] = []
        for lease in list(self.leases.values()):
            if lease.state in WAITING and now > lease.deadline:
                log.info("lease %s expired before it could start; dropped", lease.key)
                self.drop(lease)
            elif (lease.state is LeaseState.FINISHED and lease.retain_ok
                  and now - lease.finished_at > ack_timeout_s):
                log.info("no ACK for %s after %.1fs: sending the result again",
                         lease.key, now - lease.finished_at)
                out.extend(lease.retained)
                lease.finished_at = now
        return out

    # -- what the hub says about them ---------------------------------------------------

    def acknowledged(self, results: list) -> tuple[int, int]:
        """The hub's ACK ``[fid, attempt, status]`` items: those leases are done with.
        Returns how many were accepted and how many dropped (duplicate, stale, rejected)."""
        accepted = dropped = 0
        for fid, attempt, status in results:
            lease = self.leases.get((fid, attempt))
            if lease is None or lease.state is not LeaseState.FINISHED:
                continue
            if status in (AckStatus.ACCEPTED, AckStatus.FAILED):
                accepted += 1
            else:
                dropped += 1
                (log.warning if status == AckStatus.REJECTED else log.info)(
                    "hub answered %s for result %s", status, (fid, attempt))
            self.drop(lease)
        return accepted, dropped

    def cancelled(self, pairs: list, reason: str, out: list) -> int:
        """The hub's CANCEL: forget those leases (aborting the running ones); how many."""
        n = 0
        for fid, attempt in pairs:
            lease = self.leases.get((fid, attempt))
            if lease is None:
                continue
            n += 1
            if lease.state is LeaseState.RUNNING:
                out.append(Abort(lease.key, reason))
            self.drop(lease)
        return n

    def honoured(self, ok: set, out: list, now: float) -> list[Lease]:
        """After WELCOME: forget the leases the hub did not honour (aborting the running
        ones), replay the results of the others from chunk 0; the FETCHING leases kept."""
        fetching = []
        for lease in list(self.leases.values()):
            if lease.key not in ok:
                if lease.state is LeaseState.RUNNING:
                    out.append(Abort(lease.key, "lease not honoured after reconnect"))
                self.drop(lease)
            elif lease.state in (LeaseState.RUNNING, LeaseState.FINISHED):
                out.extend(lease.retained)
                lease.finished_at = now
            elif lease.state is LeaseState.FETCHING:
                fetching.append(lease)
        return fetching

    def resend_soon(self, now: float, ack_timeout_s: float) -> None:
        """The hub could not store what we sent: resend every result within a second."""
        for lease in self.in_state(LeaseState.FINISHED):
            lease.finished_at = min(lease.finished_at, now - ack_timeout_s + 1.0)

    def keys(self) -> Iterable[LeaseKey]:
        return self.leases.keys()

    def by_state(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for lease in self.leases.values():
            counts[lease.state.value] = counts.get(lease.state.value, 0) + 1
        return counts
