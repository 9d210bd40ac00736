"""The worker's pure core: session, liveness, backoff, credit and held leases.

No sockets, no threads, no clock reads: the I/O shell (:mod:`cpushare_mq.worker.agent`) feeds
events in with the current time (``now``, seconds on any monotonic clock) and executes the
actions that come out, in order:

* :class:`Send` — put one protocol message on the hub socket (only emitted while a session
  is open or being opened),
* :class:`Connect` / :class:`Disconnect` — (re)create / close the hub socket (Paranoid Pirate:
  a dead hub costs a fresh socket, then capped exponential backoff),
* :class:`Run` — start a lease in a free slot; :class:`Abort` — stop a running lease,
* :class:`PauseSandboxes` / :class:`ResumeSandboxes`, :class:`Exit`.

Lease life on the worker::

    FETCHING --blobs cached--> QUEUED --slot free--> RUNNING --end/failure--> FINISHED --ACK--> gone
        any state --CANCEL / not in WELCOME.held_ok / lease expired before start--> gone

Results of FINISHED leases (and the chunks of RUNNING ones) are retained, up to
``retain_bytes`` in total, so they can be replayed after a reconnect; a lease whose result
could not be retained is not re-announced in ``HELLO.held`` (the hub re-queues it instead).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..outcome import OutcomeRecord
from ..protocol import AckStatus, ErrorCode, Feature, Message, MsgType
from .slotwork import LeaseKey, WorkItem

log = logging.getLogger(__name__)

#: run times remembered per slot for the prefetch-surplus decision (at least 8)
RECENT_RUNS_PER_SLOT = 4



# ----------------------------------------------------------------------------- actions

@dataclass(slots=True)
class Send:
    type: MsgType
    body: dict = field(default_factory=dict)
    blobs: list[bytes] = field(default_factory=list)


@dataclass(slots=True)
class Connect:
    """Create a fresh hub socket (the HELLO follows as a :class:`Send`)."""


@dataclass(slots=True)
class Disconnect:
    """Close the hub socket, dropping whatever is still queued in it."""
    reason: str = ""


@dataclass(slots=True)
class Run:
    item: WorkItem     # a frozen copy: the slot never sees the core's Lease


@dataclass(slots=True)
class Abort:
    key: LeaseKey
    reason: str = ""


@dataclass(slots=True)
class PauseSandboxes:
    pass


@dataclass(slots=True)
class ResumeSandboxes:
    pass


@dataclass(slots=True)
class Exit:
    reason: str = ""


Action = Send | Connect | Disconnect | Run | Abort | PauseSandboxes | ResumeSandboxes | Exit


# ----------------------------------------------------------------------------- helpers

def outcome_dict(rec: OutcomeRecord) -> dict:
    """``rec.to_dict()`` without dataclasses.asdict's deep copies (hot path)."""
    return {"outcome": rec.outcome.value, "exit_code": rec.exit_code, "signal": rec.signal,
            "cpu_s": rec.cpu_s, "wall_s": rec.wall_s, "peak_memory_bytes": rec.peak_memory_bytes,
            "output_bytes": rec.output_bytes, "message": rec.message}


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


class IdleDetector:
    """Hysteresis on the seller's own CPU load: pause once the load of *other* processes has
    been above ``threshold_pct`` for ``pause_after_s``; resume once it has been at or below it
    for ``resume_after_s``. Feed samples with :meth:`sample`; it returns "pause", "resume" or
    None."""

    def __init__(self, threshold_pct: float = 30.0, pause_after_s: float = 3.0,
                 resume_after_s: float = 5.0):
        self.threshold_pct = threshold_pct
        self.pause_after_s = pause_after_s
        self.resume_after_s = resume_after_s
        self.paused = False
        self._since: float | None = None   # start of the current run of samples against the state

    def sample(self, now: float, other_load_pct: float) -> str | None:
        busy = other_load_pct > self.threshold_pct
        if busy != self.paused:            # the sample argues for a change of state
            if self._since is None:
                self._since = now
            wait = self.pause_after_s if busy else self.resume_after_s
            if now - self._since >= wait:
                self.paused = busy
                self._since = None
                return "pause" if busy else "resume"
        else:
            self._since = None
        return None


class LeaseState(StrEnum):
    FETCHING = "fetching"    # waiting for the program / shared input
    QUEUED = "queued"        # ready, waiting for a free slot
    RUNNING = "running"
    FINISHED = "finished"    # result / failure sent, waiting for the hub's ACK


