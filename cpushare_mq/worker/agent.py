"""The worker's I/O shell: one loop thread owns the DEALER socket to the hub.

It feeds the pure core (:mod:`cpushare_mq.worker.state`) with messages, slot events and the
time, and executes the actions that come back: sending, (re)connecting, starting and aborting
runs in the slot threads (:mod:`cpushare_mq.worker.slots`), pausing sandboxes. Its pieces:
the hub socket and its flow control (:mod:`.hublink`: while the link is behind, the loop
stops draining the slots' bounded event queue, which in turn stops the slots reading their
sandboxes' output), signatures and result batches (:mod:`.batching`), programs and shared
inputs (:mod:`.blobsource` over the on-disk :mod:`.cache`), the seller's own CPU use
(:mod:`.machineload`).
"""

from __future__ import annotations

import logging
import math
import os
import platform
import secrets
import socket as pysocket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil
import zmq

from .. import __version__
from ..errors import ConfigError, ProtocolError
from ..protocol import ABI_VERSION, Feature, Message, MsgType, decode, encode_trusted
from ..sandbox.limits import SandboxLimits
from .batching import ResultBatcher
from .blobsource import BlobSource
from .cache import BlobCache
from .hublink import HubLink
from .idle import IdleVerdict
from .machineload import MachineLoad
from .slots import SandboxFactory, SlotPool, default_sandbox_factory
from .slotwork import RunFailed, SlotWork, deliver
from .state import (
    Abort,
    Connect,
    CoreConfig,
    Disconnect,
    Exit,
    IdleDetector,
    PauseSandboxes,
    ResumeSandboxes,
    Run,
    Send,
    WorkerCore,
)

log = logging.getLogger(__name__)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()[:256]
    except OSError:
        pass
    return (platform.processor() or platform.machine())[:256]


@dataclass
class AgentConfig:
    """Everything the CLI can set (see ``cpushare-worker --help``)."""

    hub: str
    slots: int = 0                        # 0 = logical CPUs
    prefetch: int | None = None           # None = slots
    cache_dir: str = ""
    cache_size_bytes: int = 1 << 30
    # the seller's sandbox limits (its flags: sandbox/limitflags.py); the job's come per lease
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    when_idle: bool = False
    idle_threshold_pct: float = 30.0
    idle_pause_after_s: float = 3.0
    idle_resume_after_s: float = 5.0
    idle_sample_s: float = 1.0            # how often the machine's load is measured
    nice: int | None = 19                 # sandboxes' niceness (None = leave as is)
    grace_s: float = 30.0
    status_interval_s: float = 10.0
    live_status: bool = False             # one-line status on stderr (a tty)
    name: str = ""
    heartbeat_interval_s: float = 0.5     # until the hub's WELCOME says otherwise
    liveness: int = 3
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 5.0
    retain_bytes: int = 64 << 20
    sndhwm: int = 1000
    outbox_limit: int = 256               # messages waiting for the socket before slots stall
    inflight_bytes: int = 16 << 20        # large result bytes inside ZeroMQ before slots stall
    pipeline: bool = True                 # each slot's sandbox gets its next fragment early
                                          # (needs prefetch >= slots)
    batch_results: bool = True            # small results that finish together go out as one
                                          # RESULT_BATCH (when the hub's WELCOME allows it)
    batch_delay_s: float = 0.002          # a result waits at most this long for others to
                                          # join its batch (only while slots are still busy)

    def resolved_slots(self) -> int:
        return self.slots or psutil.cpu_count(logical=True) or 1


