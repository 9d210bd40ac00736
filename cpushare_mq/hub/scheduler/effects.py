"""What the core hands out: effects of a batch (store journal, CANCELs, dead workers,
verdicts) and the records the shell reads."""

from __future__ import annotations

from dataclasses import dataclass, field

from .records import _Frag, _Job, _Worker
from .states import FragState


@dataclass(frozen=True)
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



# ---------------------------------------------------------------------------------------
# Effects


@dataclass
class Journal:
    """Store changes of one batch, in the order the store applies them."""

    frags: dict[int, tuple[FragState, _Frag]] = field(default_factory=dict)  # fid -> (state in store, frag)
    attempts_new: list[tuple] = field(default_factory=list)   # (fid, attempt, job, worker, key, leased_s, deadline)
    attempts_owner: list[tuple] = field(default_factory=list) # (worker, key, fid, attempt): re-attached
    attempts_end: list[tuple] = field(default_factory=list)   # (ended_s, end, sha256, size, detail, fid, attempt)
    results: list[tuple] = field(default_factory=list)        # (fid, attempt, seq, data) — filled by the shell
    drop_results: list[tuple] = field(default_factory=list)   # (fid, attempt)
    jobs: dict[str, _Job] = field(default_factory=dict)
    workers: dict[str, _Worker] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.frags or self.attempts_new or self.attempts_owner or self.attempts_end
                    or self.results
                    or self.drop_results or self.jobs or self.workers)


@dataclass
class Effects:
    journal: Journal = field(default_factory=Journal)
    cancels: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # worker -> leases
    cancel_reasons: dict[str, str] = field(default_factory=dict)
    dead: list[str] = field(default_factory=list)              # workers declared dead
    finished_jobs: set[str] = field(default_factory=set)       # jobs with a new DONE/FAILED fragment or ended
    # fragments accepted on more than one result: (fid, job_id, winner sha256, [(key, sha256)])
    verdicts: list[tuple[int, str, str, list[tuple[str, str]]]] = field(default_factory=list)



# A lease handed out by assign(): (job, fid, index, attempt, lease_s)
LeaseGrant = tuple
