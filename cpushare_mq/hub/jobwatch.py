"""What buyers wait on: per job, the newest committed acceptance seq and whether the job has
ended (done or cancelled, committed). The loop publishes after each commit; any thread may
wait (``wait_for_change``) or ask (``ended``). The condition variable is this room's only
lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from .scheduler import JobState, Journal

__all__ = ["JobWatch"]


class JobWatch:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._seq: dict[str, int] = {}       # job id -> newest committed acceptance seq
        self._ended: set[str] = set()        # jobs done or cancelled (committed)

    def restore(self, jobs: Mapping[str, JobState], max_seq: Callable[[str], int]) -> None:
        """At start: the jobs the scheduler restored (id -> state), their seqs as the store
        has them."""
        with self._cond:
            for job_id, state in jobs.items():
                self._seq[job_id] = max_seq(job_id)
                if state is not JobState.RUNNING:
                    self._ended.add(job_id)

    def add(self, job_id: str) -> None:
        """A job was submitted (committed)."""
        with self._cond:
            self._seq.setdefault(job_id, 0)

    def knows(self, job_id: str) -> bool:
        return job_id in self._seq

    def forget(self, job_id: str) -> None:
        """The job was purged (hub/retention.py)."""
        with self._cond:
            self._seq.pop(job_id, None)
            self._ended.discard(job_id)

    def publish(self, journal: Journal) -> None:
        """A commit of this ``journal`` (the scheduler's): wake the waiters of jobs whose
        results or state changed."""
        changed = False
        with self._cond:
            for f in journal.frags:
                if f.seq is not None and f.seq > self._seq.get(f.job_id, 0):
                    self._seq[f.job_id] = f.seq
                    changed = True
            for job in journal.jobs:
                if job.state is not JobState.RUNNING:
                    self._ended.add(job.id)
                    changed = True
            if changed:
                self._cond.notify_all()

    def wait_for_change(self, job_id: str, after_seq: int, timeout_s: float,
                        exists: Callable[[str], bool]) -> int | None:
        """The job's seq once it passes ``after_seq`` or the job ended, or at the timeout;
        None if the job is unknown here and ``exists`` says it is not stored either."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._cond:
            if job_id not in self._seq and not exists(job_id):
                return None
            while True:
                seq = self._seq.get(job_id, 0)
                if seq > after_seq or job_id in self._ended:
                    return seq
                left = deadline - time.monotonic()
                if left <= 0:
                    return seq
                self._cond.wait(left)

    def ended(self, job_id: str) -> bool | None:
        """True once the job's end is committed, False while it runs, None if not watched."""
        with self._cond:
            if job_id in self._ended:
                return True
            if job_id in self._seq:
                return False
        return None
