"""The worker's link to one hub (pure: the current time in, no I/O): whether a session is
open, liveness both ways, the reconnect backoff (Paranoid Pirate: a dead hub costs a fresh
socket, then capped exponential backoff), what the hub's WELCOME granted and whether the hub
holds this worker."""

from __future__ import annotations

import logging
from enum import StrEnum

from ..protocol import Feature, Message

log = logging.getLogger(__name__)


class SessionState(StrEnum):
    DOWN = "down"      # no socket; reconnect at ``reconnect_at``
    HELLO = "hello"    # HELLO sent, waiting for WELCOME
    UP = "up"          # joined


class Backoff:
    """Capped exponential backoff: ``initial_s, 2*initial_s, ... max_s``; reset on success."""

    def __init__(self, initial_s: float = 0.1, max_s: float = 5.0, factor: float = 2.0):
        if not 0 < initial_s <= max_s or factor < 1:
            raise ValueError("backoff needs 0 < initial_s <= max_s and factor >= 1")
        self.initial_s, self.max_s, self.factor = initial_s, max_s, factor
        self.next_s = initial_s

    def failure(self) -> float:
        """The delay to wait now; the following one grows."""
        delay = self.next_s
        self.next_s = min(self.max_s, self.next_s * self.factor)
        return delay

    def reset(self) -> None:
        self.next_s = self.initial_s


class HubSession:
    """Session state, timers and what the hub granted (``heartbeat_interval_s`` and
    ``liveness`` hold until the hub's WELCOME says otherwise)."""

    def __init__(self, heartbeat_interval_s: float, liveness: int, backoff: Backoff, now: float):
        self.state = SessionState.DOWN
        self.reconnect_at = now              # connect at the first tick
        self.backoff = backoff
        self.interval_s = heartbeat_interval_s
        self.liveness = liveness
        self.last_recv = now
        self.last_send = now
        self.worker_id: str | None = None
        self.may_shed = False               # the hub takes RELEASE as withdrawn credit too
        self.infra_release = False          # the hub confirmed Feature.INFRA_RELEASE
        self.held_until = 0.0               # the hub holds us (HOLD) until then ...
        self.held_reason = ""               # ... and why

    @property
    def up(self) -> bool:
        return self.state is SessionState.UP

    def opening(self, now: float) -> None:
        """A HELLO goes out on a fresh socket."""
        self.state = SessionState.HELLO
        self.last_recv = now
        self.last_send = now

    def lost(self, now: float, reason: str) -> None:
        """The session ended (or never opened): reconnect after the next backoff delay."""
        first = self.backoff.next_s == self.backoff.initial_s
        delay = self.backoff.failure()
        if self.state is SessionState.UP:
            log.warning("hub connection lost (%s); reconnecting", reason)
        else:   # not answering our HELLO: the first time loudly, then quieter
            (log.warning if first else log.info)(
                "hub not answering (%s); trying again in %.1fs", reason, delay)
        self.state = SessionState.DOWN
        self.worker_id = None
        self.reconnect_at = now + delay

    def said_bye(self, now: float) -> None:
        """After the hub's BYE: not before a heartbeat interval."""
        self.reconnect_at = now + max(self.backoff.next_s, self.interval_s)

    def refused_version(self, now: float) -> None:
        self.reconnect_at = now + self.backoff.max_s

    def welcomed(self, msg: Message) -> None:
        self.state = SessionState.UP
        self.worker_id = msg["worker_id"]
        self.interval_s = msg["heartbeat_interval_s"]
        self.liveness = msg["liveness"]
        self.backoff.reset()
        self.may_shed = Feature.RELEASE_RESETS_CREDIT in msg["features"]
        self.infra_release = Feature.INFRA_RELEASE in msg["features"]

    def held(self, msg: Message, now: float) -> float:
        """The hub gives us no work for a while (HOLD): until when."""
        self.held_until = now + msg["hold_s"]
        self.held_reason = msg["reason"]
        log.error("the hub holds this worker (no work) for %.0f s: %s; check this machine "
                  "with 'cpushare-worker --self-test'", msg["hold_s"], msg["reason"] or "no reason")
        return self.held_until

    def silent_s(self, now: float) -> float:
        return now - self.last_recv

    def hub_dead(self, now: float) -> bool:
        return self.silent_s(now) > self.interval_s * self.liveness

    def heartbeat_due(self, now: float) -> bool:
        return self.state is not SessionState.DOWN and now - self.last_send >= self.interval_s

    def next_timer(self, now: float) -> float:
        """Seconds until a timer of the session is due at the latest."""
        if self.state is SessionState.DOWN:
            return max(0.0, min(self.reconnect_at - now, self.interval_s))
        due = min(self.last_send + self.interval_s, self.last_recv + self.interval_s * self.liveness)
        return max(0.0, due - now)


class BlobFetches:
    """Which programs and shared inputs are available to the runner (``have``) and which
    this session asked the hub for (``asked``)."""

    def __init__(self) -> None:
        self.have: set[str] = set()
        self.asked: set[str] = set()

    def missing(self, *shas: str) -> list[str]:
        return [sha for sha in shas if sha not in self.have]

    def to_ask(self, *shas: str) -> list[str]:
        """Of ``shas``, those to FETCH now (missing and not asked for yet), marked asked."""
        new = [sha for sha in shas if sha not in self.have and sha not in self.asked]
        self.asked.update(new)
        return new

    def arrived(self, sha: str) -> None:
        self.have.add(sha)
        self.asked.discard(sha)

    def refused(self, text: str) -> None:
        """A refused FETCH (``blob <sha prefix>... ``: no lease held any more, or asked too
        often) is no longer outstanding: a later lease of that job fetches it again."""
        words = text.split()
        if len(words) > 1 and words[0] == "blob":
            prefix = words[1].rstrip(".")
            self.asked.difference_update({sha for sha in self.asked if sha.startswith(prefix)})
