"""The worker's I/O shell: one loop thread owns the DEALER socket to the hub.

It feeds the pure core (:mod:`cpushare_mq.worker.state`) with messages, slot events and the
time, and executes the actions that come back: sending, (re)connecting, starting and aborting
runs in the slot threads (:mod:`cpushare_mq.worker.slots`), pausing sandboxes. Blobs
(programs, shared inputs) go through the on-disk cache (:mod:`cpushare_mq.worker.cache`).

Flow control: messages the socket will not take (its high-water mark is reached: slow hub
link) wait in a small outbox; while the outbox is over its limit, the loop stops draining the
slots' bounded event queue, which in turn stops the slots reading their sandboxes' output.
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
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

import psutil
import zmq

from .. import __version__
from ..errors import ConfigError, ProtocolError
from ..protocol import ABI_VERSION, Feature, Message, MsgType, decode, encode, encode_trusted
from ..protocol import Limits as WireLimits
from .cache import BlobCache
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

_UNVALIDATED = (MsgType.RESULT_CHUNK, MsgType.RESULT_END)
# messages that may overtake collected RESULT_ENDs (any other flushes the batch first)
_AFTER_BATCH_OK = (MsgType.RESULT_CHUNK, MsgType.READY, MsgType.HEARTBEAT, MsgType.FAILURE)


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
    max_memory_bytes: int = 1 << 30       # per sandbox
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
        "memory_bytes": config.max_memory_bytes,
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
    hello_info["features"] = features
    return hello_info


class WorkerAgent:
    """``WorkerAgent(config).run()`` serves the hub until shutdown; see :meth:`request_shutdown`."""

    TRACK_BYTES = 64 << 10
    BATCH_BLOB_MAX = 16 << 10      # RESULT_ENDs whose last chunk is bigger go out alone
    BATCH_BYTES_MAX = 256 << 10    # a RESULT_BATCH's blobs, at most (then it is sent)
    BATCH_ITEMS_MAX = 256          # ... and its items (the protocol allows 1024)

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
        cache_dir = config.cache_dir or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cpushare-worker")
        self.cache = BlobCache(cache_dir, config.cache_size_bytes)
        self.ctx = context or zmq.Context.instance()
        # unique per agent (several may share a context): no process-wide counter
        self.wake_address = f"inproc://cpushare-worker-wake-{os.getpid()}-{secrets.token_hex(8)}"
        prefetch = self.slots_n if config.prefetch is None else config.prefetch
        # Pipelining hands one of the prefetched leases of each slot to its sandbox early,
        # so it needs a prefetch of at least one lease per slot (the default).
        self.pool = SlotPool(self.slots_n, self.ctx, self.wake_address,
                             factory=sandbox_factory or default_sandbox_factory,
                             max_memory_bytes=config.max_memory_bytes, nice=config.nice,
                             pipeline=config.pipeline and prefetch >= self.slots_n)
        self.core = self._new_core(prefetch, _hello_info(config, trust))
        self.receipts = None       # the hub's signed receipts (issue 19): worker/earnings.py
        if trust is not None:
            from .earnings import ReceiptInbox  # late: cryptography is heavy

            self.receipts = ReceiptInbox(trust)
        for sha in self.cache.keys():
            self.core.blobs.add(sha)
        self.memo: OrderedDict[str, bytes] = OrderedDict()   # blobs in use, verified
        self.memo_bytes = 0
        self.memo_limit = 256 << 20
        self.dealer: zmq.Socket | None = None
        self.outbox: deque[list] = deque()
        self.inflight: deque[tuple[zmq.MessageTracker, int]] = deque()
        self.inflight_bytes = 0
        self.wake: zmq.Socket | None = None
        self.hub_batches = False              # the hub's WELCOME accepted RESULT_BATCH
        self.hub_signed_failures = False      # the hub's WELCOME accepted signed FAILUREs
        self.hub_batch_signature = False      # ... and one signature per RESULT_BATCH
        self.batch: list[tuple[dict, bytes]] | None = None   # RESULT_ENDs being collected
        self.batch_bytes = 0                  # (a list while the hub takes RESULT_BATCH)
        self.batch_since = 0.0                # when its first item came
        self.batches_sent = 0
        self.shutdown_requests = 0
        self._handled_requests = 0
        self.load_sampler = load_sampler
        self.idle = IdleDetector(config.idle_threshold_pct, config.idle_pause_after_s,
                                 config.idle_resume_after_s) if config.when_idle else None
        self.exit_reason = ""
        self.started = threading.Event()
        # multi-hub worker (worker/multihub.py): called with ``now`` every loop turn,
        # returns the core's actions for this hub's share of the slots
        self.on_tick: Callable[[float], list] | None = None
        # statistics
        self.bytes_sent = 0
        self.messages_sent = 0
        self.fetched_blobs = 0
        self.fetched_bytes = 0
        self.blob_loads = 0
        self._cpu_prev: tuple[float, float, float] | None = None

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
            "cache_hits": self.cache.hits + self.blob_loads, "cache_misses": self.fetched_blobs,
            "fetched_bytes": self.fetched_bytes, "bytes_sent": self.bytes_sent,
            "messages_sent": self.messages_sent, "result_batches": self.batches_sent,
        }

    def run(self) -> str:
        """Serve until shutdown completes; returns the reason."""
        self._handshake_said: dict[str, float] = {}   # handshake errors logged (plain TCP)
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
        core = self.core
        next_status = time.monotonic() + (0.5 if self.cfg.live_status else self.cfg.status_interval_s)
        next_sample = time.monotonic() + 1.0
        next_renice = 0.0
        poller_cache: dict[tuple, zmq.Poller] = {}
        while not core.exited:
            now = time.monotonic()
            if self.shutdown_requests != self._handled_requests:
                self._handled_requests = self.shutdown_requests
                if self.shutdown_requests == 1:
                    self._do(core.begin_shutdown(now, self.cfg.grace_s))
                    for key in self.pool.give_back_unstarted():   # pipelined look-aheads
                        self._do(core.slot_gave_up(key, "shutdown", now))
                else:
                    self._do(core.force_shutdown(now))
                if core.exited:
                    break
            self._do(core.tick(now))
            if self.on_tick is not None:
                self._do(self.on_tick(now))
            if core.exited:
                break
            congested = self._congested()
            backlog = not congested and not self.pool.events.empty()
            timeout_s = 0.0 if backlog else min(core.next_timer(now), 0.01 if congested else 0.1)
            if self.batch:      # collected results leave within batch_delay_s
                timeout_s = max(0.0, min(timeout_s, self.batch_since + self.cfg.batch_delay_s - now))
            key = (id(self.dealer), bool(self.outbox))
            poller = poller_cache.get(key)
            if poller is None:
                poller_cache.clear()
                poller = zmq.Poller()
                poller.register(self.wake, zmq.POLLIN)
                if self.dealer is not None:
                    poller.register(self.dealer, zmq.POLLIN | (zmq.POLLOUT if self.outbox else 0))
                poller_cache[key] = poller
            # whole milliseconds, rounded up: a fraction would be truncated to 0 (a busy spin)
            events = dict(poller.poll(math.ceil(timeout_s * 1000)))
            if self.dealer is not None and self.dealer in events:
                ev = events[self.dealer]
                if ev & zmq.POLLOUT:
                    self._flush()
                if ev & zmq.POLLIN:
                    self._receive()
            if self.wake in events:
                try:
                    while True:
                        self.wake.recv(zmq.NOBLOCK)
                except zmq.Again:
                    pass
            if not self._congested():
                self._slot_events()
            now = time.monotonic()
            if self.batch and (now - self.batch_since >= self.cfg.batch_delay_s
                               or core.busy == 0 or core.draining):
                self._flush_batch()
            if now >= next_renice:
                next_renice = now + 0.2
                self.pool.renice()
            if now >= next_status:
                self._status(now)
                next_status = now + (0.5 if self.cfg.live_status else self.cfg.status_interval_s)
            if self.idle is not None and now >= next_sample:
                next_sample = now + self.cfg.idle_sample_s
                self._sample_idle(now)

    def _receive(self) -> None:
        core = self.core
        for _ in range(256):
            sock = self.dealer
            if sock is None:
                return
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=True)
            except zmq.Again:
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
                ack = self.receipts.on_receipts(msg["receipts"])
                if ack is not None:
                    self._queue_frames(encode(MsgType.RECEIPT_ACK, ack))
            elif msg.type is MsgType.WELCOME:
                self.hub_batches = (self.cfg.batch_results
                                    and Feature.RESULT_BATCH in msg["features"])
                self.batch = [] if self.hub_batches else None
                self.batch_bytes = 0
                self.hub_signed_failures = Feature.SIGNED_FAILURES in msg["features"]
                self.hub_batch_signature = (self.hub_batches and self.trust is not None
                                            and Feature.BATCH_SIGNATURE in msg["features"])
            self._do(core.on_message(msg, now))

    def _on_blob(self, msg: Message, now: float) -> None:
        sha = msg["sha256"]
        data = msg.blobs[0]
        if sha not in self.core.fetching:
            log.warning("hub sent blob %s that was not asked for; ignored", sha[:12])
            return
        try:
            self.cache.put(data, sha)
        except ValueError as exc:
            log.error("hub sent a blob that does not match its sha256: %s", exc)
            return
        self.fetched_blobs += 1
        self.fetched_bytes += len(data)
        log.info("fetched blob %s (%d bytes) from the hub", sha[:16], len(data))
        self._memo_put(sha, data)
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
                self._send(a)
            elif isinstance(a, Run):
                self._start(a)
            elif isinstance(a, Abort):
                log.debug("aborting %s: %s", a.key, a.reason)
                self.pool.abort(a.key)
            elif isinstance(a, Connect):
                self._connect()
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

    def _send(self, s: Send) -> None:
        if self.dealer is None:
            return
        batchable = (self.batch is not None and s.type is MsgType.RESULT_END
                     and len(s.blobs) == 1 and len(s.blobs[0]) <= self.BATCH_BLOB_MAX)
        if (self.trust is not None and s.type is MsgType.RESULT_END
                and not s.body.get("signature") and not (batchable and self.hub_batch_signature)):
            self.trust.sign_result_end(s.body)    # kept in the body: replays need no re-signing
        if s.type is MsgType.FAILURE:
            if self.trust is not None and self.hub_signed_failures:
                if not s.body.get("signature"):
                    self.trust.sign_failure(s.body)
            else:
                s.body.pop("signature", None)     # a hub without the feature refuses the field
        if batchable:
            if not self.batch:
                self.batch_since = time.monotonic()
            self.batch.append((s.body, s.blobs[0]))
            self.batch_bytes += len(s.blobs[0])
            if (len(self.batch) >= self.BATCH_ITEMS_MAX
                    or self.batch_bytes >= self.BATCH_BYTES_MAX):
                self._flush_batch()
            return
        if self.batch and s.type is not MsgType.RESULT_END and s.type not in _AFTER_BATCH_OK:
            self._flush_batch()     # e.g. BYE: results collected before it must go first
        # results are built by the core from local values, plain JSON types only (tests
        # check them against the schema); everything else is validated before it goes out
        try:
            if s.type in _UNVALIDATED:
                frames = encode_trusted(s.type, s.body, s.blobs)
            else:
                frames = encode(s.type, s.body, s.blobs)
        except (ProtocolError, TypeError, ValueError) as exc:   # a bug on our side: never
            log.error("not sending an invalid %s: %s", s.type.name, exc)   # send it, never die
            return
        self._queue_frames(frames)

    def _flush_batch(self) -> None:
        """Send the collected RESULT_ENDs: one alone as RESULT_END, several as RESULT_BATCH
        (item i's last chunk is binary frame i). With the feature ``batch_signature`` they
        are signed here: a RESULT_END alone on its own, a RESULT_BATCH once as a whole (its
        items then carry no signature; a replay to another hub signs them again)."""
        batch = self.batch
        if not batch:
            return
        self.batch, self.batch_bytes = [], 0   # still collecting (the hub takes batches)
        if self.dealer is None:
            return      # the core keeps them for replay after the reconnect
        try:
            if len(batch) == 1:
                body = batch[0][0]
                if self.trust is not None and not body.get("signature"):
                    self.trust.sign_result_end(body)
                frames = encode_trusted(MsgType.RESULT_END, body, [batch[0][1]])
            else:
                head: dict = {"results": [b for b, _ in batch]}
                if self.hub_batch_signature:
                    for b in head["results"]:
                        b.pop("signature", None)    # (a replayed item signed alone before)
                    head["signature"] = self.trust.sign_batch(head["results"])
                frames = encode_trusted(MsgType.RESULT_BATCH, head, [blob for _, blob in batch])
                self.batches_sent += 1
        except (ProtocolError, TypeError, ValueError) as exc:   # a bug on our side: never
            log.error("not sending %d results: %s", len(batch), exc)  # die of it
            return
        self._queue_frames(frames)

    def _queue_frames(self, frames: list) -> None:
        self.messages_sent += 1
        self.bytes_sent += sum(len(f) for f in frames)
        if self.outbox:
            self.outbox.append(frames)
            return
        if not self._send_frames(frames):
            self.outbox.append(frames)

    def _send_frames(self, frames: list) -> bool:
        """Hand one message to ZeroMQ without blocking; False if its queue is full. Large
        messages are tracked until ZeroMQ has written them out, so the bytes queued inside
        the socket stay bounded (:meth:`_congested`)."""
        size = len(frames[-1]) if len(frames) > 2 else 0
        try:
            if size >= self.TRACK_BYTES:
                tracker = self.dealer.send_multipart(frames, zmq.NOBLOCK, copy=False, track=True)
                self.inflight.append((tracker, size))
                self.inflight_bytes += size
            else:
                self.dealer.send_multipart(frames, zmq.NOBLOCK)   # small: copying is cheaper
        except zmq.Again:
            return False
        return True

    def _congested(self) -> bool:
        """True while the hub link is behind: the loop then stops taking slot events."""
        while self.inflight and self.inflight[0][0].done:
            self.inflight_bytes -= self.inflight.popleft()[1]
        return len(self.outbox) >= self.cfg.outbox_limit or self.inflight_bytes > self.cfg.inflight_bytes

    def _flush(self) -> None:
        while self.outbox and self.dealer is not None:
            if not self._send_frames(self.outbox[0]):
                return
            self.outbox.popleft()

    def _connect(self) -> None:
        self._disconnect()
        sock = self.ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, self.cfg.sndhwm)
        sock.setsockopt(zmq.RCVHWM, 10000)
        sock.setsockopt(zmq.MAXMSGSIZE, WireLimits.MAX_MESSAGE_BYTES)
        sock.setsockopt(zmq.RECONNECT_IVL, 100)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
        if "[" in self.cfg.hub:
            sock.setsockopt(zmq.IPV6, 1)
        if self.trust is not None:
            self.trust.secure_socket(sock)      # CURVE client options (with --hub-key)
        else:   # plain TCP: a CURVE hub refuses the handshake; say so instead of "not answering"
            from ..trust.workerside import watch_handshakes

            watch_handshakes(sock, curve=False, said_at=self._handshake_said)
        try:
            sock.connect(self.cfg.hub)
        except zmq.ZMQError as exc:
            sock.close(0)
            raise ConfigError(f"cannot connect to hub {self.cfg.hub!r}: {exc}") from exc
        log.debug("connecting to %s", self.cfg.hub)
        self.dealer = sock

    def _disconnect(self) -> None:
        # collected results are dropped: the core replays them after the next WELCOME
        self.batch, self.batch_bytes = None, 0
        self.hub_batches = False
        self.hub_signed_failures = False
        self.hub_batch_signature = False
        self.outbox.clear()
        self.inflight.clear()
        self.inflight_bytes = 0
        if self.dealer is not None:
            self.dealer.close(0)
            self.dealer = None

    def _memo_put(self, sha: str, data: bytes) -> None:
        if sha in self.memo:
            self.memo.move_to_end(sha)
            return
        self.memo[sha] = data
        self.memo_bytes += len(data)
        while self.memo_bytes > self.memo_limit and len(self.memo) > 1:
            _, old = self.memo.popitem(last=False)
            self.memo_bytes -= len(old)

    def _blob(self, sha: str) -> bytes | None:
        data = self.memo.get(sha)
        if data is not None:
            self.memo.move_to_end(sha)
            self.blob_loads += 1
            return data
        data = self.cache.get(sha)
        if data is not None:
            self._memo_put(sha, data)
        return data

    def _start(self, run: Run) -> None:
        item = run.item
        program = self._blob(item.program_sha256)
        shared = self._blob(item.shared_sha256) if program is not None else None
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

    def _other_load_pct(self) -> float:
        """CPU use of everything but this worker and its sandboxes, in % of the machine."""
        if self.load_sampler is not None:
            return self.load_sampler()
        t = psutil.cpu_times()
        # guest time is already counted in user time on Linux
        busy = (sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0)
                - getattr(t, "guest_nice", 0.0))
        ours = 0.0
        me = psutil.Process()
        try:
            procs = [me, *me.children(recursive=True)]
        except psutil.Error:
            procs = [me]
        for p in procs:
            try:
                ct = p.cpu_times()
                ours += ct.user + ct.system
            except psutil.Error:
                pass
        wall = time.monotonic()
        prev, self._cpu_prev = self._cpu_prev, (wall, busy, ours)
        if prev is None:
            return 0.0
        dt = (wall - prev[0]) * (psutil.cpu_count() or 1)
        if dt <= 0:
            return 0.0
        other = (busy - prev[1]) - max(0.0, ours - prev[2])
        return max(0.0, 100.0 * other / dt)

    def _sample_idle(self, now: float) -> None:
        verdict = self.idle.sample(now, self._other_load_pct())
        if verdict == "pause":
            self._do(self.core.pause(now))
        elif verdict == "resume":
            self._do(self.core.resume(now))

    # -- teardown -----------------------------------------------------------------------

    def _teardown(self) -> None:
        if self.cfg.live_status:
            sys.stderr.write("\r\x1b[2K" + self.status_line() + "\n")
        self.pool.stop()
        self._flush_batch()
        if self.dealer is not None:
            # let the last messages (results, RELEASE, BYE) leave
            deadline = time.monotonic() + 2.0
            while self.outbox and time.monotonic() < deadline:
                if self.dealer.poll(100, zmq.POLLOUT):
                    self._flush()
            self.dealer.setsockopt(zmq.LINGER, 2000)
            self.dealer.close()
            self.dealer = None
        if self.wake is not None:
            self.wake.close(0)
            self.wake = None
        if self.receipts is not None:
            self.receipts.close()


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
