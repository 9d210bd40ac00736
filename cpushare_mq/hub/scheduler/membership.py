"""Workers: joining (and taking back held leases), liveness, credit, pause, holds, leaving."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ...errors import SchedulingError
from .lifecycle import CoreState
from .records import _Worker
from .states import SESSION_KEY_PREFIX, LeaseEnd


class Membership(CoreState):
    def join(self, now: float, wid: str, *, name: str = "", key: str = "", slots: int = 1,
             held: Sequence[tuple[int, int]] = (), replaces: str | None = None,
             key_proven: bool = True) -> list[tuple[int, int]]:
        """A worker said HELLO (new session ``wid``). Returns the held leases honoured.
        ``key_proven``: the connection authenticated with ``key`` (CURVE); only then may it
        take the live leases of another session of that key (on a plain hub anyone can claim
        any key)."""
        if wid in self.workers:
            raise SchedulingError(f"worker id {wid!r} already in use")
        w = _Worker(wid, name, key or SESSION_KEY_PREFIX + wid, slots, now)
        self.workers[wid] = w
        ok = []
        for ref in held:
            lease = self.leases.get(tuple(ref))
            if lease is None or lease.deadline < now:
                continue
            ref = tuple(ref)
            owner = self.workers.get(lease.worker) if lease.worker else None
            if owner is None:
                # orphaned by a hub restart: the same worker key, or a lease taken by a worker
                # without a key (then a session id is all there is to go by)
                same = lease.key == w.key or lease.key.startswith(SESSION_KEY_PREFIX)
            else:
                same = owner.id == replaces or (key_proven and bool(key) and owner.key == key)
            if not same or owner is w:
                continue
            if owner is not None:
                owner.leases.discard(ref)
            lease.worker = wid
            lease.key = w.key
            self._fx.journal.attempts_owner.append((wid, w.key, ref[0], ref[1]))
            w.leases.add(ref)
            w.jobs_seen.add(lease.frag.job.id)
            ok.append(ref)
        if replaces and replaces in self.workers:
            self._remove_worker(now, self.workers[replaces], LeaseEnd.LEFT, "worker rejoined")
        self._fx.journal.workers[wid] = w
        return ok

    def touch(self, now: float, wid: str) -> bool:
        """Any message from a worker. False if the worker is unknown (dead or never joined)."""
        w = self.workers.get(wid)
        if w is None:
            return False
        w.last_seen = now
        return True

    def ready(self, now: float, wid: str, credit: int) -> None:
        w = self.workers[wid]
        w.credit = min(self.config.max_credit, w.credit + credit)

    def set_status(self, now: float, wid: str, paused: bool, busy: int) -> None:
        w = self.workers[wid]
        if paused and not w.paused:
            w.paused_since = now
        w.paused = paused
        w.busy = busy

    def hold(self, wid: str, until: float, reason: str) -> None:
        """Lease nothing to ``wid`` before ``until`` (hub/infra.py decides), and say why."""
        w = self.workers.get(wid)
        if w is not None:
            w.held_until, w.held_reason = until, reason

    def release(self, now: float, wid: str, refs: Iterable[tuple[int, int]], reason: str = "",
                *, reset_credit: bool = False) -> None:
        """The worker hands leases back unrun (re-queued at once). ``reset_credit``: it also
        withdraws its unused credit (feature ``release_resets_credit``)."""
        w = self.workers.get(wid)
        if w is None:
            return
        if reset_credit:
            w.credit = 0
        for ref in refs:
            lease = self.leases.get(tuple(ref))
            if lease is not None and lease.worker == wid:
                self._end_lease(now, lease, LeaseEnd.RELEASED, reason or "released", notify=False)

    def leave(self, now: float, wid: str, reason: str = "bye") -> None:
        w = self.workers.get(wid)
        if w is not None:
            self._remove_worker(now, w, LeaseEnd.LEFT, reason or "worker left")

    def lost(self, now: float, wid: str, reason: str) -> None:
        """The transport saw worker ``wid``'s connection close (e.g. its process died): it is
        dead now, exactly as if its liveness had run out; its leases go back to the queue."""
        w = self.workers.get(wid)
        if w is not None:
            self._declare_dead(now, w, reason)

    def _declare_dead(self, now: float, w: _Worker, reason: str) -> None:
        self._remove_worker(now, w, LeaseEnd.LOST, reason)
        self._fx.dead.append(w.id)

    def _remove_worker(self, now: float, w: _Worker, end: str, reason: str) -> None:
        for ref in list(w.leases):
            lease = self.leases.get(ref)
            if lease is not None and lease.worker == w.id:
                self._end_lease(now, lease, end, reason, notify=False)
        w.alive = False
        del self.workers[w.id]
        self._fx.journal.workers[w.id] = w

    def holds(self, now: float, wid: str, fid: int, attempt: int) -> bool:
        lease = self.leases.get((fid, attempt))
        return lease is not None and lease.worker == wid and now <= lease.deadline

    def may_fetch(self, wid: str, sha256: str) -> bool:
        """A worker may fetch the program / shared input of a job it holds a lease of now."""
        w = self.workers.get(wid)
        if w is None:
            return False
        for ref in w.leases:
            lease = self.leases.get(ref)
            if lease is not None and sha256 in (lease.frag.job.program_sha256,
                                                lease.frag.job.shared_sha256):
                return True
        return False

    def has_verifier(self, wid: str, key: str = "") -> bool:
        """Is there a worker with another key than session ``wid``'s (``key`` if it is gone)
        that could re-run its result as a spot check (:attr:`_Worker.takes_work`)?"""
        w = self.workers.get(wid)
        me = w.key if w is not None else key
        return any(o.takes_work and self._may_check_key(o.key, me)
                   for o in self.workers.values())
