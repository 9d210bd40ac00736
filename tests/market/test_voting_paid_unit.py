"""Who is paid when a fragment runs more than once (issue 19): the copy the fragment is
accepted with, once per fragment — an outvoted copy is never paid, even when it was counted
first; the claims of copies waiting for the vote survive a hub restart, count against the
job's budget, and are dropped when the fragment fails or the job ends. Driven through the
real scheduler core and the hub's payout (market/payout.py, market/claims.py)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.market.claims import Claim, Claims
from cpushare_mq.market.following import open_votes
from cpushare_mq.market.ledger import DEFAULT_PRICE, read_receipts
from cpushare_mq.market.payout import Payout, job_terms

from .leasecount import leases, payout
from .paidworld import lease, vote, voting_world

RIGHT, WRONG = hashlib.sha256(b"right").hexdigest(), hashlib.sha256(b"wrong").hexdigest()


def receipts(pay: Payout) -> dict[str, list[tuple[int, int]]]:
    """worker key -> [(fragment, attempt)] of its receipts (as 'cpushare ledger' reads them
    once the hub's turn ends: no lease out, the receipts stored are signed)."""
    pay.outgoing(0.0, leases(0))
    (path,) = [p for _, name, p in pay.ledger.db.execute("PRAGMA database_list") if name == "main"]
    out: dict[str, list] = {}
    for sr in read_receipts(path.removesuffix(".ledger"))[1]:
        out.setdefault(sr.receipt.worker_key, []).append((sr.receipt.fragment_id,
                                                          sr.receipt.attempt))
    return out


def test_an_outvoted_copy_is_never_paid_even_when_counted_first(tmp_path):
    w, pay = voting_world(tmp_path, redundancy=2)
    core, job = w.core, w.job
    fid, a0 = lease(core, "liar")
    vote(core, pay, job, "liar", fid, a0, WRONG)         # counted first
    w.turn(pay)
    assert receipts(pay) == {}                           # nothing is paid before the verdict
    _, a1 = lease(core, "a")
    vote(core, pay, job, "a", fid, a1, RIGHT)
    w.turn(pay)
    _, a2 = lease(core, "b")                             # the tie is broken by a third copy
    vote(core, pay, job, "b", fid, a2, RIGHT)
    fx = w.turn(pay)
    assert fx.accepted == [(fid, job, a1)]              # the first copy of the winning result
    assert receipts(pay) == {"K-a": [(fid, a1)]}        # one receipt per fragment


def test_a_copy_counted_before_a_restart_is_paid_at_the_acceptance_after_it(tmp_path):
    w, pay = voting_world(tmp_path, redundancy=2)
    core, job = w.core, w.job
    fid, a0 = lease(core, "a")
    vote(core, pay, job, "a", fid, a0, RIGHT)
    w.turn(pay)                     # the vote and its claim are in the store
    pay.close()
    pay = payout(w.db, DEFAULT_PRICE)                      # the hub restarts
    _, a1 = lease(core, "b")
    vote(core, pay, job, "b", fid, a1, RIGHT)
    w.turn(pay)
    assert receipts(pay) == {"K-a": [(fid, a0)]}


def test_claims_of_a_failed_fragment_and_of_an_ended_job_are_dropped(tmp_path):
    w, pay = voting_world(tmp_path, redundancy=2, n=2, max_extra_copies=0, quorum=2)
    core, job = w.core, w.job
    f0, a0 = lease(core, "a")
    vote(core, pay, job, "a", f0, a0, RIGHT)
    fb, b0 = lease(core, "b")                  # a fragment waiting for its vote goes first
    assert fb == f0
    vote(core, pay, job, "b", f0, b0, WRONG)             # no quorum is reachable: FAILED
    f1, c0 = lease(core, "c")
    vote(core, pay, job, "c", f1, c0, RIGHT)
    w.turn(pay)
    assert receipts(pay) == {}
    assert open_votes(w.store.conn(), [job]) == [(job, f1, c0, "K-c", 2_000_000)]  # open
    core.cancel_job(100.0, job)
    w.turn(pay)
    assert receipts(pay) == {}
    pay.close()
    assert receipts(payout(w.db, DEFAULT_PRICE)) == {}    # nor after a restart


def test_open_claims_count_against_the_budget(tmp_path):
    w, _ = voting_world(tmp_path, redundancy=2, n=4, cpu_s=1.0)
    core, job = w.core, w.job
    pay = payout(w.db, None)
    spec = JobSpec(program=b"p", fragments=[b""], cpu_s=1.0, price="3600 EUR", budget="3.5")
    pay.on_job(job, job_terms(pay, spec), core)            # each lease may cost 1 EUR
    fid, a0 = lease(core, "a")
    vote(core, pay, job, "a", fid, a0, RIGHT, cpu_s=1.0)   # owed 1, not paid yet
    w.turn(pay)
    pay.before_assign(core)
    for w in ("liar", "b", "c"):
        core.ready(100.0, w, 1)
    assert sum(map(len, core.assign(100.0).values())) == 2     # 1 owed + 2 out + 1 > 3.5
    assert core.progress(job)["waiting"].startswith("budget reached")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.sampled_from("ab"),
                          st.integers(0, 9)), max_size=40),
       st.lists(st.tuples(st.integers(0, 5), st.sets(st.integers(0, 3))), max_size=8))
