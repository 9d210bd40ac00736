"""Why a job waits (hub/waiting.py) and how copies that never agree end (hub/disagreement.py):
the pure rules, and the scheduler's real state driving them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from test_scheduler import World

from cpushare_mq.hub.disagreement import (
    disagreed_reason,
    hopeless_ties,
    is_disagreed,
    quorum_out_of_reach,
)
from cpushare_mq.hub.scheduler import HubConfig
from cpushare_mq.hub.waiting import FragView, WaitReason, WorkerView, waiting_reason

CFG = HubConfig(heartbeat_interval_s=1.0, liveness=3, lease_grace_s=5.0, pause_grace_s=5.0,
                window_fragments=8, tie_break_wait_s=30.0)


def test_waiting_reasons_of_the_pure_rule():
    frag = FragView(needed_keys=3, excluded=frozenset(), digests=0)
    w = [WorkerView("k1", True, False, True, False), WorkerView("k2", True, False, True, False)]
    assert waiting_reason([], w) is None
    assert waiting_reason([frag], []).reason is WaitReason.NO_WORKER
    # two workers of one key count once
    one_key = [WorkerView("k1", True, False, True, False)] * 2
    tie = FragView(needed_keys=3, excluded=frozenset({"k1"}), digests=2)
    got = waiting_reason([tie], one_key)
    assert got.reason is WaitReason.NEEDS_DISTINCT
    assert got.text == "redundancy needs 3 distinct workers (worker keys), 1 connected"
    tie2 = FragView(needed_keys=2, excluded=frozenset({"k1", "k2"}), digests=2)
    got = waiting_reason([tie2], w)
    assert got.reason is WaitReason.TIE_BREAK and got.text.startswith("copies disagree: waiting "
                                                                      "for a tie-breaker")
    assert waiting_reason([FragView(2, frozenset({"k1"}), 1)], w) is None   # k2 can take it


def test_a_job_needing_more_distinct_keys_says_so_and_runs_when_they_come():
    w = World(CFG)
    job = w.submit(2, redundancy=3, quorum=3)
    w.join("a", credit=2, key="ka")
    w.join("a2", credit=2, key="ka")               # same key: the same seller
    w.join("b", credit=2, key="kb")
    grants, _ = w.flush()
    for wid, gs in grants.items():
        for g in gs:
            w.ok(wid, g, b"R")
    w.flush()
    got = w.core.waiting(job)
    assert got.reason is WaitReason.NEEDS_DISTINCT
    assert "needs 3 distinct workers (worker keys), 2 connected" in w.core.progress(job)["waiting"]
    w.join("c", credit=2, key="kc")
    grants, _ = w.flush()
    for wid, gs in grants.items():
        for g in gs:
            w.ok(wid, g, b"R")
    w.flush()
    assert w.core.progress(job)["done"] == 2 and w.core.waiting(job) is None


def _disagree(w, job_kw, keys):
    job = w.submit(1, **job_kw)
    for k in keys:
        w.join(k, credit=1, key=k)
    grants, _ = w.flush()
    for wid, (g,) in grants.items():
        assert w.ok(wid, g, wid.encode()) == "accepted"     # every copy differs
    _, fx = w.flush()
    return job, fx


def test_copies_that_disagree_wait_for_a_tie_breaker_then_end_disagreed():
    w = World(CFG)
    job, fx = _disagree(w, {"redundancy": 2, "quorum": 2}, ["k1", "k2"])
    (fid,) = w.store.frags
    assert w.state(fid) == "VOTING" and not fx.verdicts
    assert w.core.waiting(job).reason is WaitReason.TIE_BREAK
    w.core.tick(w.now)                              # starts the clock
    w.now += 29.0
    w.core.tick(w.now)
    w.flush()
    assert w.state(fid) == "VOTING"
    w.now += 2.0
    w.core.tick(w.now)
    _, fx = w.flush()
    row = w.store.frags[fid]
    assert row["state"] == "FAILED" and is_disagreed(row["reason"]), row
    assert "no worker is blamed" in row["reason"] and not fx.verdicts
    assert w.core.progress(job)["state"] == "done" and w.core.progress(job)["failed"] == 1


def test_a_new_key_in_time_breaks_the_tie():
    w = World(CFG)
    job, _ = _disagree(w, {"redundancy": 2, "quorum": 2}, ["k1", "k2"])
    (fid,) = w.store.frags
    w.core.tick(w.now)
    w.now += 20.0
    w.core.tick(w.now)
    w.join("k3", credit=1, key="k3")
    grants, _ = w.flush()
    ((wid, (g,)),) = grants.items()
    assert w.ok(wid, g, b"k1") == "accepted"        # agrees with k1
    _, fx = w.flush()
    assert w.state(fid) == "DONE" and len(fx.verdicts) == 1


def test_nondeterministic_copies_end_disagreed_as_soon_as_no_quorum_is_possible():
    # k=3, m=3, 1 extra copy: after 3 different results one more cannot make 3 agree
    w = World(HubConfig(**{**CFG.__dict__, "max_extra_copies": 1}))
    job, fx = _disagree(w, {"redundancy": 3, "quorum": 3}, ["k1", "k2", "k3"])
    (fid,) = w.store.frags
    row = w.store.frags[fid]
    assert row["state"] == "FAILED" and row["reason"].startswith(
        "copies disagree: no quorum: 3 results, 3 different answers, 3 must agree"), row
    assert not fx.verdicts                          # nobody is struck


@given(st.lists(st.integers(1, 5), min_size=1, max_size=6), st.integers(1, 8), st.integers(0, 12))
def test_out_of_reach_means_no_continuation_reaches_the_quorum(sizes, quorum, extra):
    budget = sum(sizes) + extra
    assert quorum_out_of_reach(sizes, quorum, budget) == (max(sizes) + extra < quorum)


def test_hopeless_ties_need_the_whole_wait_without_an_eligible_key():
    stuck = [(1, frozenset({"a", "b"})), (2, frozenset({"a"}))]
    since, out = hopeless_ties(stuck, frozenset({"a", "b"}), {}, 10.0, 5.0)
    assert since == {1: 10.0} and out == []          # 2 can go to b
    since, out = hopeless_ties(stuck, frozenset({"a", "b"}), since, 15.0, 5.0)
    assert out == [1] and since == {}
    since, out = hopeless_ties(stuck, frozenset({"a", "b", "c"}), {1: 0.0}, 15.0, 5.0)
    assert out == [] and since == {}                 # c came: the clock stops
    assert is_disagreed(disagreed_reason([1, 1], 2)) and not is_disagreed("no quorum")


def test_a_vote_that_outvotes_a_worker_keeps_the_job_open_until_the_hub_releases_it():
    """The spot check that catches a liar may decide a job's last fragment: the job must stay
    open so the liar's other results of it can still be reopened (issue 21)."""
    w = World(CFG)
    job = w.submit(1, redundancy=1)
    for k in ("liar", "h1", "h2"):
        w.join(k, credit=1, key=k)
    grants, _ = w.flush()
    ((wid, (g,)),) = grants.items()
    core = w.core
    assert core.result(w.now, wid, g[1], g[3], "aa" * 32, 1, spot_check=True) == "accepted"
    for _ in range(2):                    # two more copies that agree with each other
        for job_id, after, limit in core.refill_requests():
            core.add_pending(job_id, w.store.pending(job_id, after, limit), limit)
        grants = core.assign(w.now)
        w.store.apply(core.take_effects().journal, w.now)
        ((wid2, (g2,)),) = grants.items()
        core.result(w.now, wid2, g2[1], g2[3], "bb" * 32, 1)
    fx = core.take_effects()
    w.store.apply(fx.journal, w.now)
    assert w.state(g[1]) == "DONE" and fx.verdicts
    assert core.progress(job)["state"] == "running" and core.held_jobs() == [job]
    core.release_job(w.now, job)
    w.store.apply(core.take_effects().journal, w.now)
    assert core.progress(job)["state"] == "done" and core.held_jobs() == []
