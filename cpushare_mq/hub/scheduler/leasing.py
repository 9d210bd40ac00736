"""Leasing: the pending window, and handing ready fragments to workers with credit (priority,
then fair share)."""

from __future__ import annotations

from collections.abc import Iterable

from ...protocol import Limits
from .effects import LeaseGrant
from .lifecycle import CoreState
from .records import _Frag, _Job, _Lease, _Worker
from .states import FragState, JobState

P, L = FragState.PENDING, FragState.LEASED


class Leasing(CoreState):
    def refill_requests(self) -> list[tuple[str, int, int]]:
        """(job_id, after_fragment_id, limit) for jobs whose pending window runs low."""
        out = []
        w = self.config.window_fragments
        for job in self.jobs.values():
            if job.state is JobState.RUNNING and not job.exhausted and len(job.ready) < w // 2:
                out.append((job.id, job.loaded_upto, w - len(job.ready)))
        return out

    def add_pending(self, job_id: str, rows: Iterable[tuple[int, int, int, int]], limit: int) -> None:
        """Load PENDING fragments (fid, index, next_attempt, failures) of ``job_id`` from the
        store, in fid order; fewer rows than ``limit`` means the store has no more."""
        job = self.jobs.get(job_id)
        if job is None:
            return
        n = 0
        frags = self.frags
        for fid, index, next_attempt, failures in rows:
            n += 1
            job.loaded_upto = max(job.loaded_upto, fid)
            if fid in frags or job.state is not JobState.RUNNING:
                continue
            f = _Frag(fid, job, index, P, next_attempt, failures)
            if self._reports_to_restore:
                f.final_reports = self._reports_to_restore.pop(fid, None)
            f.queued = True
            frags[fid] = f
            job.ready.append(f)
        if n < limit:
            job.exhausted = True

    def assign(self, now: float) -> dict[str, list[LeaseGrant]]:
        """Hand ready fragments to workers with credit: {worker_id: [(job, fid, index,
        attempt, lease_s), ...]}. Fair share: highest priority first, then the job with the
        fewest leases in flight."""
        out: dict[str, list[LeaseGrant]] = {}
        workers = [w for w in self.workers.values()
                   if w.credit > 0 and not w.paused and now >= w.held_until]
        if not workers:
            return out
        jobs = [j for j in self.jobs.values()
                if j.ready and j.state is JobState.RUNNING and j.allowance != 0]
        if not jobs:
            return out
        workers.sort(key=lambda w: len(w.leases))
        max_per_msg = Limits.MAX_LEASES_PER_MESSAGE
        # Pass 1 fills idle slots on every worker; only pass 2 hands out prefetch, so a short
        # job of long fragments is spread over the workers instead of queueing on the first.
        for w in workers:
            room = min(w.credit, w.slots - len(w.leases), max_per_msg)
            if room > 0 and jobs:
                got = self._lease_to(now, w, jobs, room)
                if got:
                    out.setdefault(w.id, []).extend(got)
                jobs = [j for j in jobs if j.ready]
        progress = True
        while progress and jobs:
            progress = False
            for w in workers:
                room = min(w.credit, max(16, w.slots), max_per_msg - len(out.get(w.id, ())))
                if room <= 0:
                    continue
                got = self._lease_to(now, w, jobs, room)
                if got:
                    out.setdefault(w.id, []).extend(got)
                    progress = True
                jobs = [j for j in jobs if j.ready]
                if not jobs:
                    break
        return out

    def _lease_to(self, now: float, w: _Worker, jobs: list[_Job], room: int) -> list[LeaseGrant]:
        grants: list[LeaseGrant] = []
        skipped: dict[_Job, list[_Frag]] = {}
        cfg = self.config
        while room > 0:
            if len(jobs) == 1:
                job = jobs[0]
                if not job.ready or job.allowance == 0:
                    break
            else:
                cands = [j for j in jobs if j.ready and j.allowance != 0]
                if not cands:
                    break
                top = max(j.priority for j in cands)
                job = min((j for j in cands if j.priority == top), key=lambda j: j.inflight)
            f = job.ready.popleft()
            f.queued = False
            if f.state.terminal or f.fid not in self.frags:
                continue
            if ((job.redundancy + f.boost > 1 and w.key in f.keys_involved())
                    or (f.killers and w.key in f.killers)
                    or (f.final_reports and w.key in f.final_reports)
                    or not self._may_check(w.key, f)):
                # copies go to distinct workers; a crash is retried on another worker; a
                # check goes to a key the verifier rule admits (.checkers)
                skipped.setdefault(job, []).append(f)
                continue
            attempt = f.next_attempt
            f.next_attempt += 1
            lease_s = job.wall_s * cfg.lease_wall_factor + cfg.lease_grace_s
            deadline = now + lease_s
            lease = _Lease(f, attempt, w.id, w.key, deadline)
            ref = (f.fid, attempt)
            self.leases[ref] = lease
            f.leases[attempt] = lease
            w.leases.add(ref)
            w.credit -= 1
            w.jobs_seen.add(job.id)
            job.inflight += 1
            if job.allowance is not None:     # a budget (.allowance)
                job.allowance -= 1
            if deadline < self._min_deadline:
                self._min_deadline = deadline
            if f.state is P:
                self._move(f, L)          # (journals the fragment)
            else:                         # another copy: its next_attempt changed
                self._fx.journal.frags.setdefault(f.fid, (f.state, f))
            self._fx.journal.attempts_new.append((f.fid, attempt, job.id, w.id, w.key, now, deadline))
            grants.append((job.view, f.fid, f.index, attempt, lease_s))
            room -= 1
            # (a lone copy with no votes and no check needs no other: skip the count)
            if (job.quorum > 1 or job.redundancy > 1 or f.boost or f.votes) \
                    and self._copies_needed(f) > 0:
                self._queue(f, front=True)
        for job, lst in skipped.items():
            for f in reversed(lst):
                if not f.queued and not f.state.terminal:
                    f.queued = True
                    job.ready.appendleft(f)
        return grants