def test_claims_owed_is_always_the_sum_of_the_open_claims(adds, settles):
    claims, open_ = Claims(), {}
    settles = (settles + [(None, set())] * len(adds))[:len(adds)]
    for (fid, attempt, job, cents), (sfid, winners) in zip(adds, settles, strict=True):
        c = Claim(job, fid, attempt, "K", 1_000_000, Decimal(cents) / 100)
        claims.add(c)
        open_[fid, attempt] = c
        if sfid is not None:
            paid, dropped = claims.settle(sfid, winners)
            gone = {k: v for k, v in open_.items() if k[0] == sfid}
            assert sorted(paid + dropped, key=lambda c: c.attempt) == sorted(
                gone.values(), key=lambda c: c.attempt)
            assert {c.attempt for c in paid} == winners & {a for _, a in gone}
            for k in gone:
                del open_[k]
        for job in "ab":
            assert claims.owed(job) == sum((c.cost for c in open_.values() if c.job_id == job),
                                           Decimal(0))


def test_the_plausibility_check_survives_a_hub_restart(tmp_path):
    """An inflating key flagged before a restart is still flagged after it and still paid
    the job's median (seeded from the job's receipts); a vote in progress across the restart
    still compares its copies."""
    w, pay = voting_world(tmp_path, redundancy=2, n=12)
    core, job = w.core, w.job
    for i in range(5):                     # "a" claims 5x what "b" does for the same work
        fid, a0 = lease(core, "a")
        vote(core, pay, job, "a", fid, a0, RIGHT, cpu_s=5.0)
        _, b0 = lease(core, "b")
        vote(core, pay, job, "b", fid, b0, RIGHT, cpu_s=1.0 + i / 100)
        w.turn(pay)
    assert pay.ledger.meter.flagged("K-a", 3.0)
    fid, c0 = lease(core, "c")             # a vote in progress when the hub dies
    vote(core, pay, job, "c", fid, c0, RIGHT, cpu_s=1.0)
    w.turn(pay)
    before = pay.ledger.meter.summary("K-c")["comparisons"]
    pay.close()

    pay = payout(w.db, DEFAULT_PRICE)                        # restarted
    assert pay.ledger.meter.flagged("K-a", 3.0)
    _, a1 = lease(core, "a")
    vote(core, pay, job, "a", fid, a1, RIGHT, cpu_s=5.0)
    w.turn(pay)
    assert pay.ledger.meter.summary("K-c")["comparisons"] == before + 1
    # "c"'s copy was first: it is paid; then "a" alone on a fresh fragment: the median
    fid2, a2 = lease(core, "a")
    vote(core, pay, job, "a", fid2, a2, RIGHT, cpu_s=5.0)
    _, b2 = lease(core, "b")
    vote(core, pay, job, "b", fid2, b2, RIGHT, cpu_s=1.0)
    w.turn(pay)
    paid = {r.fragment_id: r.cpu_us for batch, _ in pay.ledger.sign().batches
            for r in batch.receipts}
    assert paid[fid] == 1_000_000 and paid[fid2] < 1_100_000      # not "a"'s 5 s


def _paid_votes(tmp_path, redundancy: int, plan: list[tuple[str, bool, bool]],
                settle_each: bool) -> tuple[dict, dict]:
    """Run ``plan`` (worker, right answer?, end the turn after this vote?) on a fresh world:
    its receipts, and what the scheduler's verdicts say is owed (per worker key, the
    accepted copy of each fragment accepted)."""
    w, pay = voting_world(tmp_path, redundancy=redundancy, n=3)
    core, job = w.core, w.job
    voted, owed = {}, {}

    def settle():
        for fid, _, attempt in w.turn(pay).accepted:
            owed.setdefault(f"K-{voted[fid, attempt]}", []).append((fid, attempt))

    for wid, right, ends_turn in plan:
        core.ready(100.0, wid, 1)
        grants = core.assign(100.0).get(wid)
        if grants:
            (_, fid, _, attempt, *_), = grants
            vote(core, pay, job, wid, fid, attempt, RIGHT if right else WRONG)
            voted[fid, attempt] = wid
        if settle_each or ends_turn:
            settle()
    settle()
    try:
        return receipts(pay), {k: sorted(v) for k, v in owed.items()}
    finally:
        pay.close()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([1, 2]), st.lists(st.tuples(
    st.sampled_from(["liar", "a", "b", "c"]), st.booleans(), st.booleans()), max_size=14))
def test_who_is_paid_does_not_depend_on_how_votes_fall_into_turns(tmp_path_factory,
                                                                  redundancy, plan):
    """Copies counted and accepted within one turn (the hub pays most of its results so) are
    paid exactly as when every vote ends a turn, and as the verdicts say: the accepted copy,
    once per fragment."""
    for settle_each in (True, False):
        paid, owed = _paid_votes(tmp_path_factory.mktemp("turns"), redundancy, plan,
                                 settle_each)
        assert {k: sorted(v) for k, v in paid.items()} == owed
