"""Lease allowances: how many more leases a job may get before the shell looks again (a
job with a budget, issue 19). The shell (:mod:`cpushare_mq.market.payout`) computes the
allowance from money before each :meth:`~.leasing.Leasing.assign`; the core only counts it
down and says why the job waits when it reaches 0."""

from __future__ import annotations

from ...errors import UnknownJob
from .lifecycle import CoreState
from .states import JobState


class Allowances(CoreState):
    def set_allowance(self, job_id: str, leases: int | None, why: str = "") -> None:
        """At most ``leases`` more leases for ``job_id`` (None: no limit); ``why`` is shown
        as the job's waiting reason while the allowance is 0."""
        job = self.jobs.get(job_id)
        if job is None:
            raise UnknownJob(f"no job {job_id!r}")
        job.allowance = None if leases is None else max(0, leases)
        job.allowance_why = why

    def in_flight(self, job_id: str) -> int:
        """Leases of ``job_id`` out now (each may still be paid)."""
        job = self.jobs.get(job_id)
        return job.inflight if job is not None else 0

    def leases_out(self) -> int:
        """Leases of every job out now."""
        return sum(job.inflight for job in self.jobs.values())

    def failed_fragments(self, job_id: str) -> int:
        """How many of ``job_id``'s fragments ended FAILED (did a report just end one?)."""
        job = self.jobs.get(job_id)
        return job.n_failed if job is not None else 0

    def running_job(self, job_id: str) -> bool:
        job = self.jobs.get(job_id)
        return job is not None and job.state is JobState.RUNNING