_WAITING = (LeaseState.FETCHING, LeaseState.QUEUED)
MAX_HELD = 65536            # HELLO.held cap (protocol)
MAX_UNACKED = 20000         # finished results kept waiting for an ACK, at most


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


# ----------------------------------------------------------------------------- the core

class WorkerCore:
    """Events in (with ``now``), actions out. See the module docstring."""

    DOWN, HELLO, UP = "down", "hello", "up"

    def __init__(self, config: CoreConfig, now: float):
        self.cfg = config
        self.state = self.DOWN
        self.reconnect_at = now              # connect at the first tick
        self.backoff = Backoff(config.backoff_initial_s, config.backoff_max_s)
        self.interval_s = config.heartbeat_interval_s
        self.liveness = config.liveness
        self.last_recv = now
        self.last_send = now
        self.worker_id: str | None = None
        self.leases: dict[LeaseKey, Lease] = {}
        self.queue: deque[LeaseKey] = deque()  # QUEUED leases in arrival order (may hold stale keys)
        self.running: set[LeaseKey] = set()  # slots busy (includes aborted runs not yet back)
        self.blobs: set[str] = set()        # shas available to the runner
        self.fetching: set[str] = set()     # FETCHes outstanding this session
        self.credit_out = 0                 # READY credit the hub has not used yet
        self.retained_total = 0
        self.paused = False
        self.draining = False
        self.drain_deadline = 0.0
        self.exited = False
        self.counters = Counters()
        self.waiting = 0                    # leases FETCHING or QUEUED
        self.waiting_bytes = 0              # their inputs
        self.unacked = 0                    # leases FINISHED
        self.no_work_until = now            # after a sandbox set-up failure
        self.infra_release = False          # the hub confirmed Feature.INFRA_RELEASE
        self.held_until = 0.0               # the hub holds us (HOLD) until then ...
        self.held_reason = ""               # ... and why
        self.run_time_s = 1.0               # moving average of a fragment's run time
        self.recent_runs: deque[float] = deque(          # the latest run times
            maxlen=max(8, RECENT_RUNS_PER_SLOT * config.slots))
        self.may_shed = False               # the hub takes RELEASE as withdrawn credit too
        self.shed = 0                       # leases handed back as prefetch surplus
        self.next_scan = now                # periodic scan of all leases (expiry, resends)
        # a multi-hub worker's share (set_allotment): leases it may still start, and
        # leases to hold queued beyond those (None: no limit / the prefetch)
        self.start_budget: int | None = None
        self.hold_queued: int | None = None
        self.slot_share = 0                 # running + starts when the share was set

    # -- bookkeeping ------------------------------------------------------------------

    @property
    def active(self) -> int:
        """Capacity in use: leases waiting to run plus busy slots (an aborted run keeps its
        slot until the sandbox is gone)."""
        return self.waiting + len(self.running)

    @property
    def prefetch(self) -> int:
        """Leases to hold beyond the slots: enough to keep ``queue_window_s`` of work queued
        per slot when fragments are short (one hub round trip must not idle the slots),
        ``cfg.prefetch`` when they are long (don't hoard work other workers could do)."""
        return self._prefetch_for(self.run_time_s)

    @property
    def busy(self) -> int:
        return len(self.running)

    def _send(self, out: list, mtype: MsgType, body: dict | None = None,
              blobs: list[bytes] | None = None) -> Send:
        s = Send(mtype, body or {}, blobs or [])
        out.append(s)
        if mtype is MsgType.RELEASE and self.may_shed:
            self.credit_out = 0      # the hub drops our unused credit with any RELEASE
        return s

    def _drop(self, lease: Lease) -> None:
        if self.leases.pop(lease.key, None) is not None:
            if lease.state in _WAITING:
                self.waiting -= 1
                self.waiting_bytes -= len(lease.input or b"")
            elif lease.state is LeaseState.FINISHED:
                self.unacked -= 1
        self.retained_total -= lease.retained_bytes
        lease.retained = []
        lease.retained_bytes = 0
        lease.input = None

    def _retain(self, lease: Lease, msg: Send) -> None:
        if not lease.retain_ok:
            return
        size = sum(len(b) for b in msg.blobs) + 256
        if self.retained_total + size > self.cfg.retain_bytes:
            lease.retain_ok = False
            self.retained_total -= lease.retained_bytes
            lease.retained = []
            lease.retained_bytes = 0
            return
        lease.retained.append(msg)
        lease.retained_bytes += size
        self.retained_total += size

    def _bound_unacked(self) -> None:
        """A hub that never acknowledges must not make us keep finished leases forever: past
        MAX_UNACKED the oldest are forgotten (the hub re-queues them when their leases end)."""
        self.unacked += 1
        if self.unacked <= MAX_UNACKED:
            return
        oldest = sorted((le for le in self.leases.values() if le.state is LeaseState.FINISHED),
                        key=lambda le: le.finished_at)[:self.unacked - MAX_UNACKED + MAX_UNACKED // 20]
        log.warning("%d results never acknowledged by the hub; forgetting the %d oldest",
                    self.unacked, len(oldest))
        for lease in oldest:
            self._drop(lease)

    def _emit_result_msg(self, out: list, lease: Lease, msg: Send) -> None:
        self._retain(lease, msg)
        if self.state == self.UP:
            out.append(msg)

    # -- session ----------------------------------------------------------------------

    def _hello(self, out: list, now: float) -> None:
        held = [list(lease.key) for lease in self.leases.values()
                if lease.retain_ok or lease.state in (LeaseState.FETCHING, LeaseState.QUEUED)]
        held = held[:MAX_HELD]
        body = dict(self.cfg.hello_info)
        body["slots"] = self.cfg.announced_slots or self.cfg.slots
        body["held"] = held
        self.state = self.HELLO
        self.fetching.clear()
        self.credit_out = 0
        self.last_recv = now
        self._send(out, MsgType.HELLO, body)
        self.last_send = now

    def _lose_session(self, out: list, now: float, reason: str) -> None:
        first = self.backoff.next_s == self.backoff.initial_s
        delay = self.backoff.failure()
        if self.state == self.UP:
            log.warning("hub connection lost (%s); reconnecting", reason)
        else:   # not answering our HELLO: the first time loudly, then quieter
            (log.warning if first else log.info)(
                "hub not answering (%s); trying again in %.1fs", reason, delay)
        out.append(Disconnect(reason))
        self.state = self.DOWN
        self.worker_id = None
        self.reconnect_at = now + delay
        self.counters.reconnects += 1

    def _on_welcome(self, msg: Message, out: list, now: float) -> None:
        self.state = self.UP
        self.worker_id = msg["worker_id"]
        self.interval_s = msg["heartbeat_interval_s"]
        self.liveness = msg["liveness"]
        self.backoff.reset()
        self.may_shed = Feature.RELEASE_RESETS_CREDIT in msg["features"]
        self.infra_release = Feature.INFRA_RELEASE in msg["features"]
        ok = {tuple(k) for k in msg["held_ok"]}
        log.info("joined hub as %s (heartbeat %.3gs x %d, %d of %d held leases honoured)",
                 self.worker_id, self.interval_s, self.liveness, len(ok), len(self.leases))
        for lease in list(self.leases.values()):
            if lease.key not in ok:
                if lease.state is LeaseState.RUNNING:
                    out.append(Abort(lease.key, "lease not honoured after reconnect"))
                self._drop(lease)
                continue
            if lease.state in (LeaseState.RUNNING, LeaseState.FINISHED):
                out.extend(lease.retained)   # replay from chunk 0
                lease.finished_at = now
            elif lease.state is LeaseState.FETCHING:
                for sha in (lease.program_sha256, lease.shared_sha256):
                    if sha not in self.blobs and sha not in self.fetching:
                        self.fetching.add(sha)
                        self._send(out, MsgType.FETCH, {"sha256": sha})
        if self.paused:
            self._send(out, MsgType.STATUS, {"paused": True, "busy": self.busy})
            self._release_unstarted(out, "paused")
        self._schedule(out, now)

    # -- events -----------------------------------------------------------------------

    def tick(self, now: float) -> list[Action]:
        """Timers: reconnect, liveness, heartbeat, lease expiry, resends, shutdown."""
        out: list[Action] = []
        if self.exited:
            return out
        if self.state == self.DOWN:
            if self.draining and not self.running:
                return self._exit(out, "shutdown (hub unreachable)")
            if now >= self.reconnect_at and not self.draining:
                out.append(Connect())
                self._hello(out, now)
        else:
            if now - self.last_recv > self.interval_s * self.liveness:
                self._lose_session(out, now, f"no message from the hub for {now - self.last_recv:.2f}s")
            elif self.state == self.UP and now >= self.next_scan:
                self.next_scan = now + 0.1
                self._expire_and_resend(out, now)
        if self.draining:
            self._drain_step(out, now)
        elif self.state == self.UP:
            self._schedule(out, now)
        if self.state != self.DOWN and now - self.last_send >= self.interval_s and not self.exited:
            self._send(out, MsgType.HEARTBEAT)
        if any(isinstance(a, Send) for a in out):
            self.last_send = now
        return out

    def next_timer(self, now: float) -> float:
        """Seconds until :meth:`tick` has something to do at the latest."""
        if self.state == self.DOWN:
            return max(0.0, min(self.reconnect_at - now, self.interval_s))
        due = min(self.last_send + self.interval_s, self.last_recv + self.interval_s * self.liveness)
        return max(0.0, due - now)

    def _expire_and_resend(self, out: list, now: float) -> None:
        for lease in list(self.leases.values()):
            if lease.state in (LeaseState.FETCHING, LeaseState.QUEUED) and now > lease.deadline:
                log.info("lease %s expired before it could start; dropped", lease.key)
                self._drop(lease)
            elif (lease.state is LeaseState.FINISHED and lease.retain_ok
                  and now - lease.finished_at > self.cfg.ack_timeout_s):
                log.info("no ACK for %s after %.1fs: sending the result again",
                         lease.key, now - lease.finished_at)
                out.extend(lease.retained)
                lease.finished_at = now

    def on_message(self, msg: Message, now: float) -> list[Action]:
        """A validated message from the hub."""
        out: list[Action] = []
        if self.exited or self.state == self.DOWN:
            return out
        self.last_recv = now
        t = msg.type
        if t is MsgType.LEASE:
            if self.state == self.UP:
                self._on_lease(msg, out, now)
        elif t is MsgType.ACK:
            self._on_ack(msg, out)
        elif t is MsgType.BLOB or t is MsgType.RECEIPTS:
            pass  # the shell stores it (the cache; worker/earnings.py) and tells us if needed
        elif t is MsgType.CANCEL:
            self._on_cancel(msg, out)
        elif t is MsgType.WELCOME:
            if self.state == self.HELLO:
                self._on_welcome(msg, out, now)
            else:
                log.warning("unexpected WELCOME while already joined; ignored")
        elif t is MsgType.ERROR:
            self._on_error(msg, out, now)
        elif t is MsgType.HOLD:
            self._on_hold(msg, now)
        elif t is MsgType.BYE:
            self._lose_session(out, now, f"hub said BYE ({msg['reason'] or 'no reason'})")
            self.reconnect_at = now + max(self.backoff.next_s, self.interval_s)
        elif t is MsgType.HEARTBEAT:
            pass
        else:
            log.warning("unexpected %s from the hub; ignored", t.name)
        if self.state == self.UP and not self.draining:
            self._schedule(out, now)
        if self.draining:
            self._drain_step(out, now)
        if any(isinstance(a, Send) for a in out):
            self.last_send = now
        return out

    def _on_lease(self, msg: Message, out: list, now: float) -> None:
        for spec, data in zip(msg["leases"], msg.blobs, strict=True):
            self.counters.leases_received += 1
            lease = Lease(spec, data, now)
            unsolicited = self.credit_out <= 0
            self.credit_out = max(0, self.credit_out - 1)
            if lease.key in self.leases or self.draining or self.paused or unsolicited:
                # a duplicate, more than we asked for, or we no longer take work: hand it back
                if lease.key not in self.leases:
                    reason = ("shutdown" if self.draining else "paused" if self.paused
                              else "no credit")
                    if reason == "no credit":
                        # expected right after we handed back surplus (leases the hub sent on
                        # the credit it had not yet seen withdrawn); otherwise worth a warning
                        (log.debug if self.shed else log.warning)(
                            "hub sent lease %s beyond our credit; handed back", lease.key)
                    self._send(out, MsgType.RELEASE, {"leases": [list(lease.key)], "reason": reason})
                    self.counters.released += 1
                continue
            self.leases[lease.key] = lease
            self.waiting += 1
            self.waiting_bytes += len(data)
            missing = [s for s in (lease.program_sha256, lease.shared_sha256) if s not in self.blobs]
            if missing:
                for sha in missing:
                    if sha not in self.fetching:
                        self.fetching.add(sha)
                        self._send(out, MsgType.FETCH, {"sha256": sha})
            else:
                lease.state = LeaseState.QUEUED
                self.queue.append(lease.key)

    def _on_ack(self, msg: Message, out: list) -> None:
        for fid, attempt, status in msg["results"]:
            lease = self.leases.get((fid, attempt))
            if lease is None or lease.state is not LeaseState.FINISHED:
                continue
            if status in (AckStatus.ACCEPTED, AckStatus.FAILED):
                self.counters.accepted += 1
            else:
                self.counters.dropped += 1
                (log.warning if status == AckStatus.REJECTED else log.info)(
                    "hub answered %s for result %s", status, (fid, attempt))
            self._drop(lease)

    def _on_cancel(self, msg: Message, out: list) -> None:
        for fid, attempt in msg["leases"]:
            lease = self.leases.get((fid, attempt))
            if lease is None:
                continue
            self.counters.cancelled += 1
            if lease.state is LeaseState.RUNNING:
                out.append(Abort(lease.key, msg["reason"] or "cancelled by the hub"))
            self._drop(lease)

    def _on_hold(self, msg: Message, now: float) -> None:
        """The hub gives us no work for a while: our sandbox kept failing (and why)."""
        self.held_until = now + msg["hold_s"]
        self.held_reason = msg["reason"]
        self.no_work_until = max(self.no_work_until, self.held_until)
        log.error("the hub holds this worker (no work) for %.0f s: %s; check this machine "
                  "with 'cpushare-worker --self-test'", msg["hold_s"], msg["reason"] or "no reason")

    def _on_error(self, msg: Message, out: list, now: float) -> None:
        code, text = msg["code"], msg["message"]
        if code == ErrorCode.UNKNOWN_WORKER:
            if self.state == self.UP:
                log.warning("hub no longer knows this worker (%s); joining again", text)
                self._hello(out, now)
        elif code == ErrorCode.VERSION:
            log.error("hub refused our protocol version: %s", text)
            self._lose_session(out, now, "protocol version refused")
            self.reconnect_at = now + self.backoff.max_s
        elif code == ErrorCode.INTERNAL:
            log.error("hub could not store what we sent (%s); results will be resent", text)
            for lease in self.leases.values():
                if lease.state is LeaseState.FINISHED:
                    lease.finished_at = min(lease.finished_at, now - self.cfg.ack_timeout_s + 1.0)
        else:
            log.warning("hub error %s: %s", code, text)
            self._fetch_refused(text)

    def _fetch_refused(self, text: str) -> None:
        """A refused FETCH (``blob <sha prefix>... ``: no lease held any more, or asked too
        often) is no longer outstanding: a later lease of that job fetches it again."""
        words = text.split()
        if len(words) > 1 and words[0] == "blob":
            prefix = words[1].rstrip(".")
            self.fetching = {sha for sha in self.fetching if not sha.startswith(prefix)}

    # -- from the shell ---------------------------------------------------------------

    def blob_available(self, sha: str, now: float) -> list[Action]:
        """``sha`` is in the cache now (fetched, or found at start-up)."""
        out: list[Action] = []
        self.blobs.add(sha)
        self.fetching.discard(sha)
        for lease in self.leases.values():
            if (lease.state is LeaseState.FETCHING and lease.program_sha256 in self.blobs
                    and lease.shared_sha256 in self.blobs):
                lease.state = LeaseState.QUEUED
                self.queue.append(lease.key)
        if self.state == self.UP and not self.draining:
            self._schedule(out, now)
        return self._stamp(out, now)

    def blob_lost(self, sha: str, key: LeaseKey | None, now: float) -> list[Action]:
        """The runner could not load ``sha`` (evicted or corrupt): fetch it again; the lease
        ``key`` (which was handed to a slot) goes back to waiting for it."""
        out: list[Action] = []
        self.blobs.discard(sha)
        if key is not None:
            self.running.discard(key)
            lease = self.leases.get(key)
            if lease is not None and lease.state is LeaseState.RUNNING:
                lease.state = LeaseState.FETCHING    # its input stays here until it ends
                self.waiting += 1
                self.waiting_bytes += len(lease.input or b"")
                if self.paused or self.draining:     # it will not start again here: hand it back
                    self._release_unstarted(out, "paused" if self.paused else "shutting down")
                    return self._stamp(out, now)
        if self.state == self.UP and sha not in self.fetching:
            self.fetching.add(sha)
            self._send(out, MsgType.FETCH, {"sha256": sha})
        if self.state == self.UP and not self.draining:
            self._schedule(out, now)
        return self._stamp(out, now)

    def chunk(self, key: LeaseKey, seq: int, blob: bytes, now: float) -> list[Action]:
        """A slot produced compressed chunk ``seq`` of the running lease ``key``."""
        out: list[Action] = []
        lease = self.leases.get(key)
        if lease is None or lease.state is not LeaseState.RUNNING:
            return out
        msg = Send(MsgType.RESULT_CHUNK, {"fragment_id": key[0], "attempt": key[1], "seq": seq}, [blob])
        self._emit_result_msg(out, lease, msg)
        return self._stamp(out, now)

    def end(self, key: LeaseKey, chunks: int, sha256: str, size: int, outcome: OutcomeRecord,
            last_blob: bytes | None, now: float) -> list[Action]:
        """The lease's run succeeded; ``last_blob`` is the final compressed chunk (if any)."""
        out: list[Action] = []
        self.running.discard(key)
        lease = self.leases.get(key)
        if lease is not None and lease.state is LeaseState.RUNNING:
            body = {"fragment_id": key[0], "attempt": key[1], "chunks": chunks,
                    "sha256": sha256, "size": size, "outcome": outcome_dict(outcome)}
            msg = Send(MsgType.RESULT_END, body, [last_blob] if last_blob is not None else [])
            lease.state = LeaseState.FINISHED
            lease.finished_at = now
            lease.input = None         # ran: never needed again
            self._note_run_time(now - lease.started_at, outcome.wall_s)
            self.counters.done += 1
            self._emit_result_msg(out, lease, msg)
            self._bound_unacked()
        self._after_slot_free(out, now)
        return self._stamp(out, now)

    def failure(self, key: LeaseKey, outcome: OutcomeRecord, now: float) -> list[Action]:
        """The lease's run failed in the sandbox (chunks already sent are void)."""
        out: list[Action] = []
        self.running.discard(key)
        lease = self.leases.get(key)
        if lease is not None and lease.state is LeaseState.RUNNING:
            self.retained_total -= lease.retained_bytes
            lease.retained, lease.retained_bytes, lease.retain_ok = [], 0, True
            msg = Send(MsgType.FAILURE, {"fragment_id": key[0], "attempt": key[1], "outcome": outcome})
            lease.state = LeaseState.FINISHED
            lease.finished_at = now
            lease.input = None         # ran: never needed again
            self._note_run_time(now - lease.started_at, outcome.wall_s)
            self.counters.failed += 1
            self._emit_result_msg(out, lease, msg)
            self._bound_unacked()
        self._after_slot_free(out, now)
        return self._stamp(out, now)

    def slot_gave_up(self, key: LeaseKey, reason: str, now: float) -> list[Action]:
        """The slot could not run the lease at all (sandbox set-up failed on our side):
        hand it back unrun."""
        out: list[Action] = []
        self.running.discard(key)
        lease = self.leases.get(key)
        self.no_work_until = now + self.cfg.setup_failure_pause_s
        if lease is not None and lease.state is LeaseState.RUNNING:
            self._drop(lease)
            if self.state == self.UP:
                body = {"leases": [list(key)], "reason": reason[:256]}
                if self.infra_release:
                    body["infra"] = True    # our machine's failure: no attempt spent
                self._send(out, MsgType.RELEASE, body)
                self.counters.released += 1
        self._after_slot_free(out, now)
        return self._stamp(out, now)

    def _note_run_time(self, dt: float, sandbox_wall_s: float) -> None:
        """``dt``: start to end as the core saw it (queueing and batching included: the
        credit follows it); ``sandbox_wall_s``: the fragment's own time in the sandbox (the
        surplus decision follows it, so the worker's own delays never look like longer
        fragments)."""
        dt = max(0.0, dt)
        self.run_time_s += 0.2 * (dt - self.run_time_s)
        self.recent_runs.append(max(0.0, sandbox_wall_s))

    def _prefetch_for(self, run_time_s: float) -> int:
        cfg = self.cfg
        if run_time_s <= 0:
            return cfg.max_prefetch
        want = int(cfg.slots * cfg.queue_window_s / run_time_s)
        return max(cfg.prefetch, min(cfg.max_prefetch, want))

    def _shed_target(self) -> int | None:
        """At most how many leases to hold, judged by the sandbox's own run times (None
        until 4 per slot are known): the fastest quarter of them sets the prefetch. Neither a
        few slow fragments nor a stall of this worker (it does not slow the sandbox) move
        it; a job of longer fragments does, right after a few of them."""
        runs = self.recent_runs
        if len(runs) < runs.maxlen:
            return None
        return self.cfg.slots + self._prefetch_for(sorted(runs)[runs.maxlen // 4])

    def _after_slot_free(self, out: list, now: float) -> None:
        if self.draining:
            self._drain_step(out, now)
        elif self.state == self.UP:
            self._schedule(out, now)
        elif not self.paused:
            self._start_queued(out, now)

    def _stamp(self, out: list, now: float) -> list[Action]:
        if any(isinstance(a, Send) for a in out):
            self.last_send = now
        return out

    # -- scheduling -------------------------------------------------------------------

    def _start_queued(self, out: list, now: float) -> None:
        while self.queue and len(self.running) < self.cfg.slots and self._may_start():
            key = self.queue.popleft()
            lease = self.leases.get(key)
            if lease is None or lease.state is not LeaseState.QUEUED:
                continue
            lease.state = LeaseState.RUNNING
            lease.started_at = now
            self.waiting -= 1
            self.waiting_bytes -= len(lease.input or b"")
            self.running.add(key)
            if self.start_budget is not None:
                self.start_budget -= 1
            out.append(Run(lease.work_item()))

    def _schedule(self, out: list, now: float) -> None:
        """Start queued leases on free slots, then ask for more work if there is room."""
        if self.paused:
            return
        self._start_queued(out, now)
        target = self.cfg.slots + self.prefetch
        if self.start_budget is not None:   # several hubs share the slots (worker/arbiter.py)
            target = self._allotted_target()
        keep = self._shed_target()
        if keep is not None:           # the sandbox says fragments got longer: hold less
            target = min(target, keep)
            if self.may_shed and self.active > keep + max(2, keep // 2):
                self._shed(out, self.active - keep)
        if now < self.no_work_until or self.waiting_bytes > self.cfg.max_queued_input_bytes:
            return
        want = target - self.active - self.credit_out
        if want > 0 and want >= max(self.cfg.min_ready_credit, target // 4):
            self.credit_out += want
            self._send(out, MsgType.READY, {"credit": want})

    def set_allotment(self, starts: int, hold_queued: int | None, now: float) -> list[Action]:
        """Multi-hub worker (worker/arbiter.py): start at most ``starts`` more of this hub's
        leases (until the next call) and hold at most ``hold_queued`` leases waiting beyond
        those (``None``: the usual prefetch); the surplus goes back to the hub."""
        self.start_budget = max(0, starts)
        self.hold_queued = None if hold_queued is None else max(0, hold_queued)
        self.slot_share = len(self.running) + self.start_budget
        out: list[Action] = []
        if self.state == self.UP and not self.draining:
            self._schedule(out, now)
            # only a hub losing its slots hands leases back (the prefetch of a winning one
            # moves with the fragments' run time: shedding on it would churn)
            surplus = self.active - self._allotted_target()
            if self.hold_queued is not None and self.may_shed and surplus > 0 and not self.paused:
                self._shed(out, surplus, "another hub pays more")
        return self._stamp(out, now)

    def _may_start(self) -> bool:
        """Within this hub's share: a hub that is winning slots refills its share as its
        fragments end (as with one hub); any other starts only what it was just given."""
        if self.start_budget is None:
            return True
        if self.hold_queued is None:
            return len(self.running) < self.slot_share
        return self.start_budget > 0

    def _allotted_target(self) -> int:
        if self.hold_queued is None:    # its share, as with one hub: credit asked in batches
            return self.slot_share + self.prefetch
        return len(self.running) + (self.start_budget or 0) + self.hold_queued

    # -- pause / resume (seller's machine busy) ------------------------------------------

    def _shed(self, out: list, n: int,
              reason: str = "prefetch surplus (fragments got longer)") -> None:
        """Hand back the ``n`` most recently queued leases: fragments got longer than when
        they were prefetched, and other workers can start them now. With the feature
        ``release_resets_credit`` the hub also drops our unused credit (see :meth:`_send`)."""
        keys: list[LeaseKey] = []
        while self.queue and len(keys) < n:
            key = self.queue.pop()
            lease = self.leases.get(key)
            if lease is not None and lease.state is LeaseState.QUEUED:
                keys.append(key)
                self._drop(lease)
        if not keys:
            return
        self.shed += len(keys)
        self.counters.released += len(keys)
        log.info("handing back %d prefetched leases: %s", len(keys), reason)
        self._send(out, MsgType.RELEASE, {"leases": [list(k) for k in keys], "reason": reason})

    def _release_unstarted(self, out: list, reason: str) -> None:
        keys = [lease.key for lease in self.leases.values()
                if lease.state in (LeaseState.FETCHING, LeaseState.QUEUED)]
        for key in keys:
            self._drop(self.leases[key])
        self.queue.clear()
        if keys and self.state == self.UP:
            self.counters.released += len(keys)
            for i in range(0, len(keys), 4096):
                self._send(out, MsgType.RELEASE,
                           {"leases": [list(k) for k in keys[i:i + 4096]], "reason": reason})

    def pause(self, now: float) -> list[Action]:
        out: list[Action] = []
        if self.paused:
            return out
        self.paused = True
        out.append(PauseSandboxes())
        if self.state == self.UP:
            self._send(out, MsgType.STATUS, {"paused": True, "busy": self.busy})
        self._release_unstarted(out, "paused")
        return self._stamp(out, now)

    def resume(self, now: float) -> list[Action]:
        out: list[Action] = []
        if not self.paused:
            return out
        self.paused = False
        out.append(ResumeSandboxes())
        if self.state == self.UP:
            self._send(out, MsgType.STATUS, {"paused": False, "busy": self.busy})
            if not self.draining:
                self._schedule(out, now)
        return self._stamp(out, now)

    # -- shutdown ---------------------------------------------------------------------

    def begin_shutdown(self, now: float, grace_s: float) -> list[Action]:
        """Warm shutdown: take no more work, hand back what has not started, let running
        fragments finish within ``grace_s`` and their results be acknowledged."""
        out: list[Action] = []
        if self.draining or self.exited:
            return out
        self.draining = True
        self.drain_deadline = now + grace_s
        log.info("shutting down: %d running, %d handed back, grace %.1fs",
                 self.busy, sum(1 for le in self.leases.values()
                                if le.state in (LeaseState.FETCHING, LeaseState.QUEUED)), grace_s)
        self._release_unstarted(out, "shutdown")
        self._drain_step(out, now)
        return self._stamp(out, now)

    def force_shutdown(self, now: float) -> list[Action]:
        """Second signal: abort everything, hand back all unfinished leases, leave."""
        out: list[Action] = []
        if self.exited:
            return out
        self.draining = True
        self._release_unstarted(out, "shutdown")
        running = [lease.key for lease in self.leases.values() if lease.state is LeaseState.RUNNING]
        for key in running:
            out.append(Abort(key, "forced shutdown"))
            self._drop(self.leases[key])
        if running and self.state == self.UP:
            self.counters.released += len(running)
            self._send(out, MsgType.RELEASE, {"leases": [list(k) for k in running],
                                              "reason": "shutdown"})
        self._exit(out, "forced shutdown")
        return self._stamp(out, now)

    def _drain_step(self, out: list, now: float) -> None:
        if self.exited:
            return
        unfinished = [le.key for le in self.leases.values() if le.state is LeaseState.RUNNING]
        unacked = [le for le in self.leases.values() if le.state is LeaseState.FINISHED]
        if not unfinished and not unacked:
            self._exit(out, "shutdown complete")
        elif now >= self.drain_deadline:
            if unfinished:
                log.warning("grace period over: handing back %d running fragments", len(unfinished))
                for key in unfinished:
                    out.append(Abort(key, "shutdown grace period over"))
                    self._drop(self.leases[key])
                if self.state == self.UP:
                    self.counters.released += len(unfinished)
                    self._send(out, MsgType.RELEASE, {"leases": [list(k) for k in unfinished],
                                                      "reason": "shutdown"})
            self._exit(out, "shutdown (grace period over)")

    def _exit(self, out: list, reason: str) -> list[Action]:
        if self.state != self.DOWN:
            self._send(out, MsgType.BYE, {"reason": reason[:256]})
        self.exited = True
        self.state = self.DOWN
        out.append(Exit(reason))
        return out

    # -- introspection ----------------------------------------------------------------

    def held_keys(self) -> Iterable[LeaseKey]:
        return self.leases.keys()

    def snapshot(self) -> dict[str, Any]:
        by_state: dict[str, int] = {}
        for lease in self.leases.values():
            by_state[lease.state.value] = by_state.get(lease.state.value, 0) + 1
        return {"state": self.state, "worker_id": self.worker_id, "busy": self.busy,
                "paused": self.paused, "draining": self.draining, "leases": by_state,
                "credit_out": self.credit_out, "retained_bytes": self.retained_total}
