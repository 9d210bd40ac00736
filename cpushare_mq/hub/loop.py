"""The hub's loop: one thread owns the worker socket, the scheduler (``core``) and the store's
write connection. Each turn it drains up to ``max_batch_messages`` messages (the worker
desk), runs the commands other threads queued, probes and ticks, hands out leases, commits
the turn in ONE transaction (group commit) and only then sends ACKs, LEASEs and CANCELs.

An unexpected error (a bug) costs the turn, not the hub; a failed commit acknowledges
nothing. Either way the scheduler is rebuilt from what the store holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import zmq

from ..errors import StoreError
from ..protocol import ErrorCode, MsgType
from ..trust.verifiers import VerifierRule
from .commands import Commands
from .isolation import handle_isolated
from .scheduler import HubConfig, JobState, Scheduler

if TYPE_CHECKING:
    from .server import Hub

__all__ = ["HubLoop"]

log = logging.getLogger(__name__)

#: refill-and-assign rounds per turn at most
ASSIGN_ROUNDS = 8


def _worker_row(w) -> dict:
    """A connected worker as ``Scheduler.restore`` takes it back."""
    return {"id": w.id, "name": w.name, "key": w.key, "slots": w.slots, "credit": w.credit,
            "last_seen": w.last_seen, "paused": w.paused, "paused_since": w.paused_since,
            "done": w.done, "failed": w.failed, "jobs_seen": list(w.jobs_seen)}


class HubLoop:
    def __init__(self, hub: Hub):
        self.hub = hub
        self.config: HubConfig = hub.config
        self.commands = Commands()
        self._grants_unsent: dict[str, list] = {}   # leases of this turn not sent yet
        self.core: Scheduler = self._restore(time.time(), keep_workers=(), at_start=True)

    def _restore(self, now: float, keep_workers, at_start: bool = False) -> Scheduler:
        snap = self.hub.store.snapshot(at_start=at_start)
        core = Scheduler.restore(self.config, now, workers=keep_workers, **snap)
        if self.hub.trust is not None:     # checks go to trusted keys (trust/verifiers.py)
            core.set_verifier_rule(VerifierRule(self.hub.trust.book))
        return core

    # -- the thread ---------------------------------------------------------------------
    def run(self) -> None:
        """Serve until :meth:`Commands.stop` (the worker socket is open)."""
        hub, cfg, commands = self.hub, self.config, self.commands
        wire = hub.wire
        poller = zmq.Poller()
        wire.register(poller)
        poller.register(commands.wake_fd, zmq.POLLIN)
        while not commands.stopping:
            now = time.time()
            with hub.core_lock:
                wake_at = min(self.core.next_wakeup(now), hub.liveness.wake_at(now))
            timeout_ms = max(0, min(int((wake_at - now) * 1000) + 1, int(cfg.tick_s * 1000) + 1))
            events = dict(poller.poll(timeout_ms))
            if wire.has_monitor_events(events):
                hub.liveness.on_monitor_events()
            if commands.wake_fd in events:
                commands.drain_wakeups()
            batch = []
            if wire.has_messages(events):
                batch = wire.receive(cfg.max_batch_messages, cfg.group_commit_s)
            self.turn(batch)

    def call(self, fn: Callable[[float], object]) -> object:
        """Run ``fn(now)`` on the loop thread (or inline when no loop runs) and commit."""
        if self.commands.inline():
            with self.hub.core_lock:
                result = fn(time.time())
                self.flush(time.time(), {}, {})
                return result
        return self.commands.put(fn).result(timeout=60)

    def finish_commands(self) -> None:
        """The loop stopped: run what is still queued inline, so no caller waits forever."""
        while (cmd := self.commands.take()) is not None:
            fn, fut = cmd
            with self.hub.core_lock:
                try:
                    fut.set_result(fn(time.time()))
                    self.flush(time.time(), {}, {})
                except BaseException as exc:  # noqa: BLE001
                    fut.set_exception(exc)

    # -- a turn -------------------------------------------------------------------------
    def turn(self, batch: list[list]) -> None:
        """Handle one batch of messages + commands + housekeeping, commit, then send. An
        unexpected error (a bug) costs the batch, not the hub: nothing of it is
        acknowledged, the scheduler is rebuilt from the store and the loop goes on."""
        with self.hub.core_lock:
            done_cmds: list = []
            try:
                self._turn_locked(batch, done_cmds)
            except Exception as exc:  # noqa: BLE001 - the hub must keep serving
                log.exception("internal error in the hub loop; nothing of this batch is "
                              "acknowledged, rebuilding the scheduler from the store")
                try:
                    self.rebuild(time.time())
                except Exception:  # noqa: BLE001
                    log.exception("cannot rebuild the scheduler from the store")
                for fut, _result, _exc in done_cmds:
                    if not fut.done():
                        fut.set_exception(exc)

    def _turn_locked(self, batch: list[list], done_cmds: list) -> None:
        hub = self.hub
        now = time.time()
        acks: dict[str, list] = {}
        replies: list[tuple[bytes, list[bytes]]] = []
        # a message's own bug costs that message (isolation.py)
        handle_isolated(hub.worker_desk, self.core, now, batch, acks, replies)
        while (cmd := self.commands.take()) is not None:
            fn, fut = cmd
            try:
                done_cmds.append((fut, fn(now), None))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                done_cmds.append((fut, None, exc))
        hub.liveness.probe_if_due(now)
        self.core.tick(now)
        hub.result_desk.sweep(now)
        ok = self.flush(now, acks, replies)
        for fut, result, exc in done_cmds:
            if exc is not None:
                fut.set_exception(exc)
            elif not ok:
                fut.set_exception(StoreError("the hub could not commit to its database"))
            else:
                fut.set_result(result)
        hub.liveness.heartbeats(time.time())
        hub.sessions.turn_ended()       # ended sessions' ids may be reused (hub/workerids.py)

    def flush(self, now: float, acks: dict[str, list], replies: list) -> bool:
        """Refill windows, assign leases, commit everything, then send. Loop thread or
        inline under the lock. False: the commit failed and nothing was acknowledged."""
        hub = self.hub
        hub.verdicts.before_assign(now)
        if hub.payout is not None:
            hub.payout.before_assign(self.core)        # budgets (issue 19)
        grants = self._assign(now)
        fx = self.core.take_effects()
        journal = fx.journal.with_results(hub.result_desk.take_accepted())
        self._grants_unsent = grants
        try:
            if journal:
                hub.store.apply(journal, now)
        except StoreError as exc:
            self._commit_failed(now, exc, acks, replies)
            return False
        self._after_commit(now, fx, replies)
        if not hub.wire.is_open:
            return True
        hub.outbound.send_turn(now, replies, acks, fx, grants)
        self._grants_unsent = {}
        return True

    def _assign(self, now: float) -> dict[str, list]:
        """Leases for the workers' credit, refilling the jobs' pending windows from the store
        as they empty (a few rounds at most per turn)."""
        core, store, open_ = self.core, self.hub.store, self.hub.wire.is_open
        grants: dict[str, list] = {}
        for _round in range(ASSIGN_ROUNDS):
            for job_id, after, limit in core.refill_requests():
                try:
                    rows = store.pending(job_id, after, limit)
                except StoreError as exc:
                    log.error("cannot load pending fragments of %s: %s", job_id, exc)
                    break
                core.add_pending(job_id, rows, limit)
            more = core.assign(now) if open_ else {}
            for wid, lst in more.items():
                grants.setdefault(wid, []).extend(lst)
            if not more or not core.refill_requests():
                break
        return grants

    def _commit_failed(self, now: float, exc: StoreError, acks: dict, replies: list) -> None:
        """Nothing is acknowledged: the scheduler is rebuilt from what the store holds and the
        workers whose results were not stored are told (they send them again)."""
        log.error("%s: nothing acknowledged; rebuilding the scheduler from the store", exc)
        if self.hub.payout is not None:
            self.hub.payout.turn_failed()
        try:
            self.rebuild(now)
        except StoreError as exc2:
            log.error("cannot re-read the store either: %s", exc2)
        out = self.hub.outbound
        for wid in acks:
            out.send_worker(wid, MsgType.ERROR, {
                "code": ErrorCode.INTERNAL,
                "message": "the hub could not store your results (nothing acknowledged)"})
        for ident, frames in replies:
            out.send(ident, frames)

    def _after_commit(self, now: float, fx, replies: list) -> None:
        """Committed: publish progress to the buyers' waiters, the trust layer's verdicts,
        forget the dead."""
        hub = self.hub
        if hub.payout is not None:      # receipts for the results now stored (issue 19)
            hub.payout.settle(fx, self.core.accepted_through())
        hub.job_watch.publish(fx.journal)
        for job in fx.journal.jobs:    # its end is committed: answered from the store
            if job.state is not JobState.RUNNING:
                self.core.forget_job(job.id)
        hub.verdicts.after_commit(now, fx, replies)
        for wid in fx.dead:
            hub.worker_desk.forget(wid)       # its partial results too: its leases have ended
            hub.liveness.log_dead(wid)

    def rebuild(self, now: float) -> None:
        """Rebuild the scheduler from what is committed, keeping the connected workers.
        Leases handed out but never sent give their credit back (a worker only sends READY
        again after results, so lost credit would starve it)."""
        unsent = self._grants_unsent
        self._grants_unsent = {}
        self.hub.result_desk.drop_accepted()
        keep = []
        for w in self.core.worker_records():
            d = _worker_row(w)
            d["credit"] = min(self.config.max_credit, d["credit"] + len(unsent.get(w.id, ())))
            keep.append(d)
        self.core = self._restore(now, keep)
