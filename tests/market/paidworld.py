"""The hub's scheduler core over a real store, paying through a real payout, turn by turn
as the hub's loop runs them (hub/loop.py): what the market's unit tests drive."""

from __future__ import annotations

from cpushare_mq.hub.scheduler import HubConfig, JobSpec, Scheduler
from cpushare_mq.hub.store import Store
from cpushare_mq.market.ledger import DEFAULT_PRICE
from cpushare_mq.market.payout import Payout, job_terms

from .leasecount import payout


class World:
    """The hub's scheduler core over a real store (its database at ``db``), turn by turn as
    the hub's loop runs them (hub/loop.py): a turn's effects are committed, then settled
    with the payout."""

    def __init__(self, db: str, redundancy: int, n: int = 1,
                 max_extra_copies: int | None = None, **spec):
        self.db, self.store = db, Store(db)
        self.core = Scheduler(HubConfig(window_fragments=8, max_extra_copies=max_extra_copies))
        row = self.store.add_job(JobSpec(program=b"p", fragments=[b"%d" % i for i in range(n)],
                                         redundancy=redundancy, wall_s=60.0, **spec), 100.0)
        self.job = row["id"]
        self.core.add_job(row)
        for job_id, after, limit in self.core.refill_requests():
            self.core.add_pending(job_id, self.store.pending(job_id, after, limit), limit)
        for w in ("liar", "a", "b", "c"):
            self.core.join(100.0, w, key=f"K-{w}", slots=1)

    def turn(self, pay: Payout):
        """Commit the turn's effects to the store, then settle them; returns them."""
        fx = self.core.take_effects()
        self.store.apply(fx.journal, 100.0)
        pay.settle(fx, self.core.accepted_through())
        return fx


def voting_world(tmp_path, redundancy: int, n: int = 1, **kw) -> tuple[World, Payout]:
    """A world and the payout of its hub (paying ``DEFAULT_PRICE``), which was given the job
    as the hub gives it a job it stores (hub/buyerdesk.py)."""
    w = World(str(tmp_path / "hub.db"), redundancy, n, **kw)
    pay = payout(w.db, DEFAULT_PRICE)
    pay.on_job(w.job, job_terms(pay, JobSpec(program=b"p", fragments=[b""], wall_s=60.0)), w.core)
    pay.before_assign(w.core)                     # the hub's first turn
    return w, pay


def lease(core, wid: str) -> tuple[int, int]:
    core.ready(100.0, wid, 1)
    (grant,) = core.assign(100.0)[wid]
    return grant[1], grant[3]


def vote(core, pay: Payout, job: str, wid: str, fid: int, attempt: int, sha: str,
         cpu_s: float = 2.0) -> None:
    """An ok result counted as a vote, with the CPU time its record claims (as the hub's
    result desk passes it: hub/resultdesk.py)."""
    assert core.result(100.0, wid, fid, attempt, sha, 1,
                       cpu_us=round(cpu_s * 1e6)) == "accepted"    # the vote counts
    pay.on_copy(job, f"K-{wid}", fid, attempt, cpu_s, 60.0)
