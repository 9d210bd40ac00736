"""Jobs: adding, cancelling, and the jobs a vote keeps open."""

from __future__ import annotations

from ...errors import UnknownJob
from .lifecycle import CoreState
from .records import _Job
from .states import FragState, JobState, LeaseEnd

L = FragState.LEASED
P = FragState.PENDING


class Jobs(CoreState):
    # -- jobs ------------------------------------------------------------------------
    def add_job(self, row: dict) -> None:
        """Register a job stored by the shell (row: the jobs-table columns + counts)."""
        job = _Job(row, self.config.max_extra_copies)
        self.jobs[job.id] = job
        if job.state is JobState.RUNNING and job.n_done + job.n_failed >= job.total:
            self._end_job(job, JobState.DONE)

    def cancel_job(self, now: float, job_id: str) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            raise UnknownJob(f"no job {job_id!r}")
        if job.state is not JobState.RUNNING:
            return
        for key, lease in list(self.leases.items()):
            if lease.frag.job is job and self.leases.get(key) is lease:
                self._end_lease(now, lease, LeaseEnd.CANCELLED, "job cancelled", notify=True,
                                requeue=False)
        for f in [f for f in self.frags.values() if f.job is job]:
            if f.state is L:
                self._move(f, P)
            del self.frags[f.fid]
        job.ready.clear()
        self._end_job(job, JobState.CANCELLED)

    def forget_job(self, job_id: str) -> None:
        """The shell committed the end of ``job_id``: drop it (the core holds live jobs only;
        an ended job is answered from the store: hub/retention.py). A running job stays."""
        job = self.jobs.get(job_id)
        if job is not None and job.state is not JobState.RUNNING:
            del self.jobs[job_id]

    def held_jobs(self) -> list[str]:
        """Jobs kept open after a vote outvoted a worker (see :meth:`release_job`)."""
        return [j.id for j in self.jobs.values() if j.held]

    def release_job(self, now: float, job_id: str) -> None:
        """The shell has reopened what the trust layer wanted re-verified after a vote that
        outvoted a worker: the job may end (now, if every fragment is DONE or FAILED)."""
        job = self.jobs.get(job_id)
        if job is None or not job.held:
            return
        job.held = False
        if job.state is JobState.RUNNING and job.n_done + job.n_failed >= job.total:
            self._end_job(job, JobState.DONE)
