"""An in-memory stand-in for the Hub's thread-safe buyer methods (the interface in
docs/buyer-protocol.md), so the buyer socket can be tested without workers."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from cpushare_mq.errors import SchedulingError, UnknownJob
from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.store import FinishedFragment  # what the real Hub.finished() returns

# The spec the buyer API builds: the real one (the fake stands in for the Hub, not the spec).
FakeSpec = JobSpec


@dataclass
class FakeJob:
    spec: FakeSpec
    state: str = "active"
    finished: list = field(default_factory=list)       # FinishedFragment in seq order
    open: set = field(default_factory=set)              # indices not finished
    cursor: int = 0


class FakeHub:
    def __init__(self, chunk_bytes: int = 1000):
        self.cond = threading.Condition()
        self.jobs: dict[str, FakeJob] = {}
        self.results: dict[int, bytes] = {}
        self.seq = itertools.count(1)
        self.fid = itertools.count(1)
        self.chunk_bytes = chunk_bytes
        self.cursor_writes = 0

    # -------------------------------------------------- test helpers
    def finish(self, job_id: str, index: int, data: bytes | None = None, reason: str = "") -> None:
        """Mark one fragment DONE (data) or FAILED (reason)."""
        with self.cond:
            job = self.jobs[job_id]
            job.open.discard(index)
            fid = next(self.fid)
            ok = data is not None
            if ok:
                self.results[fid] = data
            job.finished.append(FinishedFragment(next(self.seq), index, fid, ok, len(data or b""), reason))
            if not job.open and job.state == "active":
                job.state = "done"
            self.cond.notify_all()

    def echo_all(self, job_id: str) -> None:
        for i, f in enumerate(self.jobs[job_id].spec.fragments):
            self.finish(job_id, i, bytes(f))

    # -------------------------------------------------- the Hub interface
    def submit_job(self, spec) -> str:
        if spec.quorum is not None and spec.quorum > spec.redundancy:
            raise SchedulingError("quorum over redundancy")
        with self.cond:
            job_id = f"job-{len(self.jobs) + 1}"
            self.jobs[job_id] = FakeJob(spec, open=set(range(len(spec.fragments))))
            return job_id

    def _job(self, job_id: str) -> FakeJob:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise UnknownJob(job_id) from None

    def cancel_job(self, job_id: str) -> None:
        with self.cond:
            job = self._job(job_id)
            job.state = "cancelled"
            self.cond.notify_all()

    def job_progress(self, job_id: str) -> dict:
        with self.cond:
            job = self._job(job_id)
            done = sum(1 for f in job.finished if f.ok)
            failed = len(job.finished) - done
            return {"job_id": job_id, "name": job.spec.name, "state": job.state,
                    "total": len(job.spec.fragments), "pending": len(job.open) if job.state != "cancelled" else 0,
                    "leased": 0, "voting": 0, "done": done, "failed": failed,
                    "failures": [{"index": f.index, "reason": f.reason} for f in job.finished if not f.ok]}

    def job_ended(self, job_id: str) -> bool:
        with self.cond:
            job = self._job(job_id)
            return job.state == "cancelled" or not job.open

    def fragment_seq(self, fragment_id: int) -> int | None:
        with self.cond:
            seqs = [f.seq for j in self.jobs.values() for f in j.finished
                    if f.fragment_id == fragment_id]
        return max(seqs, default=None)

    def status(self) -> dict:
        with self.cond:
            ids = list(self.jobs)
        return {"jobs": [self.job_progress(j) for j in ids],
                "workers": [{"worker_id": "w1", "name": "fake", "slots": 2, "busy": 1, "paused": False,
                             "alive": True, "last_seen_s": 0.25, "done": 3, "failed": 1}],
                "throughput_per_s": 12.5}

    def wait_for_change(self, job_id: str, after_seq: int, timeout_s: float) -> int:
        with self.cond:
            job = self._job(job_id)
            def ready():
                return (job.finished and job.finished[-1].seq > after_seq) or job.state != "active"
            self.cond.wait_for(ready, timeout_s)
            return job.finished[-1].seq if job.finished else 0

    def finished(self, job_id: str, after_seq: int, limit: int = 1000) -> list:
        with self.cond:
            job = self._job(job_id)
            return [f for f in job.finished if f.seq > after_seq][:limit]

    def result_chunks(self, fragment_id: int) -> Iterator[bytes]:
        data = self.results[fragment_id]
        for off in range(0, len(data), self.chunk_bytes):
            yield data[off:off + self.chunk_bytes]

    def get_cursor(self, job_id: str) -> int:
        with self.cond:
            return self._job(job_id).cursor

    def set_cursor(self, job_id: str, seq: int) -> None:
        with self.cond:
            job = self._job(job_id)
            job.cursor = max(job.cursor, seq)
            self.cursor_writes += 1