def _hello_info(config: AgentConfig, trust) -> dict:
    """The HELLO fields other than slots / held: who we are and what we speak."""
    hello_info = {
        "worker_version": __version__,
        "abi_version": ABI_VERSION,
        "memory_bytes": config.limits.max_memory_bytes,
        "cpu_model": _cpu_model(),
        "name": (config.name or pysocket.gethostname())[:256],
        "worker_key": trust.hello_key if trust is not None else "",
    }
    # INFRA_RELEASE: a lease this machine's sandbox could not run goes back marked as
    # ours, not the program's (no attempt spent); the hub may HOLD us
    features = [Feature.RELEASE_RESETS_CREDIT, Feature.INFRA_RELEASE]
    if config.batch_results:
        features.append(Feature.RESULT_BATCH)
    if trust is not None:
        features.append(Feature.SIGNED_FAILURES)    # FAILURE reports carry a signature
        if config.batch_results:
            features.append(Feature.BATCH_SIGNATURE)    # one signature per RESULT_BATCH
        features.append(Feature.RECEIPTS)   # keep the hub's signed receipts (issue 19)
        features.append(Feature.RECEIPT_BATCHES)    # ... taken a batch at a time
        features.append(Feature.RECEIPT_COLUMNS)    # ... and as columns
    hello_info["features"] = features
    return hello_info


