"""Budgets (issue 19): the pure rule (market/budget.py) never lets what is paid plus what the
leases out could cost exceed the budget; the scheduler leases no more than its allowance and
says why the job waits; the hub's payout keeps a job's terms across a restart."""

from __future__ import annotations

import hashlib
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpushare_mq.errors import SchedulingError
from cpushare_mq.hub.scheduler import HubConfig, JobSpec, Scheduler
from cpushare_mq.market.budget import Budget
from cpushare_mq.market.ledger import HubLedger, read_receipts
from cpushare_mq.market.money import Price, cost
from cpushare_mq.market.payout import job_terms, parse_raise

from .leasecount import leases, payout

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hub"))
from memstore import MemStore  # noqa: E402

amounts = st.decimals(min_value=0, max_value=1000, places=9, allow_nan=False,
                      allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(price=amounts, limit=amounts, spent=amounts, flying=st.integers(0, 50),
       cpu_us=st.integers(0, 10**10))
def test_room_never_lets_the_committed_money_exceed_the_budget(price, limit, spent, flying,
                                                               cpu_us):
    b = Budget(Price(price, "EUR"), limit, cpu_us)
    room = b.room_for(spent, flying)
    each = cost(b.price, cpu_us)
    if each > 0:
        assert room >= 0
        if room > 0:
            assert spent + each * (flying + room) <= limit
        assert spent + each * (flying + room + 1) > limit     # as many as fit, no fewer
    assert Budget(Price(price), None, cpu_us).room_for(spent, flying) > 10**6


def world():
    store, core = MemStore(), Scheduler(HubConfig(window_fragments=8))
    row = store.add_job(JobSpec(program=b"p", fragments=[b"%d" % i for i in range(6)],
                                wall_s=2.0), 100.0)
    core.add_job(row)
    for job_id, after, limit in core.refill_requests():
        core.add_pending(job_id, store.pending(job_id, after, limit), limit)
    core.join(100.0, "w1", key="K", slots=8)
    core.ready(100.0, "w1", 8)
    return core, row["id"]


def test_the_core_leases_no_more_than_the_allowance_and_says_why():
    core, job = world()
    core.set_allowance(job, 2, "budget words")
    grants = core.assign(100.0)["w1"]
    assert len(grants) == 2 and core.in_flight(job) == 2
    assert core.assign(100.0) == {}                     # allowance used up
    assert core.progress(job)["waiting"] == "budget reached: budget words"
    f = grants[0]
    core.result(100.0, "w1", f[1], f[3], hashlib.sha256(b"R").hexdigest(), 1)
    assert core.in_flight(job) == 1 and core.assign(100.0) == {}
    core.set_allowance(job, None)                       # raised: goes on
    assert len(core.assign(100.0)["w1"]) == 4 and core.progress(job)["waiting"] == ""


def test_payout_allowance_follows_spending_and_survives_a_restart(tmp_path):
    core, job = world()
    pay = payout(str(tmp_path / "hub.db"), None)
    spec = JobSpec(program=b"p", fragments=[b""], cpu_s=1.0, price="3600 EUR", budget="2.5")
    terms = job_terms(pay, spec)
    assert (terms.price, terms.budget, terms.cpu_limit_us) == (
        Price(Decimal(3600), "EUR"), Decimal("2.5"), 1_000_000)
    pay.on_job(job, terms, core)
    grants = core.assign(100.0)["w1"]
    assert len(grants) == 2                       # each lease may cost 1: 2 fit in 2.5
    f = grants[0]
    core.result(100.0, "w1", f[1], f[3], hashlib.sha256(b"R").hexdigest(), 1)
    pay.on_copy(job, "K", f[1], f[3], 0.75, 1.0)
    fx = core.take_effects()
    assert fx.accepted == [(f[1], job, f[3])]
    pay.settle(fx, 0)                                # the accepted copy is paid
    pay.outgoing(100.0, core)        # (signed with the turn's end)
    assert [sr.receipt.amount_decimal for sr in pay.ledger.undelivered("K", 9).receipts] == [
        Decimal("0.75")]
    pay.before_assign(core)                       # 0.75 + 1 out + 1 more > 2.5
    assert core.assign(100.0) == {}
    assert "0.75 of 2.5 EUR spent" in core.progress(job)["waiting"]
    assert pay.raise_budget(job, Decimal("1"), core) == Decimal("3.5")
    assert len(core.assign(100.0)["w1"]) == 1
    pay.close()
    again = payout(str(tmp_path / "hub.db"), None)     # the hub restarts
    again.before_assign(core)
    assert core.assign(100.0) == {}               # 0.75 spent + 2 out + 1 > 3.5
    assert "0.75 of 3.5 EUR spent" in core.progress(job)["waiting"]


def test_terms_this_hub_cannot_keep_are_refused(tmp_path):
    spec = JobSpec(program=b"p", fragments=[b""], budget="3")
    with pytest.raises(SchedulingError, match="a budget needs a price"):
        job_terms(payout(str(tmp_path / "hub.db"), None), spec)
    with pytest.raises(SchedulingError, match="keeps no ledger"):
        job_terms(None, spec)
    assert job_terms(None, JobSpec(program=b"p", fragments=[b""])) is None
    with pytest.raises(SchedulingError, match="price must be"):
        job_terms(None, JobSpec(program=b"p", fragments=[b""], price=0.5))
    for bad in ("0", "-1", "x", "1e3"):
        with pytest.raises(SchedulingError):
            parse_raise(bad)
    assert parse_raise("0.000000001") == Decimal("0.000000001")


def test_a_restart_loads_live_jobs_terms_and_still_pays_a_job_taken_for_ended(tmp_path):
    """The ledger keeps every job's terms; a restarted hub loads those of jobs not ended.
    A job the ledger took for ended (the hub was killed after the ledger noted its end,
    before the hub committed it) is still paid at its own price when it goes on."""
    core, job = world()
    db = str(tmp_path / "hub.db")
    pay = payout(db, None)                 # no hub price: a job pays its own
    terms = job_terms(pay, JobSpec(program=b"p", fragments=[b""], cpu_s=1.0, price="3600 EUR"))
    pay.on_job(job, terms, core)
    pay.on_job("j-gone", terms, core)                 # a job that ended before a restart
    pay.before_assign(core)                           # not running: let go
    assert set(HubLedger(db, None).terms()) == {job, "j-gone"}     # (noted when signing)
    pay.outgoing(100.0, leases(0))                    # the turn ends: recorded
    assert set(HubLedger(db, None).terms()) == {job}
    pay.ledger.job_ended(job)                         # ... noted and recorded, then kill -9
    pay.ledger.sign()
    again = payout(db, None)
    assert job not in again.ledger.terms()
    f = core.assign(100.0)["w1"][0]
    core.result(100.0, "w1", f[1], f[3], hashlib.sha256(b"R").hexdigest(), 1)
    again.on_copy(job, "K", f[1], f[3], 0.5, 1.0)
    again.settle(core.take_effects(), 0)
    again.outgoing(100.0, leases(0))
    (sr,) = read_receipts(db)[1]
    assert (sr.receipt.job_id, sr.receipt.price, sr.receipt.currency, sr.receipt.amount) == (
        job, "3600", "EUR", "0.500000000")
