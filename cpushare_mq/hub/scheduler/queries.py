"""Read-only questions about the core's state (progress, waiting reasons, workers), and the
invariant check the tests call."""

from __future__ import annotations

from ...errors import UnknownJob
from ..waiting import FragView, Waiting, WaitReason, WorkerView, waiting_reason
from .effects import JobView, WorkerRecord
from .lifecycle import CoreState
from .states import FragState, JobState

P, L, V = FragState.PENDING, FragState.LEASED, FragState.VOTING


class Queries(CoreState):
    def job_of(self, fid: int, attempt: int) -> JobView | None:
        """The job of lease (``fid``, ``attempt``) if it is open."""
        lease = self.leases.get((fid, attempt))
        return lease.frag.job.view if lease else None

    def job_state(self, job_id: str) -> JobState | None:
        """``job_id``'s state, None if the core does not know it."""
        job = self.jobs.get(job_id)
        return job.state if job is not None else None

    def job_states(self) -> dict[str, JobState]:
        """Every job the core knows: id -> state."""
        return {job.id: job.state for job in self.jobs.values()}

    def accepted_through(self) -> int:
        """The largest acceptance number ``seq`` given so far (0: none)."""
        return self.seq

    def has_worker(self, wid: str) -> bool:
        """Is worker session ``wid`` connected (joined, not dead, not gone)?"""
        return wid in self.workers

    def has_fragment(self, fid: int) -> bool:
        """Is fragment ``fid`` open in the core (in a pending window, LEASED or VOTING)?"""
        return fid in self.frags

    def worker_records(self) -> list[WorkerRecord]:
        """The connected workers, frozen (a rebuild keeps them: :meth:`restore`)."""
        return [w.record() for w in self.workers.values()]

    def progress(self, job_id: str) -> dict:
        job = self.jobs.get(job_id)
        if job is None:
            raise UnknownJob(f"no job {job_id!r}")
        return {
            "job_id": job.id, "name": job.name, "state": job.state.value, "total": job.total,
            "pending": job.total - job.n_leased - job.n_voting - job.n_done - job.n_failed,
            "leased": job.n_leased, "voting": job.n_voting, "done": job.n_done,
            "failed": job.n_failed, "priority": job.priority,
            "waiting": w.text if (w := self.waiting(job_id)) else "",
        }

    def waiting(self, job_id: str, sample: int = 32) -> Waiting | None:
        """Why ``job_id``'s queued fragments get no lease now (see :mod:`.waiting`), or None.
        Looks at the first ``sample`` queued fragments only: O(sample + workers)."""
        job = self.jobs.get(job_id)
        if job is None or job.state is not JobState.RUNNING:
            return None
        if job.allowance == 0 and job.ready:     # a budget (.allowance)
            return Waiting(WaitReason.BUDGET, detail=job.allowance_why)
        queued = []
        for f in job.ready:
            if len(queued) >= sample:
                break
            if f.state.terminal or self._copies_needed(f) <= 0:
                continue
            distinct = job.redundancy + f.boost > 1
            excluded = ((f.keys_involved() if distinct else set()) | (f.killers or set())
                        | set(f.final_reports or ()))
            queued.append(FragView(job.redundancy + f.boost if distinct else 1,
                                   frozenset(excluded), len(f.votes or ())))
        if not queued:
            return None
        holding = {ls.worker for ls in self.leases.values() if ls.frag.job is job}
        views = [WorkerView(w.key, w.alive, w.paused or bool(w.held_reason), w.credit > 0,
                            w.id in holding)
                 for w in self.workers.values()]
        return waiting_reason(queued, views)

    def workers_info(self, now: float) -> list[dict]:
        return [{
            "worker_id": w.id, "name": w.name, "slots": w.slots, "busy": len(w.leases),
            "paused": w.paused, "alive": w.alive, "last_seen_s": round(max(0.0, now - w.last_seen), 3),
            "done": w.done, "failed": w.failed, "credit": w.credit,
            "held": w.held_reason if now < w.held_until else "",
        } for w in self.workers.values()]

    def throughput_per_s(self, now: float, window_s: float = 10.0) -> float:
        dq = self._done_times
        while dq and dq[0][0] < now - window_s:
            dq.popleft()
        if not dq:
            return 0.0
        span = max(1.0, min(window_s, now - dq[0][0] + 1.0))
        return sum(c for _t, c in dq) / span

    def check_invariants(self) -> None:
        """Cross-check the in-memory indexes (used by tests; cheap enough to call often)."""
        for ref, lease in self.leases.items():
            f = lease.frag
            if f.leases.get(ref[1]) is not lease or f.fid != ref[0]:
                raise AssertionError(f"lease {ref} not indexed on its fragment")
            if f.state not in (L, V):
                raise AssertionError(f"lease {ref} on fragment in state {f.state}")
            if lease.worker is not None:
                w = self.workers.get(lease.worker)
                if w is None or ref not in w.leases:
                    raise AssertionError(f"lease {ref} held by unknown/dead worker {lease.worker}")
        for w in self.workers.values():
            for ref in w.leases:
                if ref not in self.leases or self.leases[ref].worker != w.id:
                    raise AssertionError(f"worker {w.id} lists lease {ref} it does not hold")
        for f in self.frags.values():
            if f.state.terminal:
                raise AssertionError(f"terminal fragment {f.fid} still in memory")
            if f.state is L and not f.leases:
                raise AssertionError(f"LEASED fragment {f.fid} without leases")
            if f.state is P and f.leases:
                raise AssertionError(f"PENDING fragment {f.fid} with leases")
            if f.job.redundancy > 1:
                keys = [ls.key for ls in f.leases.values()]
                if len(keys) != len(set(keys)):
                    raise AssertionError(f"fragment {f.fid} has two copies on one worker")
