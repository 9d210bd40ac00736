"""Slot threads: each runs fragments in its own (warm) sandbox and hands the results to the
socket-owning loop thread.

A slot takes :class:`~.slotwork.SlotWork` items (frozen) from a shared queue, keeps one
sandbox alive for consecutive fragments of the same job (same program, shared input and
limits), cuts the result into raw chunks of at most ``protocol.Limits.RAW_CHUNK_BYTES``,
compresses each chunk (zstd level 1, a compressor per thread) and puts frozen events
(:mod:`.slotwork`) on a bounded queue: ``ChunkReady``, ``RunEnded``, ``RunFailed`` and
``SlotGaveUp`` (the sandbox could not be set up: hand the lease back).

The queue is bounded, so a slow hub link (the loop stops draining it) stops the slot from
reading its sandbox's output pipe, and the sandboxed program blocks on write: memory stays
bounded whatever the result size. After each put the slot wakes the loop through an
``inproc`` PUSH socket (coalesced: at most one wake-up in flight).

Pipelining: while a fragment runs, a slot takes the next work item for the same sandbox
from the queue (only when no other slot is waiting for work) and the sandbox writes it to
the program behind the current one (``Sandbox.run(next_fragment=...)``), so the program
never waits for the slot -> loop -> slot hand-off between fragments. The loop gives the pool
up to two items per slot for that (``AgentConfig.pipeline``). An aborted look-ahead item is
reported as a failure ("aborted") without running, and its sandbox is replaced.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import zmq
import zstandard

from ..errors import BadProgram, SandboxError
from ..outcome import Outcome, OutcomeRecord
from ..protocol import Limits as WireLimits
from ..sandbox.limits import SandboxLimits
from .slotwork import (
    ChunkReady,
    LeaseKey,
    RunEnded,
    RunFailed,
    SlotEvent,
    SlotGaveUp,
    SlotWork,
    WorkItem,
)

log = logging.getLogger(__name__)

RAW_CHUNK = WireLimits.RAW_CHUNK_BYTES


@dataclass(frozen=True)
class SandboxSpec:
    """Everything that decides whether a warm sandbox can serve the next fragment."""
    program_sha256: str
    shared_sha256: str
    sandbox_limits: SandboxLimits      # the seller's, with the lease's job limits

    def limits(self) -> SandboxLimits:
        """The :class:`~cpushare_mq.sandbox.SandboxLimits` of a sandbox for this spec."""
        return self.sandbox_limits


class SandboxLike(Protocol):
    """What a slot needs of a sandbox (:class:`cpushare_mq.sandbox.Sandbox` and test doubles)."""

    pid: int | None

    def run(self, fragment: bytes, on_chunk: Callable[[bytes], None], **kw: Any) -> OutcomeRecord:
        ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SandboxFactory:
    """Makes the sandbox of one :class:`SandboxSpec`: ``make(program, shared_input, spec)``.

    ``pipelining``: its sandboxes take ``run(..., next_fragment=...)``, so the pool may hand
    a slot its next work item early (a factory that says False gets one item per slot at a
    time). A plain callable given to :class:`SlotPool` is a factory without pipelining."""

    make: Callable[[bytes, bytes, SandboxSpec], SandboxLike]
    pipelining: bool = False

    def __call__(self, program: bytes, shared: bytes, spec: SandboxSpec) -> SandboxLike:
        return self.make(program, shared, spec)


def _real_sandbox(program: bytes, shared: bytes, spec: SandboxSpec) -> SandboxLike:
    from ..sandbox import Sandbox  # imported late: the sandbox is a lower layer

    return Sandbox(program, shared_input=shared, limits=spec.limits())


#: the real sandbox (c/loader), which pipelines
default_sandbox_factory = SandboxFactory(_real_sandbox, pipelining=True)


def as_factory(factory: SandboxFactory | Callable[[bytes, bytes, SandboxSpec], SandboxLike]
               ) -> SandboxFactory:
    """``factory`` itself, or a plain callable as a factory without pipelining."""
    return factory if isinstance(factory, SandboxFactory) else SandboxFactory(factory)


class _Stop(Exception):
    pass


STOP = object()     # take_spare_work took a stop marker
ABORTED = OutcomeRecord(Outcome.CRASH, message="aborted")


class Slot(threading.Thread):
    def __init__(self, pool: SlotPool, number: int):
        super().__init__(name=f"slot-{number}", daemon=True)
        self.pool = pool
        self.number = number
        self.lock = threading.Lock()
        self.current: LeaseKey | None = None
        self.sandbox: SandboxLike | None = None
        self.spec: SandboxSpec | None = None
        self.aborted = False
        self.niced_pid: int | None = None
        self.paused = False
        self.ahead: SlotWork | None = None   # the next work item, taken early (pipelining)
        self.ahead_key: LeaseKey | None = None
        self.ahead_aborted = False
        self.ahead_queued = False            # its fragment went to the sandbox

    # called from the loop thread --------------------------------------------------------

    def abort(self, key: LeaseKey) -> bool:
        with self.lock:
            if self.ahead_key == key:
                self.ahead_aborted = True    # reported when its turn comes
                return True
            if self.current != key:
                return False
            self.aborted = True
            sb = self.sandbox
        if sb is not None:
            try:
                sb.close()
            except Exception:   # never let a sandbox problem take the loop down
                log.exception("slot %d: closing sandbox failed", self.number)
        return True

    def give_back_ahead(self) -> LeaseKey | None:
        """Hand back the look-ahead item (warm shutdown): its key, or ``None``."""
        with self.lock:
            item, self.ahead, self.ahead_key = self.ahead, None, None
            self.ahead_aborted = self.ahead_queued = False
        # a fragment already written to the program is left there: the sandbox replaces
        # the process when the next run() is for another fragment (or at stop)
        return None if item is None else item.item.key

    def set_paused(self, paused: bool) -> None:
        with self.lock:
            self.paused = paused
            sb = self.sandbox
        if sb is not None:
            try:
                sb.pause() if paused else sb.resume()
            except Exception:
                log.exception("slot %d: %s failed", self.number, "pause" if paused else "resume")

    # the thread ---------------------------------------------------------------------

    def run(self) -> None:
        self.cctx = zstandard.ZstdCompressor(level=1)
        self.push = self.pool.ctx.socket(zmq.PUSH)
        self.push.setsockopt(zmq.LINGER, 0)
        self.push.connect(self.pool.wake_address)
        try:
            while True:
                try:
                    item = self._take_ahead()
                except _Stop:
                    break
                if item is None:
                    item = self.pool.take_work()
                if item is None or self.pool.stopping:
                    break
                try:
                    self._run_one(item)
                except _Stop:
                    break
                except Exception as exc:  # a bug here must not kill the slot
                    log.exception("slot %d: unexpected error", self.number)
                    self._close_sandbox()
                    try:
                        self._emit(SlotGaveUp(item.item.key, f"worker error: {exc}"))
                    except _Stop:
                        break
                finally:
                    with self.lock:
                        self.current = None
        finally:
            self._close_sandbox()
            self.push.close(0)

    def _take_ahead(self) -> SlotWork | None:
        with self.lock:
            item, self.ahead, self.ahead_key = self.ahead, None, None
            aborted, self.ahead_aborted = self.ahead_aborted, False
            queued, self.ahead_queued = self.ahead_queued, False
        if item is not None and aborted:
            if queued:
                self._close_sandbox()   # the program has the unwanted fragment next
            self._emit(RunFailed(item.item.key, ABORTED))
            return None
        return item

    def _next_fragment(self, spec: SandboxSpec) -> bytes | None:
        """Asked by the sandbox while the current fragment runs: the next work item's
        input when there is one no idle slot is waiting for and it fits this sandbox."""
        if self.ahead is not None or self.pool.stopping:
            return None
        work = self.pool.take_spare_work()
        if work is None:
            return None
        if work is STOP:             # a stop marker: put it back for the thread loop
            self.pool.work.put(None)
            return None
        item = work.item
        with self.lock:
            self.ahead, self.ahead_key = work, item.key
        if self._spec_for(item) != spec:
            return None              # runs next, in a new sandbox
        with self.lock:
            if self.ahead_aborted:
                return None
            self.ahead_queued = True
        self.pool.pipelined += 1
        return item.input

    def _spec_for(self, item: WorkItem) -> SandboxSpec:
        return SandboxSpec(item.program_sha256, item.shared_sha256,
                           self.pool.limits.for_lease(item))

    def _close_sandbox(self) -> None:
        with self.lock:
            sb, self.sandbox, self.spec = self.sandbox, None, None
        if sb is not None:
            try:
                sb.close()
            except Exception:
                log.exception("slot %d: closing sandbox failed", self.number)

    def _emit(self, event: SlotEvent) -> None:
        pool = self.pool
        while True:
            if pool.stopping:
                raise _Stop
            try:
                pool.events.put(event, timeout=0.2)
                break
            except queue.Full:
                continue
        if not pool.wake_pending:
            pool.wake_pending = True
            try:
                self.push.send(b"", zmq.NOBLOCK)
            except zmq.Again:
                pass

    def _run_one(self, work: SlotWork) -> None:
        item = work.item
        spec = self._spec_for(item)
        if self.sandbox is not None and self.spec != spec:
            self._close_sandbox()
        with self.lock:
            self.current = item.key
            self.aborted = False
        if self.sandbox is None and not self._open_sandbox(work, spec):
            return
        sb = self.sandbox
        stream = _ResultStream(item.key, self)
        rec = self._run_sandbox(sb, item, spec, stream)
        if rec is None:
            return
        self._lower_priority(sb)
        if self.aborted:
            self._close_sandbox()   # closed under it: start a fresh one next time
            self._emit(RunFailed(item.key, ABORTED))
        elif rec.ok:
            self._emit(stream.ended(rec))
        else:
            self._emit(RunFailed(item.key, rec))

    def _open_sandbox(self, work: SlotWork, spec: SandboxSpec) -> bool:
        """A sandbox for ``work`` (False: it could not start, and that was reported)."""
        key = work.item.key
        try:
            sb = self.pool.factory(work.program, work.shared, spec)
        except BadProgram as exc:
            self._emit(RunFailed(key, OutcomeRecord(Outcome.BAD_PROGRAM, message=str(exc)[:1000])))
            return False
        except SandboxError as exc:
            log.error("slot %d: cannot set up a sandbox: %s", self.number, exc)
            self._emit(SlotGaveUp(key, f"sandbox error: {exc}"))
            return False
        with self.lock:
            self.sandbox, self.spec = sb, spec
            if self.paused:     # paused while it was being set up
                sb.pause()
        return True

    def _run_sandbox(self, sb: SandboxLike, item: WorkItem, spec: SandboxSpec,
                     stream: _ResultStream) -> OutcomeRecord | None:
        """Run ``item`` in ``sb``; ``None``: the sandbox failed on our side (reported)."""
        try:
            if self.pool.pipeline:
                return sb.run(item.input, on_chunk=stream.add,
                              next_fragment=lambda: self._next_fragment(spec))
            return sb.run(item.input, on_chunk=stream.add)
        except BadProgram as exc:
            return OutcomeRecord(Outcome.BAD_PROGRAM, message=str(exc)[:1000])
        except SandboxError as exc:
            if self.aborted:
                return ABORTED
            log.error("slot %d: sandbox failed: %s", self.number, exc)
            self._close_sandbox()
            self._emit(SlotGaveUp(item.key, f"sandbox error: {exc}"))
            return None

    def _lower_priority(self, sb: SandboxLike) -> None:
        nice = self.pool.nice
        if nice is None:
            return
        pid = sb.pid
        if pid is None or pid == self.niced_pid:
            return
        self.niced_pid = pid
        try:
            os.setpriority(os.PRIO_PROCESS, pid, nice)
        except OSError as exc:
            log.debug("slot %d: setpriority(%d) failed: %s", self.number, pid, exc)


class _ResultStream:
    """One run's output cut into compressed raw chunks, hashed as it goes."""

    def __init__(self, key: LeaseKey, slot: Slot):
        self.key = key
        self.slot = slot
        self.hash = hashlib.sha256()
        self.buf = bytearray()
        self.seq = 0
        self.size = 0

    def add(self, b: bytes) -> None:
        slot = self.slot
        if slot.aborted:
            return
        self.hash.update(b)
        self.size += len(b)
        buf = self.buf
        buf.extend(b)
        while len(buf) >= RAW_CHUNK:
            piece = bytes(buf[:RAW_CHUNK])
            del buf[:RAW_CHUNK]
            slot._emit(ChunkReady(self.key, self.seq, slot.cctx.compress(piece)))
            self.seq += 1

    def ended(self, rec: OutcomeRecord) -> RunEnded:
        last = self.slot.cctx.compress(bytes(self.buf))
        return RunEnded(self.key, self.seq + 1, self.hash.hexdigest(), self.size, rec, last)


