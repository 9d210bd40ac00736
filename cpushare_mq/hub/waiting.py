"""Why a job waits: computed from the scheduler's real state, never guessed by a client.

A job whose fragments sit in the queue with no lease coming is waiting for something the
buyer should know about (no worker at all, too few distinct sellers for its redundancy,
copies that disagree, ...). :func:`waiting_reason` is a pure function of frozen views that the
scheduler builds (:meth:`cpushare_mq.hub.scheduler.Scheduler.waiting`); the one table
:data:`TEXTS` says each reason in words. ``cpushare status``, the progress line of
``cpushare submit`` and ``cpushare-povray render`` show the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["WaitReason", "TEXTS", "WorkerView", "FragView", "Waiting", "waiting_reason"]


class WaitReason(StrEnum):
    NO_WORKER = "no_worker"
    ALL_PAUSED = "all_paused"
    NEEDS_DISTINCT = "needs_distinct"
    TIE_BREAK = "tie_break"
    AVOIDS_FAILED = "avoids_failed"
    BUSY_OTHER_JOBS = "busy_other_jobs"
    BUDGET = "budget"        # the next leases could cost more than the job's budget left


#: The one table of reasons in words (formatted with the :class:`Waiting` parameters).
TEXTS: dict[WaitReason, str] = {
    WaitReason.NO_WORKER: "no worker connected",
    WaitReason.ALL_PAUSED: "every connected worker is paused ({paused} of {connected})",
    WaitReason.NEEDS_DISTINCT: ("redundancy needs {needed} distinct workers (worker keys), "
                                "{connected} connected"),
    WaitReason.TIE_BREAK: ("copies disagree: waiting for a tie-breaker from a worker key that "
                           "has not run this fragment ({connected} connected have)"),
    WaitReason.AVOIDS_FAILED: ("waits for a worker that has not failed this fragment "
                               "({connected} connected have)"),
    WaitReason.BUSY_OTHER_JOBS: "workers all busy with other jobs ({connected} connected)",
    WaitReason.BUDGET: "budget reached: {detail}",
}


@dataclass(frozen=True)
class WorkerView:
    key: str                 # identity used for "distinct workers"
    alive: bool
    paused: bool
    has_room: bool           # credit and a free slot or prefetch room
    holds_job: bool          # holds a lease of the job in question


@dataclass(frozen=True)
class FragView:
    needed_keys: int         # distinct worker keys the fragment needs in all (redundancy + check)
    excluded: frozenset[str] # keys that may not run it now (ran it, or its sandbox died on it)
    digests: int             # different results so far


@dataclass(frozen=True)
class Waiting:
    reason: WaitReason
    connected: int = 0
    paused: int = 0
    needed: int = 0
    detail: str = ""         # BUDGET: what was spent and how to go on (market/payout.py)

    @property
    def text(self) -> str:
        return TEXTS[self.reason].format(connected=self.connected, paused=self.paused,
                                         needed=self.needed, detail=self.detail)


def waiting_reason(queued: Sequence[FragView], workers: Sequence[WorkerView]) -> Waiting | None:
    """Why the ``queued`` fragments of a job (those waiting for a copy) get no lease, or
    None when nothing waits or a worker can take one."""
    if not queued:
        return None
    alive = [w for w in workers if w.alive]
    if not alive:
        return Waiting(WaitReason.NO_WORKER)
    active = [w for w in alive if not w.paused]
    if not active:
        return Waiting(WaitReason.ALL_PAUSED, connected=len(alive), paused=len(alive))
    keys = {w.key for w in active}
    runnable = [f for f in queued if keys - f.excluded]
    if not runnable:
        f = queued[0]
        if f.needed_keys > len(keys):
            return Waiting(WaitReason.NEEDS_DISTINCT, connected=len(keys), needed=f.needed_keys)
        if f.digests > 1:
            return Waiting(WaitReason.TIE_BREAK, connected=len(keys))
        return Waiting(WaitReason.AVOIDS_FAILED, connected=len(keys))
    eligible = {k for f in runnable for k in keys - f.excluded}
    able = [w for w in active if w.key in eligible]
    if any(w.has_room for w in able) or any(w.holds_job for w in able):
        return None
    return Waiting(WaitReason.BUSY_OTHER_JOBS, connected=len(keys))
