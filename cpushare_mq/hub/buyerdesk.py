"""The buyer desk: what the buyer side asks of a hub (the buyer socket of hub/api.py, the
dashboard, a program that embeds a :class:`~cpushare_mq.hub.server.Hub`), from any thread.
Reads use the calling thread's own SQLite connection or a snapshot of the scheduler taken
under the hub's lock; changes are run on the loop thread and committed before they return.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..errors import SchedulingError, UnknownJob
from .delivery import decoded_chunks, with_inline_data
from .jobclock import annotate
from .retention import ended_progress, purge_job
from .scheduler import JobSpec, JobState
from .store import FinishedFragment

if TYPE_CHECKING:
    from .server import Hub

__all__ = ["BuyerDesk"]

log = logging.getLogger(__name__)


class BuyerDesk:
    def __init__(self, hub: Hub):
        self.hub = hub
        self.started_s = time.time()

    def submit_job(self, spec: JobSpec) -> str:
        hub = self.hub
        if not isinstance(spec, JobSpec):
            raise TypeError(f"submit_job takes a JobSpec, got {type(spec).__name__}")
        from ..market.payout import job_terms
        terms = job_terms(hub.payout, spec)        # issue 19: its price and budget
        row = hub.store.add_job(spec, time.time())
        row.update(n_done=0, n_failed=0, n_leased=0, n_voting=0)
        hub.job_watch.add(row["id"])
        hub.loop.call(lambda now: self._add_job(row, terms))
        log.info("job %s submitted: %s fragments%s", row["id"], row["total"],
                 f" ({spec.name})" if spec.name else "")
        return row["id"]

    def _add_job(self, row: dict, terms) -> None:
        self.hub.core.add_job(row)
        if terms is not None:          # before anything of it is leased
            self.hub.payout.on_job(row["id"], terms, self.hub.core)

    def raise_budget(self, job_id: str, amount):
        """Add ``amount`` (a Decimal) to a job's budget; returns the new budget (issue 19)."""
        hub = self.hub
        if not hub.store.job_exists(job_id):
            raise UnknownJob(f"no job {job_id!r}")
        if hub.payout is None:
            raise SchedulingError("this hub keeps no ledger: no job of it has a budget")
        return hub.loop.call(lambda now: hub.payout.raise_budget(job_id, amount, hub.core))

    def cancel_job(self, job_id: str) -> None:
        hub = self.hub
        if hub.store.job_row(job_id)["state"] != JobState.RUNNING.value:
            return          # it ended: nothing to cancel (UnknownJob if there is no such job)
        try:
            hub.loop.call(lambda now: hub.core.cancel_job(now, job_id))
        except UnknownJob:
            if not hub.store.job_exists(job_id):
                raise
            return          # it ended meanwhile (and left the core)
        log.info("job %s cancelled", job_id)

    def job_progress(self, job_id: str) -> dict:
        hub = self.hub
        try:
            with hub.core_lock:
                p = hub.core.progress(job_id)
        except UnknownJob:          # ended (the core keeps live jobs only) or unknown
            p = ended_progress(hub.store.conn(), job_id)[0]
        store = hub.store
        p["failures"] = store.failures(job_id) if p["failed"] else []
        return annotate([p], store.job_clocks(), store.failed_by_outcome(), time.time())[0]

    def status(self) -> dict:
        hub = self.hub
        now = time.time()
        with hub.core_lock:
            core = hub.core
            jobs = [core.progress(j) for j in core.job_states()]
            workers = core.workers_info(now)
            tput = core.throughput_per_s(now)
            held = hub.result_desk.held_bytes
        store = hub.store
        live = {p["job_id"] for p in jobs}      # a job may end between the two reads
        jobs = [p for p in ended_progress(store.conn()) if p["job_id"] not in live] + jobs
        for p in jobs:
            p["failures"] = store.failures(p["job_id"], 20) if p["failed"] else []
        annotate(jobs, store.job_clocks(), store.failed_by_outcome(), now)
        sellers = []
        if hub.trust is not None:
            for w in workers:
                rep = hub.trust.reputation(hub.sessions.key_of(w["worker_id"]))
                w["trust"] = rep
                w["reputation"] = str(rep.get("tier", "unknown"))
                w["strikes"] = rep.get("strikes", 0)
            sellers = hub.trust.sellers()
        return {"jobs": jobs, "workers": workers, "throughput_per_s": tput, "sellers": sellers,
                "worker_endpoint": hub.worker_endpoint,
                "uptime_s": round(now - self.started_s, 3), "unfinished_result_bytes": held}

    def wait_for_change(self, job_id: str, after_seq: int, timeout_s: float) -> int:
        store = self.hub.store
        if not self.hub.job_watch.knows(job_id):    # ended before this start, or unknown
            if not store.job_exists(job_id):
                raise UnknownJob(f"no job {job_id!r}")
            return store.max_seq(job_id)
        seq = self.hub.job_watch.wait_for_change(job_id, after_seq, timeout_s, store.job_exists)
        if seq is None:
            raise UnknownJob(f"no job {job_id!r}")
        return seq

    def purge_job(self, job_id: str) -> int:
        hub = self.hub
        n = purge_job(hub.store.conn(), job_id, time.time(), hub.trust_ledger_path)
        hub.job_watch.forget(job_id)
        log.info("job %s purged (%d fragments)", job_id, n)
        return n

    def job_ended(self, job_id: str) -> bool:
        ended = self.hub.job_watch.ended(job_id)
        if ended is not None:
            return ended
        store = self.hub.store
        if not store.job_exists(job_id):
            raise UnknownJob(f"no job {job_id!r}")
        return store.job_row(job_id)["state"] != JobState.RUNNING.value

    def finished(self, job_id: str, after_seq: int, limit: int = 1000) -> list[FinishedFragment]:
        store = self.hub.store
        if not self.hub.job_watch.knows(job_id) and not store.job_exists(job_id):
            raise UnknownJob(f"no job {job_id!r}")
        return with_inline_data(store.finished(job_id, after_seq, limit))

    def result_chunks(self, fragment_id: int) -> Iterator[bytes]:
        return decoded_chunks(self.hub.store.result_chunks(fragment_id))