class WorkerAgent:
    """``WorkerAgent(config).run()`` serves the hub until shutdown; see :meth:`request_shutdown`."""

    def __init__(self, config: AgentConfig, *, sandbox_factory: SandboxFactory | Callable | None = None,
                 load_sampler: Callable[[], float] | None = None,
                 context: zmq.Context | None = None, trust=None):
        """``trust`` (a :class:`cpushare_mq.trust.workerside.WorkerTrust`, optional): the
        worker's identity (HELLO.worker_key), CURVE on the hub socket, signed RESULT_ENDs."""
        if not config.hub.startswith(("tcp://", "ipc://", "inproc://")):
            raise ConfigError(f"hub address {config.hub!r} must look like tcp://HOST:PORT")
        self.cfg = config
        self.trust = trust
        self.slots_n = config.resolved_slots()
        if self.slots_n < 1:
            raise ConfigError(f"--slots must be >= 1, got {self.slots_n}")
        self.cache = BlobCache(config.cache_dir or _default_cache_dir(), config.cache_size_bytes)
        self.blobs = BlobSource(self.cache)
        self.ctx = context or zmq.Context.instance()
        # unique per agent (several may share a context): no process-wide counter
        self.wake_address = f"inproc://cpushare-worker-wake-{os.getpid()}-{secrets.token_hex(8)}"
        prefetch = self.slots_n if config.prefetch is None else config.prefetch
        # Pipelining hands one of the prefetched leases of each slot to its sandbox early,
        # so it needs a prefetch of at least one lease per slot (the default).
        self.pool = SlotPool(self.slots_n, self.ctx, self.wake_address,
                             factory=sandbox_factory or default_sandbox_factory,
                             limits=config.limits, nice=config.nice,
                             pipeline=config.pipeline and prefetch >= self.slots_n)
        self.core = self._new_core(prefetch, _hello_info(config, trust))
        self.receipts = None       # the hub's signed receipts (issue 19): worker/earnings.py
        if trust is not None:
            from .earnings import ReceiptInbox  # late: cryptography is heavy

            self.receipts = ReceiptInbox(trust)
        for sha in self.cache.keys():
            self.core.blobs.add(sha)
        self.link = HubLink(self.ctx, config.hub, sndhwm=config.sndhwm,
                            outbox_limit=config.outbox_limit,
                            inflight_limit_bytes=config.inflight_bytes, trust=trust)
        self.batcher = ResultBatcher(self.link.queue, trust=trust,
                                     batch_results=config.batch_results, clock=time.monotonic)
        self.wake: zmq.Socket | None = None
        self.shutdown_requests = 0
        self._handled_requests = 0
        self.load_sampler = load_sampler or MachineLoad().other_pct
        self.idle = IdleDetector(config.idle_threshold_pct, config.idle_pause_after_s,
                                 config.idle_resume_after_s) if config.when_idle else None
        self.exit_reason = ""
        self.started = threading.Event()
        # multi-hub worker (worker/multihub.py): called with ``now`` every loop turn,
        # returns the core's actions for this hub's share of the slots
        self.on_tick: Callable[[float], list] | None = None
        self._pollers: dict[tuple, zmq.Poller] = {}
        self._next_status = self._next_sample = self._next_renice = 0.0

    def _new_core(self, prefetch: int, hello_info: dict) -> WorkerCore:
        """The core, told how many leases may run at once and what slot count to announce.

        With pipelining the core may start two leases per slot: the one the sandbox runs
        and the one written behind it (slots.py), taken from the prefetch, so the worker
        holds as many leases as without; the hub is told the real slot count."""
        config = self.cfg
        self.run_positions = self.slots_n
        if self.pool.pipeline:
            self.run_positions = 2 * self.slots_n
            prefetch -= self.slots_n
        return WorkerCore(CoreConfig(
            slots=self.run_positions, announced_slots=self.slots_n, prefetch=prefetch,
            hello_info=hello_info, heartbeat_interval_s=config.heartbeat_interval_s,
            liveness=config.liveness, backoff_initial_s=config.backoff_initial_s,
            backoff_max_s=config.backoff_max_s, retain_bytes=config.retain_bytes),
            time.monotonic())

    # -- public -----------------------------------------------------------------------

    hub_batches = property(lambda self: self.batcher.hub_batches,
                           doc="the hub's WELCOME accepted RESULT_BATCH")
    hub_batch_signature = property(lambda self: self.batcher.hub_batch_signature,
                                   doc="... and one signature per RESULT_BATCH")
    batches_sent = property(lambda self: self.batcher.batches_sent)
    bytes_sent = property(lambda self: self.link.bytes_sent)
    messages_sent = property(lambda self: self.link.messages_sent)

    def request_shutdown(self) -> None:
        """First call: warm shutdown; second: forced. Safe from signal handlers / threads."""
        self.shutdown_requests += 1

    def stats(self) -> dict:
        c = self.core.counters
        return {
            "state": self.core.state, "worker_id": self.core.worker_id,
            "slots": self.slots_n, "busy": min(self.core.busy, self.slots_n),
            "paused": self.core.paused,
            "done": c.done, "failed": c.failed, "accepted": c.accepted, "dropped": c.dropped,
            "released": c.released, "cancelled": c.cancelled, "reconnects": c.reconnects,
            "leases_received": c.leases_received,
            "cache_hits": self.blobs.hits, "cache_misses": self.blobs.fetched_blobs,
            "fetched_bytes": self.blobs.fetched_bytes, "bytes_sent": self.link.bytes_sent,
            "messages_sent": self.link.messages_sent, "result_batches": self.batcher.batches_sent,
        }

    def run(self) -> str:
        """Serve until shutdown completes; returns the reason."""
        self.wake = self.ctx.socket(zmq.PULL)
        self.wake.setsockopt(zmq.LINGER, 0)
        self.wake.bind(self.wake_address)
        self.pool.start()
        self.started.set()
        log.info("worker %s: %d slots, hub %s, cache %s (%d blobs, %d bytes)",
                 self.core.cfg.hello_info["name"], self.slots_n, self.cfg.hub, self.cache.dir,
                 len(self.cache), self.cache.total_bytes)
        try:
            self._loop()
        finally:
            self._teardown()
        return self.exit_reason

    # -- loop -------------------------------------------------------------------------

    def _loop(self) -> None:
        now = time.monotonic()
        self._next_status = now + self._status_period_s()
        self._next_sample = now + 1.0
        self._next_renice = 0.0
        while not self.core.exited:
            if not self._timers(time.monotonic()):
                break
            self._serve(self._poll(time.monotonic()))
            self._periodic(time.monotonic())

    def _timers(self, now: float) -> bool:
        """Shutdown requests, the core's timers, the multi-hub share; False once exited."""
        core = self.core
        if self.shutdown_requests != self._handled_requests:
            self._handled_requests = self.shutdown_requests
            if self.shutdown_requests == 1:
                self._do(core.begin_shutdown(now, self.cfg.grace_s))
                for key in self.pool.give_back_unstarted():   # pipelined look-aheads
                    self._do(core.slot_gave_up(key, "shutdown", now))
            else:
                self._do(core.force_shutdown(now))
            if core.exited:
                return False
        self._do(core.tick(now))
        if self.on_tick is not None:
            self._do(self.on_tick(now))
        return not core.exited

    def _poll(self, now: float) -> dict:
        """Wait for the hub socket, a slot's wake-up or the next timer."""
        link = self.link
        congested = link.congested()
        backlog = not congested and not self.pool.events.empty()
        timeout_s = 0.0 if backlog else min(self.core.next_timer(now), 0.01 if congested else 0.1)
        if self.batcher.batch:      # collected results leave within batch_delay_s
            timeout_s = max(0.0, min(timeout_s, self.batcher.since + self.cfg.batch_delay_s - now))
        key = (id(link.dealer), bool(link.outbox))
        poller = self._pollers.get(key)
        if poller is None:
            self._pollers.clear()
            poller = zmq.Poller()
            poller.register(self.wake, zmq.POLLIN)
            if link.dealer is not None:
                poller.register(link.dealer, zmq.POLLIN | (zmq.POLLOUT if link.outbox else 0))
            self._pollers[key] = poller
        # whole milliseconds, rounded up: a fraction would be truncated to 0 (a busy spin)
        return dict(poller.poll(math.ceil(timeout_s * 1000)))

    def _serve(self, events: dict) -> None:
        dealer = self.link.dealer
        if dealer is not None and dealer in events:
            if events[dealer] & zmq.POLLOUT:
                self.link.flush()
            if events[dealer] & zmq.POLLIN:
                self._receive()
        if self.wake in events:
            try:
                while True:
                    self.wake.recv(zmq.NOBLOCK)
            except zmq.Again:
                pass
        if not self.link.congested():
            self._slot_events()

    def _periodic(self, now: float) -> None:
        core = self.core
        if self.batcher.due(now, self.cfg.batch_delay_s, core.busy > 0 and not core.draining):
            self.batcher.flush(self.link.dealer is not None)
        if now >= self._next_renice:
            self._next_renice = now + 0.2
            self.pool.renice()
        if now >= self._next_status:
            self._status(now)
            self._next_status = now + self._status_period_s()
        if self.idle is not None and now >= self._next_sample:
            self._next_sample = now + self.cfg.idle_sample_s
            self._sample_idle(now)

    def _status_period_s(self) -> float:
        return 0.5 if self.cfg.live_status else self.cfg.status_interval_s

    def _receive(self) -> None:
        for _ in range(256):
            frames = self.link.receive()
            if frames is None:
                return
            try:
                msg = decode(frames)
            except ProtocolError as exc:
                log.warning("dropping a bad message from the hub: %s", exc)
                continue
            now = time.monotonic()
            if msg.type is MsgType.BLOB:
                self._on_blob(msg, now)
            elif msg.type is MsgType.RECEIPTS and self.receipts is not None:   # issue 19
                ack = self.receipts.on_receipts(msg["receipts"],
                                                [*msg["batches"], *msg["columns"]],
                                                bytes(frames[1]))
                if ack is not None:     # ids of checked receipts, at most a message's 256
                    self.link.queue(encode_trusted(MsgType.RECEIPT_ACK, ack))
            elif msg.type is MsgType.WELCOME:
                self.batcher.welcomed(msg["features"])
            self._do(self.core.on_message(msg, now))

    def _on_blob(self, msg: Message, now: float) -> None:
        sha = msg["sha256"]
        data = msg.blobs[0]
        if sha not in self.core.fetching:
            log.warning("hub sent blob %s that was not asked for; ignored", sha[:12])
            return
        try:
            self.blobs.fetched(sha, data)
        except ValueError as exc:
            log.error("hub sent a blob that does not match its sha256: %s", exc)
            return
        log.info("fetched blob %s (%d bytes) from the hub", sha[:16], len(data))
        self._do(self.core.blob_available(sha, now))

    def _slot_events(self) -> None:
        core = self.core
        for ev in self.pool.drain_events(256):
            if isinstance(ev, RunFailed):
                rec = ev.outcome
                log.info("fragment %s failed: %s %s", ev.key, rec.outcome.value, rec.message[:200])
            self._do(deliver(core, ev, time.monotonic()))

    # -- actions ----------------------------------------------------------------------

    def _do(self, actions: list) -> None:
        for a in actions:
            if isinstance(a, Send):
                if self.link.dealer is not None:
                    self.batcher.send(a)
            elif isinstance(a, Run):
                self._start(a)
            elif isinstance(a, Abort):
                log.debug("aborting %s: %s", a.key, a.reason)
                self.pool.abort(a.key)
            elif isinstance(a, Connect):
                self._disconnect()
                self.link.connect()
            elif isinstance(a, Disconnect):
                self._disconnect()
            elif isinstance(a, PauseSandboxes):
                log.info("pausing sandboxes (the machine is busy)")
                self.pool.set_paused(True)
            elif isinstance(a, ResumeSandboxes):
                log.info("resuming sandboxes (the machine is idle again)")
                self.pool.set_paused(False)
            elif isinstance(a, Exit):
                self.exit_reason = a.reason
                log.info("worker exiting: %s", a.reason)

    def _disconnect(self) -> None:
        # collected results are dropped: the core replays them after the next WELCOME
        self.batcher.disconnected()
        self.link.close()

    def _start(self, run: Run) -> None:
        item = run.item
        program = self.blobs.get(item.program_sha256)
        shared = self.blobs.get(item.shared_sha256) if program is not None else None
        if program is None or shared is None:
            sha = item.program_sha256 if program is None else item.shared_sha256
            log.info("blob %s missing or corrupt in the cache; fetching it again", sha[:12])
            self._do(self.core.blob_lost(sha, item.key, time.monotonic()))
            return
        self.pool.submit(SlotWork(item, program, shared))

    # -- status / idle ------------------------------------------------------------------

    def status_line(self) -> str:
        s = self.stats()
        state = "paused" if s["paused"] else s["state"]
        return (f"[{state}] slots {s['busy']}/{s['slots']} busy | done {s['done']} "
                f"failed {s['failed']} | cache hits {s['cache_hits']} fetched {s['cache_misses']} "
                f"| sent {_human(s['bytes_sent'])}")

    def _status(self, now: float) -> None:
        if self.cfg.live_status:
            sys.stderr.write("\r\x1b[2K" + self.status_line())
            sys.stderr.flush()
        else:
            log.info("status: %s", self.status_line(), extra=self.stats())

    def _sample_idle(self, now: float) -> None:
        verdict = self.idle.sample(now, self.load_sampler())
        if verdict is IdleVerdict.PAUSE:
            self._do(self.core.pause(now))
        elif verdict is IdleVerdict.RESUME:
            self._do(self.core.resume(now))

    # -- teardown -----------------------------------------------------------------------

    def _teardown(self) -> None:
        if self.cfg.live_status:
            sys.stderr.write("\r\x1b[2K" + self.status_line() + "\n")
        self.pool.stop()
        self.batcher.flush(self.link.dealer is not None)
        self.link.linger_close(2.0)     # let the last messages (results, RELEASE, BYE) leave
        if self.wake is not None:
            self.wake.close(0)
            self.wake = None
        if self.receipts is not None:
            self.receipts.close()


def _default_cache_dir() -> str:
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                        "cpushare-worker")


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
