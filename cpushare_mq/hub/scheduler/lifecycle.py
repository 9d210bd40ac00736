"""The core's shared state and the one path a fragment's life takes: state changes
(:meth:`CoreState._move`), the queue, how a lease ends, failing and finishing."""

from __future__ import annotations

import math
from collections import deque

from ...errors import IllegalTransition
from .config import HubConfig
from .effects import Effects
from .records import _Effects, _Frag, _Job, _Lease, _Worker
from .states import FragState, JobState, LeaseEnd, apply_transition

P, L, V, D, F = (FragState.PENDING, FragState.LEASED, FragState.VOTING, FragState.DONE,
                 FragState.FAILED)


class CoreState:
    """The in-memory state every room of the scheduler shares, and its lifecycle steps."""

    def __init__(self, config: HubConfig | None = None, *, seq: int = 0):
        self.config = config or HubConfig()
        self.jobs: dict[str, _Job] = {}
        self.frags: dict[int, _Frag] = {}
        self.leases: dict[tuple[int, int], _Lease] = {}
        self.workers: dict[str, _Worker] = {}
        self.seq = seq
        self._min_deadline = math.inf      # no lease expires before this
        self._next_lonely_check = 0.0      # see _release_lonely_checks
        self._tie_since: dict[int, float] = {}   # see _end_hopeless_ties
        self._fx = _Effects()
        self._done_times: deque[tuple[float, int]] = deque()   # (second, count) for throughput
        #: final failure reports from the store for fragments not loaded yet (restore)
        self._reports_to_restore: dict[int, dict[str, str]] = {}

    # -- effects ---------------------------------------------------------------------
    def take_effects(self) -> Effects:
        """What the events since the last call ask of the shell, as frozen records."""
        fx, self._fx = self._fx, _Effects()
        return fx.freeze()

    def _end_job(self, job: _Job, state: JobState) -> None:
        job.state = state
        job.ready.clear()
        self._fx.journal.jobs[job.id] = job
        self._fx.finished_jobs.add(job.id)

    def _copies_needed(self, f: _Frag) -> int:
        job = f.job
        if f.votes:
            nvotes = sum(len(v) for v in f.votes.values())
            best = max(len(v) for v in f.votes.values())
        else:
            nvotes = best = 0
        want = max(job.redundancy + f.boost - nvotes, job.quorum + f.boost - best)
        return max(0, want - len(f.leases))

    def _queue(self, f: _Frag, front: bool = False) -> None:
        if f.queued or f.state.terminal or f.job.state is not JobState.RUNNING:
            return
        f.queued = True
        if front:
            f.job.ready.appendleft(f)
        else:
            f.job.ready.append(f)

    # -- lease bookkeeping ------------------------------------------------------------
    def _end_lease(self, now: float, lease: _Lease, end: str, detail: str, *, notify: bool,
                   requeue: bool = True, count: bool | None = None, sha256: str = "",
                   size: int = 0, cpu_us: int | None = None) -> None:
        f = lease.frag
        ref = (f.fid, lease.attempt)
        del self.leases[ref]
        del f.leases[lease.attempt]
        f.job.inflight -= 1
        if lease.worker is not None:
            w = self.workers.get(lease.worker)
            if w is not None:
                w.leases.discard(ref)
                if notify:
                    self._fx.cancels.setdefault(w.id, []).append(ref)
                    self._fx.cancel_reasons[w.id] = detail
        # (the row carries plain strings: SQLite binds a str subclass twice as slowly)
        self._fx.journal.attempts_end.append((now, str(end), sha256, size, detail[:1000], cpu_us,
                                              f.fid, lease.attempt))
        if not requeue:
            return
        if count is None:
            count = end in (LeaseEnd.LOST, LeaseEnd.EXPIRED)
        if count:
            self._count_failure(f, lease.key)
        self._after_loss(now, f, detail)

    @staticmethod
    def _count_failure(f: _Frag, key: str) -> None:
        """One more failed attempt of ``f``, counted once per worker key: a key that keeps
        losing leases (it vanishes, or holds them until they expire) or sending rejected
        reports costs the fragment one attempt, however often it does it; failing the
        fragment takes ``max_attempts`` distinct keys (all keyless sessions count as one)."""
        if f.blamed is None:
            f.blamed = set()
        elif key in f.blamed:
            return
        f.blamed.add(key)
        f.failures += 1

    def _after_loss(self, now: float, f: _Frag, why: str) -> None:
        """A copy of ``f`` ended without a result: fail it if attempts are exhausted, else
        put it back in the queue."""
        if f.state.terminal or f.job.state is not JobState.RUNNING:
            return
        if f.failures >= f.job.max_attempts:
            self._fail(now, f, f"attempts exhausted ({f.failures}): {why}")
            return
        if f.state is L and not f.leases:
            self._move(f, P)
        if f.fid in self.frags and self._copies_needed(f) > 0:
            self._queue(f, front=True)
        self._fx.journal.frags.setdefault(f.fid, (f.state, f))

    def _fail(self, now: float, f: _Frag, why: str) -> None:
        for other in list(f.leases.values()):
            self._end_lease(now, other, LeaseEnd.CANCELLED, "fragment failed", notify=True,
                            requeue=False)
        for lst in (f.votes or {}).values():
            for a, _k, _s in lst:
                self._fx.journal.drop_results.append((f.fid, a))
        if f.state is P:
            # only reachable when a PENDING fragment is failed directly: go via LEASED's rules
            raise IllegalTransition(f"fragment {f.fid}: PENDING -> FAILED is not allowed")
        f.result_attempt, f.sha256, f.size = None, "", 0    # (a reopened one had a result)
        self._finish(now, f, F, why[:1000])

    def _finish(self, now: float, f: _Frag, state: FragState, reason: str, *,
                keep_seq: bool = False) -> None:
        """Take ``f`` to DONE or FAILED: state change, acceptance sequence number, eviction.
        ``keep_seq``: a re-verified fragment confirmed its result (the buyer has it)."""
        self._move(f, state)
        if not keep_seq:
            self.seq += 1
            f.seq = self.seq
        f.reason = reason
        self.frags.pop(f.fid, None)
        job = f.job
        self._fx.finished_jobs.add(job.id)
        sec = float(int(now))
        dq = self._done_times
        if dq and dq[-1][0] == sec:
            dq[-1] = (sec, dq[-1][1] + 1)
        else:
            dq.append((sec, 1))
        if job.state is JobState.RUNNING and job.n_done + job.n_failed >= job.total and not job.held:
            self._end_job(job, JobState.DONE)

    def _move(self, f: _Frag, new: FragState) -> None:
        """The one place a fragment's state changes: table check, counts, journal."""
        journal = self._fx.journal
        old = f.state
        if f.fid not in journal.frags:
            journal.frags[f.fid] = (old, f)
        apply_transition(f, new)
        job = f.job
        if old is L:
            job.n_leased -= 1
        elif old is V:
            job.n_voting -= 1
        elif old is D:
            job.n_done -= 1
        if new is L:
            job.n_leased += 1
        elif new is V:
            job.n_voting += 1
        elif new is D:
            job.n_done += 1
        elif new is F:
            job.n_failed += 1