class SlotPool:
    """N slot threads sharing one work queue and one bounded event queue."""

    def __init__(self, n: int, ctx: zmq.Context, wake_address: str, *,
                 factory: SandboxFactory | Callable = default_sandbox_factory,
                 limits: SandboxLimits | None = None, nice: int | None = 19,
                 event_queue_size: int | None = None, pipeline: bool = True):
        self.ctx = ctx
        self.factory = as_factory(factory)
        self.pipeline = pipeline and self.factory.pipelining
        self.pipelined = 0                   # fragments handed to a sandbox behind another
        self.waiting = 0                     # slot threads blocked waiting for work
        self.waiting_lock = threading.Lock()
        self.wake_address = wake_address
        self.limits = limits or SandboxLimits()   # the seller's (job values come per lease)
        self.nice = nice
        self.work: queue.SimpleQueue = queue.SimpleQueue()
        self.events: queue.Queue = queue.Queue(maxsize=event_queue_size or max(16, 4 * n))
        self.wake_pending = False
        self.stopping = False
        self.slots = [Slot(self, i) for i in range(n)]

    def start(self) -> None:
        for s in self.slots:
            s.start()

    def submit(self, work: SlotWork) -> None:
        self.work.put(work)

    def take_work(self) -> SlotWork | None:
        """Block for the next work item (``None`` = stop)."""
        with self.waiting_lock:
            self.waiting += 1
        try:
            return self.work.get()
        finally:
            with self.waiting_lock:
                self.waiting -= 1

    def take_spare_work(self) -> SlotWork | object | None:
        """A work item no waiting slot is about to take, else ``None`` (never blocks).
        Returns :data:`STOP` when it took a stop marker."""
        with self.waiting_lock:
            if self.work.qsize() <= self.waiting:
                return None
            try:
                item = self.work.get_nowait()
            except queue.Empty:
                return None
        return STOP if item is None else item

    def abort(self, key: LeaseKey) -> None:
        for s in self.slots:
            if s.abort(key):
                return

    def give_back_unstarted(self) -> list[LeaseKey]:
        """Warm shutdown: the work items no slot has started (look-ahead items and what is
        still queued), taken back; the caller hands their leases back to the hub."""
        keys = []
        for s in self.slots:
            key = s.give_back_ahead()
            if key is not None:
                keys.append(key)
        stops = 0
        while True:
            try:
                item = self.work.get_nowait()
            except queue.Empty:
                break
            if item is None:
                stops += 1
            else:
                keys.append(item.item.key)
        for _ in range(stops):
            self.work.put(None)
        return keys

    def set_paused(self, paused: bool) -> None:
        for s in self.slots:
            s.set_paused(paused)

    def renice(self) -> None:
        """Give sandbox processes started since the last call their niceness (the loop calls
        this a few times a second; slots also do it after each run)."""
        for s in self.slots:
            sb = s.sandbox
            if sb is not None:
                s._lower_priority(sb)

    def sandbox_pids(self) -> list[int]:
        pids = []
        for s in self.slots:
            sb = s.sandbox
            pid = sb.pid if sb is not None else None
            if pid:
                pids.append(pid)
        return pids

    def drain_events(self, limit: int) -> list[SlotEvent]:
        """Take up to ``limit`` events (clears the wake-up flag first, so a slot that puts
        an event after this point sends a new wake-up)."""
        self.wake_pending = False
        out = []
        get = self.events.get_nowait
        try:
            for _ in range(limit):
                out.append(get())
        except queue.Empty:
            pass
        return out

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the threads: abort running sandboxes, let threads exit."""
        self.stopping = True
        for s in self.slots:
            with s.lock:
                key = s.current
            if key is not None:
                s.abort(key)
        for _ in self.slots:
            self.work.put(None)
        for s in self.slots:
            s.join(timeout_s)
            if s.is_alive():
                log.warning("slot %d did not stop within %.1fs", s.number, timeout_s)
