"""What the worker core sends its hub, and the rules every message follows (pure): a
RELEASE withdraws our unused credit when the hub said it takes it so, releases go at most
4096 leases a message, a blob is FETCHed once a session, result messages are retained for
replay and sent only while the session is up, and any message sent resets the heartbeat."""

from __future__ import annotations

from ..protocol import MsgType
from .actions import Action, Send
from .credit import Credit
from .leasebook import Lease, LeaseBook
from .session import BlobFetches, HubSession
from .slotwork import LeaseKey

RELEASE_BATCH = 4096


class Outgoing:
    """Messages to the hub (appended to an action list ``out``)."""

    def __init__(self, session: HubSession, book: LeaseBook, fetches: BlobFetches,
                 credit: Credit, counters):
        self.session, self.book, self.fetches = session, book, fetches
        self.credit, self.counters = credit, counters

    def send(self, out: list, mtype: MsgType, body: dict | None = None,
             blobs: list[bytes] | None = None) -> Send:
        s = Send(mtype, body or {}, blobs or [])
        out.append(s)
        if mtype is MsgType.RELEASE and self.session.may_shed:
            self.credit.out = 0      # the hub drops our unused credit with any RELEASE
        return s

    def release(self, out: list, keys: list[LeaseKey], reason: str) -> None:
        """Hand ``keys`` back to the hub (when a session is up)."""
        if keys and self.session.up:
            self.counters.released += len(keys)
            for i in range(0, len(keys), RELEASE_BATCH):
                self.send(out, MsgType.RELEASE, {
                    "leases": [list(k) for k in keys[i:i + RELEASE_BATCH]], "reason": reason})

    def release_unstarted(self, out: list, reason: str) -> None:
        """Forget every lease not started yet and hand it back."""
        self.release(out, self.book.take_unstarted(), reason)

    def fetch(self, out: list, *shas: str) -> None:
        """FETCH those of ``shas`` that are neither here nor asked for already."""
        for sha in shas:
            for new in self.fetches.to_ask(sha):
                self.send(out, MsgType.FETCH, {"sha256": new})

    def result(self, out: list, lease: Lease, msg: Send) -> None:
        self.book.retain(lease, msg)
        if self.session.up:
            out.append(msg)

    def stamp(self, out: list, now: float) -> list[Action]:
        if any(isinstance(a, Send) for a in out):
            self.session.last_send = now
        return out
