"""The worker's pure core: the session with one hub, credit and the leases it holds.

No sockets, no threads, no clock reads: the I/O shell (:mod:`cpushare_mq.worker.agent`) feeds
events in with the current time (``now``, seconds on any monotonic clock) and executes the
actions that come out, in order (:mod:`.actions`). The core's rooms, each pure too:

* :mod:`.session` — session state, liveness, reconnect backoff, what WELCOME granted, and
  which blobs are here or asked for;
* :mod:`.leasebook` — the held leases, their states (one transition table), the queue,
  retained results for replay after a reconnect;
* :mod:`.prefetch` — how many leases to hold beyond the slots, from the fragments' run times;
* :mod:`.allotment` — a multi-hub worker's share of the slots for this hub;
* this module — the events (hub messages, slot events, timers, pause, shutdown) and the rule
  that ties them together: start queued leases on free slots, ask for as much credit as the
  prefetch allows, hand back what will not run here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..outcome import OutcomeRecord
from ..protocol import ErrorCode, Message, MsgType
from .actions import (
    Abort,
    Action,
    Connect,
    Disconnect,
    Exit,
    PauseSandboxes,
    ResumeSandboxes,
    Run,
    Send,
    outcome_dict,
)
from .allotment import Allotment
from .credit import Credit
from .idle import IdleDetector
from .leasebook import MAX_HELD, MAX_UNACKED, Lease, LeaseBook, LeaseState
from .outgoing import Outgoing
from .prefetch import RECENT_RUNS_PER_SLOT, Prefetch
from .runs import Runs
from .session import Backoff, BlobFetches, HubSession, SessionState
from .shutdown import Drain
from .slotwork import LeaseKey

__all__ = [
    "Abort", "Action", "Backoff", "Connect", "CoreConfig", "Counters", "Disconnect", "Exit",
    "IdleDetector", "Lease", "LeaseState", "MAX_HELD", "MAX_UNACKED", "PauseSandboxes",
    "RECENT_RUNS_PER_SLOT", "ResumeSandboxes", "Run", "Send", "SessionState", "WorkerCore",
    "outcome_dict",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoreConfig:
    """Tunables of the worker core (all times in seconds)."""

    slots: int = 1                         # leases running at once
    announced_slots: int | None = None     # HELLO.slots (None: slots), e.g. without the
                                           # look-ahead leases a pipelining slot runs
    prefetch: int = 2                      # leases asked for beyond the slots (at least)
    max_prefetch: int = 256                # ... and at most, when fragments are very short
    queue_window_s: float = 0.02           # short fragments: keep this much work queued per slot
    hello_info: dict = field(default_factory=dict)   # HELLO fields other than slots / held
    heartbeat_interval_s: float = 0.5      # until the hub's WELCOME says otherwise
    liveness: int = 3
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 5.0
    retain_bytes: int = 64 << 20           # results kept for replay after a reconnect
    ack_timeout_s: float = 10.0            # resend a finished result never acknowledged
    min_ready_credit: int = 1              # don't send READY for less than this
    max_queued_input_bytes: int = 256 << 20  # inputs of leases not yet started
    setup_failure_pause_s: float = 5.0     # no new work after our sandbox could not start

    def __post_init__(self):
        if self.slots < 1:
            raise ValueError(f"slots must be >= 1, got {self.slots}")
        if self.prefetch < 0:
            raise ValueError(f"prefetch must be >= 0, got {self.prefetch}")
        if self.max_prefetch < self.prefetch:
            raise ValueError(f"max_prefetch ({self.max_prefetch}) must be >= prefetch ({self.prefetch})")


@dataclass
class Counters:
    done: int = 0
    failed: int = 0
    accepted: int = 0
    dropped: int = 0          # acks saying duplicate / stale / rejected
    released: int = 0
    cancelled: int = 0
    reconnects: int = 0
    leases_received: int = 0


class WorkerCore:
    """Events in (with ``now``), actions out. See the module docstring."""

    DOWN, HELLO, UP = SessionState.DOWN, SessionState.HELLO, SessionState.UP

    def __init__(self, config: CoreConfig, now: float):
        self.cfg = config
        self.session = HubSession(config.heartbeat_interval_s, config.liveness,
                                  Backoff(config.backoff_initial_s, config.backoff_max_s), now)
        self.book = LeaseBook(config.retain_bytes)
        self.fetches = BlobFetches()
        self.pace = Prefetch(config.slots, config.prefetch, config.max_prefetch,
                             config.queue_window_s)
        self.allotment = Allotment()
        self.runs = Runs(config.slots, self.book, self.pace, self.allotment)
        self.credit = Credit(config.slots, config.min_ready_credit,
                             config.max_queued_input_bytes, self.pace, self.allotment, now)
        self.counters = Counters()
        self.outgoing = Outgoing(self.session, self.book, self.fetches, self.credit, self.counters)
        self.drain = Drain(self.session, self.book, self.runs, self.outgoing)
        self.paused = False
        self.next_scan = now                # periodic scan of all leases (expiry, resends)
        self._handlers = {
            MsgType.LEASE: self._on_lease, MsgType.ACK: self._on_ack,
            MsgType.CANCEL: self._on_cancel, MsgType.WELCOME: self._on_welcome,
            MsgType.ERROR: self._on_error, MsgType.HOLD: self._on_hold,
            MsgType.BYE: self._on_bye,
            MsgType.BLOB: self._ignore,        # the shell caches it, then blob_available()
            MsgType.RECEIPTS: self._ignore,    # the shell keeps them (worker/earnings.py)
            MsgType.HEARTBEAT: self._ignore,
        }

    # -- what the shell and the tests read ----------------------------------------------

    state = property(lambda self: self.session.state)
    running = property(lambda self: self.runs.running, doc="slots busy (with aborted runs)")
    worker_id = property(lambda self: self.session.worker_id)
    leases = property(lambda self: self.book.leases, doc="held leases by key")
    waiting = property(lambda self: self.book.waiting, doc="leases FETCHING or QUEUED")
    waiting_bytes = property(lambda self: self.book.waiting_bytes)
    unacked = property(lambda self: self.book.unacked, doc="leases FINISHED")
    retained_total = property(lambda self: self.book.retained_total)
    blobs = property(lambda self: self.fetches.have, doc="shas available to the runner")
    fetching = property(lambda self: self.fetches.asked, doc="FETCHes outstanding")
    draining = property(lambda self: self.drain.draining)
    exited = property(lambda self: self.drain.exited)
    credit_out = property(lambda self: self.credit.out, doc="READY credit not used yet")
    shed = property(lambda self: self.credit.shed, doc="leases handed back as surplus")

    @property
    def last_send(self) -> float:
        return self.session.last_send

    @property
    def active(self) -> int:
        """Capacity in use: leases waiting to run plus busy slots (an aborted run keeps its
        slot until the sandbox is gone)."""
        return self.book.waiting + len(self.running)

    @property
    def prefetch(self) -> int:
        """Leases to hold beyond the slots (:class:`.prefetch.Prefetch`)."""
        return self.pace.leases

    @property
    def busy(self) -> int:
        return len(self.running)

    def held_keys(self) -> Iterable[LeaseKey]:
        return self.book.keys()

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.state, "worker_id": self.worker_id, "busy": self.busy,
                "paused": self.paused, "draining": self.draining, "leases": self.book.by_state(),
                "credit_out": self.credit_out, "retained_bytes": self.book.retained_total}

    # -- session ------------------------------------------------------------------------

    def _hello(self, out: list, now: float) -> None:
        body = dict(self.cfg.hello_info)
        body["slots"] = self.cfg.announced_slots or self.cfg.slots
        body["held"] = self.book.held_for_hello()
        self.session.opening(now)
        self.fetches.asked.clear()
        self.credit.out = 0
        self.outgoing.send(out, MsgType.HELLO, body)

    def _lose_session(self, out: list, now: float, reason: str) -> None:
        self.session.lost(now, reason)
        out.append(Disconnect(reason))
        self.counters.reconnects += 1

    def tick(self, now: float) -> list[Action]:
        """Timers: reconnect, liveness, heartbeat, lease expiry, resends, shutdown."""
        out: list[Action] = []
        if self.exited:
            return out
        session = self.session
        if session.state is SessionState.DOWN:
            if self.draining and not self.running:
                self.drain.exit(out, "shutdown (hub unreachable)")
                return out
            if now >= session.reconnect_at and not self.draining:
                out.append(Connect())
                self._hello(out, now)
        elif session.hub_dead(now):
            self._lose_session(out, now, f"no message from the hub for {session.silent_s(now):.2f}s")
        elif session.up and now >= self.next_scan:
            self.next_scan = now + 0.1
            out.extend(self.book.expire_and_resend(now, self.cfg.ack_timeout_s))
        self._after_event(out, now)
        if session.heartbeat_due(now) and not self.exited:
            self.outgoing.send(out, MsgType.HEARTBEAT)
        return self.outgoing.stamp(out, now)

    def next_timer(self, now: float) -> float:
        """Seconds until :meth:`tick` has something to do at the latest."""
        return self.session.next_timer(now)

    def _after_event(self, out: list, now: float) -> None:
        if self.draining:
            self.drain.step(out, now)
        elif self.session.up:
            self._schedule(out, now)

    # -- hub messages -------------------------------------------------------------------

    def on_message(self, msg: Message, now: float) -> list[Action]:
        """A validated message from the hub."""
        out: list[Action] = []
        if self.exited or self.state is SessionState.DOWN:
            return out
        self.session.last_recv = now
        handler = self._handlers.get(msg.type)
        if handler is None:
            log.warning("unexpected %s from the hub; ignored", msg.type.name)
        else:
            handler(msg, out, now)
        self._after_event(out, now)
        return self.outgoing.stamp(out, now)

    def _ignore(self, msg: Message, out: list, now: float) -> None:
        pass

    def _on_welcome(self, msg: Message, out: list, now: float) -> None:
        if self.state is not SessionState.HELLO:
            log.warning("unexpected WELCOME while already joined; ignored")
            return
        self.session.welcomed(msg)
        ok = {tuple(k) for k in msg["held_ok"]}
        log.info("joined hub as %s (heartbeat %.3gs x %d, %d of %d held leases honoured)",
                 self.worker_id, self.session.interval_s, self.session.liveness, len(ok),
                 len(self.book.leases))
        for lease in self.book.honoured(ok, out, now):
            self.outgoing.fetch(out, lease.program_sha256, lease.shared_sha256)
        if self.paused:
            self.outgoing.send(out, MsgType.STATUS, {"paused": True, "busy": self.busy})
            self.outgoing.release_unstarted(out, "paused")

    def _on_lease(self, msg: Message, out: list, now: float) -> None:
        if not self.session.up:
            return
        for spec, data in zip(msg["leases"], msg.blobs, strict=True):
            self.counters.leases_received += 1
            lease = Lease(spec, data, now)
            unsolicited = not self.credit.lease_came()
            if lease.key in self.book.leases:
                continue                    # a duplicate
            if self.draining or self.paused or unsolicited:
                # more than we asked for, or we no longer take work: hand it back
                reason = "shutdown" if self.draining else "paused" if self.paused else "no credit"
                if reason == "no credit":
                    # expected right after we handed back surplus (leases the hub sent on
                    # the credit it had not yet seen withdrawn); otherwise worth a warning
                    (log.debug if self.shed else log.warning)(
                        "hub sent lease %s beyond our credit; handed back", lease.key)
                self.outgoing.send(out, MsgType.RELEASE, {"leases": [list(lease.key)], "reason": reason})
                self.counters.released += 1
                continue
            missing = self.fetches.missing(lease.program_sha256, lease.shared_sha256)
            self.book.add(lease, ready=not missing)
            self.outgoing.fetch(out, *missing)

    def _on_ack(self, msg: Message, out: list, now: float) -> None:
        accepted, dropped = self.book.acknowledged(msg["results"])
        self.counters.accepted += accepted
        self.counters.dropped += dropped

    def _on_cancel(self, msg: Message, out: list, now: float) -> None:
        self.counters.cancelled += self.book.cancelled(
            msg["leases"], msg["reason"] or "cancelled by the hub", out)

    def _on_hold(self, msg: Message, out: list, now: float) -> None:
        """The hub gives us no work for a while: our sandbox kept failing (and why)."""
        self.credit.no_work_until = max(self.credit.no_work_until, self.session.held(msg, now))

    def _on_bye(self, msg: Message, out: list, now: float) -> None:
        self._lose_session(out, now, f"hub said BYE ({msg['reason'] or 'no reason'})")
        self.session.said_bye(now)

    def _on_error(self, msg: Message, out: list, now: float) -> None:
        code, text = msg["code"], msg["message"]
        if code == ErrorCode.UNKNOWN_WORKER:
            if self.session.up:
                log.warning("hub no longer knows this worker (%s); joining again", text)
                self._hello(out, now)
        elif code == ErrorCode.VERSION:
            log.error("hub refused our protocol version: %s", text)
            self._lose_session(out, now, "protocol version refused")
            self.session.refused_version(now)
        elif code == ErrorCode.INTERNAL:
            log.error("hub could not store what we sent (%s); results will be resent", text)
            self.book.resend_soon(now, self.cfg.ack_timeout_s)
        else:
            log.warning("hub error %s: %s", code, text)
            self.fetches.refused(text)

    # -- slot events --------------------------------------------------------------------

    def chunk(self, key: LeaseKey, seq: int, blob: bytes, now: float) -> list[Action]:
        """A slot produced compressed chunk ``seq`` of the running lease ``key``."""
        out: list[Action] = []
        lease = self.runs.running_lease(key)
        if lease is not None:
            self.outgoing.result(out, lease, Send(
                MsgType.RESULT_CHUNK, {"fragment_id": key[0], "attempt": key[1], "seq": seq}, [blob]))
        return self.outgoing.stamp(out, now)

    def end(self, key: LeaseKey, chunks: int, sha256: str, size: int, outcome: OutcomeRecord,
            last_blob: bytes | None, now: float) -> list[Action]:
        """The lease's run succeeded; ``last_blob`` is the final compressed chunk (if any)."""
        body = {"fragment_id": key[0], "attempt": key[1], "chunks": chunks,
                "sha256": sha256, "size": size, "outcome": outcome_dict(outcome)}
        msg = Send(MsgType.RESULT_END, body, [last_blob] if last_blob is not None else [])
        return self._run_over(key, msg, outcome, now)

    def failure(self, key: LeaseKey, outcome: OutcomeRecord, now: float) -> list[Action]:
        """The lease's run failed in the sandbox (chunks already sent are void)."""
        msg = Send(MsgType.FAILURE, {"fragment_id": key[0], "attempt": key[1], "outcome": outcome})
        return self._run_over(key, msg, outcome, now)

    def _run_over(self, key: LeaseKey, msg: Send, outcome: OutcomeRecord,
                  now: float) -> list[Action]:
        """A run ended with ``msg`` (its RESULT_END or FAILURE): the lease waits for the ACK."""
        out: list[Action] = []
        failed = msg.type is MsgType.FAILURE
        lease = self.runs.over(key, failed, outcome.wall_s, now)
        if lease is not None:
            if failed:
                self.counters.failed += 1
            else:
                self.counters.done += 1
            self.outgoing.result(out, lease, msg)
            self.book.bound_unacked()
        self._after_slot_free(out, now)
        return self.outgoing.stamp(out, now)

    def slot_gave_up(self, key: LeaseKey, reason: str, now: float) -> list[Action]:
        """The slot could not run the lease at all (sandbox set-up failed on our side):
        hand it back unrun."""
        out: list[Action] = []
        self.credit.no_work_until = now + self.cfg.setup_failure_pause_s
        if self.runs.gave_up(key) and self.session.up:
            body = {"leases": [list(key)], "reason": reason[:256]}
            if self.session.infra_release:
                body["infra"] = True    # our machine's failure: no attempt spent
            self.outgoing.send(out, MsgType.RELEASE, body)
            self.counters.released += 1
        self._after_slot_free(out, now)
        return self.outgoing.stamp(out, now)

    def _after_slot_free(self, out: list, now: float) -> None:
        if self.draining:
            self.drain.step(out, now)
        elif self.session.up:
            self._schedule(out, now)
        elif not self.paused:
            self.runs.start_queued(out, now)

    # -- blobs (from the shell) ---------------------------------------------------------

    def blob_available(self, sha: str, now: float) -> list[Action]:
        """``sha`` is in the cache now (fetched, or found at start-up)."""
        out: list[Action] = []
        self.fetches.arrived(sha)
        have = self.fetches.have
        for lease in self.book.in_state(LeaseState.FETCHING):
            if lease.program_sha256 in have and lease.shared_sha256 in have:
                self.book.move(lease, LeaseState.QUEUED)
        if self.session.up and not self.draining:
            self._schedule(out, now)
        return self.outgoing.stamp(out, now)

    def blob_lost(self, sha: str, key: LeaseKey | None, now: float) -> list[Action]:
        """The runner could not load ``sha`` (evicted or corrupt): fetch it again; the lease
        ``key`` (which was handed to a slot) goes back to waiting for it."""
        out: list[Action] = []
        self.fetches.have.discard(sha)
        if key is not None and self.runs.lost_blob(key) and (self.paused or self.draining):
            # it will not start again here: hand it back
            self.outgoing.release_unstarted(out, "paused" if self.paused else "shutting down")
            return self.outgoing.stamp(out, now)
        if self.session.up:
            self.outgoing.fetch(out, sha)
        if self.session.up and not self.draining:
            self._schedule(out, now)
        return self.outgoing.stamp(out, now)

    # -- scheduling ---------------------------------------------------------------------

    def _schedule(self, out: list, now: float) -> None:
        """Start queued leases on free slots, then ask for more work if there is room."""
        if self.paused:
            return
        self.runs.start_queued(out, now)
        active = self.active
        target, surplus = self.credit.plan(len(self.running), active)
        if surplus and self.session.may_shed:
            self._shed(out, surplus)
            active = self.active
        want = self.credit.ask(active, target, self.book.waiting_bytes, now)
        if want:
            self.outgoing.send(out, MsgType.READY, {"credit": want})

    def set_allotment(self, starts: int, hold_queued: int | None, now: float) -> list[Action]:
        """Multi-hub worker (worker/arbiter.py): start at most ``starts`` more of this hub's
        leases (until the next call) and hold at most ``hold_queued`` leases waiting beyond
        those (``None``: the usual prefetch); the surplus goes back to the hub."""
        self.allotment.set(starts, hold_queued, len(self.running))
        out: list[Action] = []
        if self.session.up and not self.draining:
            self._schedule(out, now)
            surplus = self.active - self.allotment.target(len(self.running), self.prefetch)
            if (self.allotment.handing_back() and self.session.may_shed and surplus > 0
                    and not self.paused):
                self._shed(out, surplus, "another hub pays more")
        return self.outgoing.stamp(out, now)

    def _shed(self, out: list, n: int,
              reason: str = "prefetch surplus (fragments got longer)") -> None:
        """Hand back the ``n`` most recently queued leases: fragments got longer than when
        they were prefetched, and other workers can start them now. With the feature
        ``release_resets_credit`` the hub also drops our unused credit (:mod:`.outgoing`)."""
        keys = self.book.take_newest_queued(n)
        if not keys:
            return
        self.credit.shed += len(keys)
        self.counters.released += len(keys)
        log.info("handing back %d prefetched leases: %s", len(keys), reason)
        self.outgoing.send(out, MsgType.RELEASE, {"leases": [list(k) for k in keys], "reason": reason})

    # -- pause / resume (seller's machine busy) -----------------------------------------

    def pause(self, now: float) -> list[Action]:
        out: list[Action] = []
        if self.paused:
            return out
        self.paused = True
        out.append(PauseSandboxes())
        if self.session.up:
            self.outgoing.send(out, MsgType.STATUS, {"paused": True, "busy": self.busy})
        self.outgoing.release_unstarted(out, "paused")
        return self.outgoing.stamp(out, now)

    def resume(self, now: float) -> list[Action]:
        out: list[Action] = []
        if not self.paused:
            return out
        self.paused = False
        out.append(ResumeSandboxes())
        if self.session.up:
            self.outgoing.send(out, MsgType.STATUS, {"paused": False, "busy": self.busy})
            if not self.draining:
                self._schedule(out, now)
        return self.outgoing.stamp(out, now)

    # -- shutdown -----------------------------------------------------------------------

    def begin_shutdown(self, now: float, grace_s: float) -> list[Action]:
        """Warm shutdown: take no more work, hand back what has not started, let running
        fragments finish within ``grace_s`` and their results be acknowledged."""
        out: list[Action] = []
        self.drain.begin(out, now, grace_s)
        return self.outgoing.stamp(out, now)

    def force_shutdown(self, now: float) -> list[Action]:
        """Second signal: abort everything, hand back all unfinished leases, leave."""
        out: list[Action] = []
        self.drain.force(out)
        return self.outgoing.stamp(out, now)
