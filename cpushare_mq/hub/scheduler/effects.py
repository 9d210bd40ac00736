"""What the core hands out: frozen records only. The effects of a batch (:class:`Effects`:
the store's :class:`Journal`, CANCELs, dead workers, verdicts), the leases of
:meth:`Scheduler.assign` (:data:`LeaseGrant`, naming their job by its :class:`JobView`), and
the records the shell reads or gives back (:class:`WorkerRecord`, :class:`Reopen`). The
core's own mutable objects (:mod:`.records`) never leave the package."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from .states import FragState, JobState


@dataclass(frozen=True, slots=True)
class Reopen:
    """What :meth:`Scheduler.reopen` needs of a DONE fragment (the store's ``fragments`` row
    and the ``attempts`` row of its accepted result)."""

    fid: int
    job_id: str
    index: int
    next_attempt: int
    failures: int
    seq: int                 # the acceptance sequence number the buyer already saw
    result_attempt: int      # the accepted attempt
    sha256: str              # its digest
    size: int
    key: str                 # the worker key of that attempt


@dataclass(frozen=True, slots=True)
class JobView:
    """A job's fixed facts, as a LEASE, a result's checks and a receipt need them."""

    id: str
    name: str
    program_sha256: str
    shared_sha256: str
    redundancy: int
    quorum: int
    cpu_s: float
    wall_s: float
    max_attempts: int
    max_output_bytes: int
    priority: int


#: A lease handed out by :meth:`Scheduler.assign`: (job, fid, index, attempt, lease_s).
LeaseGrant = tuple[JobView, int, int, int, float]


class FragChange(NamedTuple):
    """One fragment row of a batch: ``old`` is its state in the store before the batch (the
    store's update checks it), the rest is the row now. (A NamedTuple, the one record here
    that is not a frozen dataclass: every fragment passes through two or more of them, and
    the dataclass cost 1.4 us per fragment, 3-5 % of the hub's CPU per fragment, see
    bench/RESULTS.md, issue 20; it is as immutable.)"""

    fid: int
    job_id: str
    index: int
    old: FragState
    state: FragState
    next_attempt: int
    failures: int
    seq: int | None          # acceptance sequence number (DONE/FAILED, or a reopened one's)
    reason: str
    result_attempt: int | None
    size: int
    sha256: str
    boost: int               # extra copies and quorum (a spot check)


@dataclass(frozen=True, slots=True)
class JobEnd:
    """A job that ended in this batch, with its final counts (kept on its row: the hub
    answers for ended jobs from the store, hub/retention.py)."""

    id: str
    state: JobState
    n_done: int
    n_failed: int


@dataclass(frozen=True, slots=True)
class WorkerRecord:
    """A worker session as the core knows it (a join or leave in a journal, or
    :meth:`Scheduler.worker_records` for a rebuild that keeps the connected ones)."""

    id: str
    name: str
    key: str
    slots: int
    credit: int
    joined_s: float
    last_seen: float
    paused: bool
    paused_since: float
    alive: bool
    done: int
    failed: int
    jobs_seen: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Journal:
    """Store changes of one batch, in the order the store applies them (one transaction)."""

    frags: tuple[FragChange, ...] = ()
    attempts_new: tuple[tuple, ...] = ()    # (fid, attempt, job, worker, key, leased_s, deadline)
    attempts_owner: tuple[tuple, ...] = ()  # (worker, key, fid, attempt): re-attached
    attempts_end: tuple[tuple, ...] = ()    # (ended_s, end, sha256, size, detail,
    #                                          cpu_us claimed or None, fid, attempt)
    results: tuple[tuple, ...] = ()         # (fid, attempt, seq, data): added by the shell
    drop_results: tuple[tuple, ...] = ()    # (fid, attempt)
    jobs: tuple[JobEnd, ...] = ()
    workers: tuple[WorkerRecord, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.frags or self.attempts_new or self.attempts_owner or self.attempts_end
                    or self.results or self.drop_results or self.jobs or self.workers)

    def with_results(self, results: Iterable[tuple]) -> Journal:
        """This journal plus the accepted results' chunks the shell assembled."""
        more = tuple(results)
        if not more:
            return self
        return Journal(self.frags, self.attempts_new, self.attempts_owner, self.attempts_end,
                       self.results + more, self.drop_results, self.jobs, self.workers)


@dataclass(frozen=True, slots=True)
class Effects:
    """Everything one batch of events asks of the shell (:meth:`Scheduler.take_effects`)."""

    journal: Journal = field(default_factory=Journal)
    cancels: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # worker -> leases
    cancel_reasons: dict[str, str] = field(default_factory=dict)
    dead: list[str] = field(default_factory=list)              # workers declared dead
    finished_jobs: set[str] = field(default_factory=set)       # jobs with a new DONE/FAILED fragment or ended
    # fragments accepted on more than one result: (fid, job_id, winner sha256, [(key, sha256)])
    verdicts: list[tuple[int, str, str, list[tuple[str, str]]]] = field(default_factory=list)
    # every fragment accepted: (fid, job_id, the accepted attempt) — the copy a market pays
    # (market/claims.py); plain tuples: one per fragment, on the hot path
    accepted: list[tuple[int, str, int]] = field(default_factory=list)
