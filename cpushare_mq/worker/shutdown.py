"""A worker's warm and forced shutdown (pure: the time in, actions out): take no more work,
hand back what has not started, let running fragments finish within a grace period and
their results be acknowledged, then say BYE and leave."""

from __future__ import annotations

import logging

from ..protocol import MsgType
from .actions import Exit
from .leasebook import LeaseBook, LeaseState
from .outgoing import Outgoing
from .runs import Runs
from .session import HubSession, SessionState
from .slotwork import LeaseKey

log = logging.getLogger(__name__)


class Drain:
    """Whether the worker is draining, until when, and whether it has exited."""

    def __init__(self, session: HubSession, book: LeaseBook, runs: Runs, outgoing: Outgoing):
        self.session, self.book, self.runs, self.outgoing = session, book, runs, outgoing
        self.draining = False
        self.deadline = 0.0
        self.exited = False

    def begin(self, out: list, now: float, grace_s: float) -> None:
        """First signal: start draining (nothing when already draining or gone)."""
        if self.draining or self.exited:
            return
        self.draining = True
        self.deadline = now + grace_s
        log.info("shutting down: %d running, %d handed back, grace %.1fs",
                 len(self.runs.running), self.book.waiting, grace_s)
        self.outgoing.release_unstarted(out, "shutdown")
        self.step(out, now)

    def force(self, out: list) -> None:
        """Second signal: abort everything, hand back all unfinished leases, leave."""
        if self.exited:
            return
        self.draining = True
        self.outgoing.release_unstarted(out, "shutdown")
        self._abort_running(out, "forced shutdown")
        self.exit(out, "forced shutdown")

    def step(self, out: list, now: float) -> None:
        """Leave once nothing runs or waits for an ACK, or when the grace period is over."""
        if self.exited:
            return
        if not self.book.in_state(LeaseState.RUNNING) and not self.book.unacked:
            self.exit(out, "shutdown complete")
        elif now >= self.deadline:
            keys = self._abort_running(out, "shutdown grace period over")
            if keys:
                log.warning("grace period over: handed back %d running fragments", len(keys))
            self.exit(out, "shutdown (grace period over)")

    def _abort_running(self, out: list, reason: str) -> list[LeaseKey]:
        keys = self.runs.abort_all(out, reason)
        self.outgoing.release(out, keys, "shutdown")
        return keys

    def exit(self, out: list, reason: str) -> None:
        if self.session.state is not SessionState.DOWN:
            self.outgoing.send(out, MsgType.BYE, {"reason": reason[:256]})
        self.exited = True
        self.session.state = SessionState.DOWN
        out.append(Exit(reason))
