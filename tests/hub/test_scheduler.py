"""Policy of the pure scheduler, one rule at a time (fake clock, in-memory store)."""

from __future__ import annotations

import hashlib

import pytest
from memstore import MemStore

from cpushare_mq.errors import IllegalTransition, SchedulingError, UnknownJob
from cpushare_mq.hub.scheduler import (
    TRANSITIONS,
    FragState,
    HubConfig,
    JobSpec,
    Scheduler,
    apply_transition,
)
from cpushare_mq.hub.scheduler.records import _Frag, _Job
from cpushare_mq.outcome import Outcome, OutcomeRecord

CFG = HubConfig(heartbeat_interval_s=1.0, liveness=3, lease_grace_s=5.0, pause_grace_s=5.0,
                window_fragments=8)


class World:
    def __init__(self, cfg=CFG):
        self.cfg = cfg
        self.now = 100.0
        self.store = MemStore()
        self.core = Scheduler(cfg)

    def submit(self, n, **kw):
        kw.setdefault("wall_s", 2.0)
        row = self.store.add_job(JobSpec(program=b"p", fragments=[b"%d" % i for i in range(n)], **kw),
                                 self.now)
        self.core.add_job(row)
        self.flush()
        return row["id"]

    def flush(self):
        for job_id in self.core.held_jobs():    # as the hub does (no re-verification here)
            self.core.release_job(self.now, job_id)
        for job_id, after, limit in self.core.refill_requests():
            self.core.add_pending(job_id, self.store.pending(job_id, after, limit), limit)
        grants = self.core.assign(self.now)
        fx = self.core.take_effects()
        self.store.apply(fx.journal, self.now)
        return grants, fx

    def join(self, wid, credit=0, key="", slots=1):
        self.core.join(self.now, wid, key=key, slots=slots)
        if credit:
            self.core.ready(self.now, wid, credit)

    def ok(self, wid, ref, data=b"R"):
        return self.core.result(self.now, wid, ref[1], ref[3], hashlib.sha256(data).hexdigest(),
                                len(data))

    def state(self, fid):
        return self.store.frags[fid]["state"]


def test_transition_table_is_the_only_way():
    job = _Job({"id": "j", "program_sha256": "", "shared_sha256": "", "redundancy": 1,
                "quorum": 1, "cpu_s": 1, "wall_s": 1, "max_attempts": 1,
                "max_output_bytes": 1, "priority": 0, "total": 1}, None)
    f = _Frag(1, job, 0)
    for new in FragState:
        if (FragState.PENDING, new) not in TRANSITIONS:
            with pytest.raises(IllegalTransition, match="PENDING -> "):
                apply_transition(f, new)
    assert apply_transition(f, FragState.LEASED) is FragState.PENDING
    # FAILED is final; DONE only goes back to VOTING (re-verification, Scheduler.reopen)
    assert {(old, new) for old, new in TRANSITIONS if old.terminal} == {
        (FragState.DONE, FragState.VOTING)}


def test_priority_first_then_fair_share():
    w = World()
    low = w.submit(20, priority=0)
    hi = w.submit(4, priority=5)
    other = w.submit(20, priority=0)
    w.join("w1", credit=12, slots=12)
    grants, _ = w.flush()
    jobs = [g[0].id for g in grants["w1"]]
    assert jobs[:4] == [hi] * 4                   # the high-priority job first
    rest = jobs[4:]
    assert abs(rest.count(low) - rest.count(other)) <= 1   # then equal shares


def test_dead_worker_leases_requeued_at_once_and_counted():
    w = World()
    job = w.submit(2, max_attempts=2)
    w.join("w1", credit=2, slots=2)
    grants, _ = w.flush()
    w.now += CFG.dead_after_s + 0.01
    w.core.tick(w.now)
    _, fx = w.flush()
    assert fx.dead == ["w1"]
    assert w.core.progress(job)["leased"] == 0 and w.core.progress(job)["pending"] == 2
    assert all(f["failures"] == 1 for f in w.store.frags.values())
    # results from the dead session are stale
    assert w.ok("w1", grants["w1"][0]) == "stale"


def test_one_key_that_keeps_losing_a_fragment_costs_it_one_attempt():
    """Issue 14, item 4: leases held until they expire or lost by a vanishing worker counted
    against the fragment each time, so one key could fail any fragment alone. Now each key
    counts once; distinct keys still exhaust the attempts of a fragment that loses them all."""
    w = World()
    job = w.submit(1, max_attempts=2)
    for cycle in range(5):               # the same key, five sessions: expiry, then vanishing
        w.join(f"s{cycle}", credit=1, key="vanisher")
        grants, _ = w.flush()
        assert grants, f"cycle {cycle}: the fragment was not leased again"
        if cycle % 2:
            w.core.lost(w.now, f"s{cycle}", "connection closed")
        else:
            w.now += grants[f"s{cycle}"][0][4] + 1      # past the lease's deadline
            w.core.tick(w.now)
            w.core.leave(w.now, f"s{cycle}", "bye")
        w.flush()
    (frag,) = w.store.frags.values()
    assert (frag["state"], frag["failures"]) == ("PENDING", 1)
    w.join("other", credit=1, key="other")      # a second key losing it exhausts the two
    w.flush()
    w.core.lost(w.now, "other", "connection closed")
    w.flush()
    assert w.core.progress(job)["failed"] == 1


def test_release_and_bye_are_not_failed_attempts():
    w = World()
    job = w.submit(2, max_attempts=1)
    w.join("w1", credit=2, slots=2)
    grants, _ = w.flush()
    refs = [(g[1], g[3]) for g in grants["w1"]]
    w.core.release(w.now, "w1", refs[:1], "shutdown")
    w.core.leave(w.now, "w1", "bye")
    w.flush()
    assert w.core.progress(job)["pending"] == 2
    assert all(f["failures"] == 0 for f in w.store.frags.values())


def test_released_surplus_goes_to_the_idle_worker_not_back_on_old_credit():
    """A worker hands back prefetched leases with RELEASE (feature release_resets_credit):
    its unused credit goes too, so the work goes to the other worker, not back to it."""
    w = World()
    job = w.submit(8)
    w.join("hoarder", credit=20)
    grants, _ = w.flush()
    refs = [(g[1], g[3]) for g in grants["hoarder"]]
    assert len(refs) == 8
    w.join("idle", credit=0)
    w.core.release(w.now, "hoarder", refs[2:], "prefetch surplus", reset_credit=True)
    assert w.core.workers["hoarder"].credit == 0
    w.core.ready(w.now, "idle", 4)
    grants, _ = w.flush()
    assert set(grants) == {"idle"} and len(grants["idle"]) == 4
    assert w.core.progress(job)["pending"] == 2
    # without reset_credit (an older worker) the credit it has left stays
    w.core.ready(w.now, "hoarder", 3)
    w.core.release(w.now, "hoarder", refs[:1], "setup failed")
    assert w.core.workers["hoarder"].credit == 3


def test_lease_expiry_cancels_on_the_worker_and_requeues():
    w = World()
    job = w.submit(1)
    w.join("w1", credit=1)
    grants, _ = w.flush()
    (_j, fid, _i, attempt, lease_s) = grants["w1"][0]
    assert lease_s == 2.0 * CFG.lease_wall_factor + CFG.lease_grace_s
    w.now += lease_s + 0.1
    w.core.touch(w.now, "w1")
    w.core.tick(w.now)
    _, fx = w.flush()
    assert fx.cancels == {"w1": [(fid, attempt)]}
    assert w.state(fid) == "PENDING"
    assert w.ok("w1", grants["w1"][0]) == "stale"
    assert w.core.progress(job)["pending"] == 1


def test_paused_worker_gets_nothing_and_loses_leases_after_the_grace():
    w = World()
    w.submit(3)
    w.join("w1", credit=1)
    grants, _ = w.flush()
    w.core.set_status(w.now, "w1", True, 1)
    w.core.ready(w.now, "w1", 5)
    assert w.flush()[0] == {}
    w.now += CFG.pause_grace_s + 0.1
    w.core.touch(w.now, "w1")
    w.core.tick(w.now)
    _, fx = w.flush()
    assert list(fx.cancels) == ["w1"]
    w.core.set_status(w.now, "w1", False, 0)
    grants, _ = w.flush()
    assert len(grants["w1"]) == 3


@pytest.mark.parametrize("outcome", [Outcome.FRAGMENT_ERROR, Outcome.BAD_PROGRAM])
def test_deterministic_failures_fail_at_once(outcome):
    w = World()
    job = w.submit(1, max_attempts=5)
    w.join("w1", credit=1)
    (g,), = w.flush()[0].values()
    assert w.core.failure(w.now, "w1", g[1], g[3], OutcomeRecord(outcome, message="no")) == "failed"
    w.flush()
    p = w.core.progress(job)
    assert (p["failed"], p["state"]) == (1, "done")
    assert w.store.frags[g[1]]["reason"].startswith(outcome.value)


def test_a_final_failure_needs_the_jobs_quorum_and_a_contradicted_one_is_a_disagreeing_vote():
    """Issue 14: at redundancy 3 / quorum 2 one fragment_error does not fail the fragment
    (and costs it no attempt); the liar gets no copy again, and when two results agree its
    report is handed to the trust layer as a disagreeing vote (a strike)."""
    w = World()
    job = w.submit(1, redundancy=3, quorum=2, max_attempts=1)
    for i in range(4):
        w.join(f"w{i}", credit=1, key=f"k{i}")
    grants, _ = w.flush()
    refs = {wid: g for wid, (g,) in grants.items()}
    liar = sorted(refs)[0]
    assert w.core.failure(w.now, liar, refs[liar][1], refs[liar][3],
                          OutcomeRecord(Outcome.FRAGMENT_ERROR, message="lie")) == "failed"
    grants, _ = w.flush()
    assert w.core.progress(job)["failed"] == 0
    assert liar not in grants                      # another key gets the new copy
    for wid, (g,) in grants.items():
        refs[wid] = g
    honest = [wid for wid in refs if wid != liar]
    fx = None
    for wid in honest[:2]:
        assert w.ok(wid, refs[wid]) in ("accepted", "stale")
        _, fx = w.flush()
        if fx.verdicts:
            break
    assert w.core.progress(job)["done"] == 1
    (_fid, _job, _sha, votes), = fx.verdicts
    assert (f"k{liar[1]}", "failure:fragment_error") in votes


def test_final_failures_from_the_quorum_of_keys_fail_the_fragment():
    w = World()
    job = w.submit(1, redundancy=3, quorum=2)
    for i in range(3):
        w.join(f"w{i}", credit=1, key=f"k{i}")
    grants, _ = w.flush()
    for wid, (g,) in sorted(grants.items())[:2]:
        w.core.failure(w.now, wid, g[1], g[3], OutcomeRecord(Outcome.FRAGMENT_ERROR, message="x"))
    w.flush()
    p = w.core.progress(job)
    assert (p["failed"], p["state"]) == (1, "done")


def test_crash_is_retried_elsewhere_and_three_killed_sandboxes_fail_it():
    w = World()
    w.submit(1, max_attempts=10)
    for i in range(4):
        w.join(f"w{i}", credit=1, key=f"k{i}")
    seen = []
    for _ in range(3):
        grants, _ = w.flush()
        ((wid, (g,)),) = grants.items()
        assert wid not in seen, "a crash was retried on a worker it already crashed"
        seen.append(wid)
        w.core.failure(w.now, wid, g[1], g[3], OutcomeRecord(Outcome.CRASH))
    w.flush()
    fid = g[1]
    assert w.state(fid) == "FAILED"
    assert "3 different workers" in w.store.frags[fid]["reason"]


def test_attempts_exhausted_keeps_the_last_reason():
    w = World()
    w.submit(1, max_attempts=2)
    w.join("a", credit=5, key="ka")
    w.join("b", credit=5, key="kb")
    for _ in range(2):
        grants, _ = w.flush()
        ((wid, (g,)),) = grants.items()
        w.core.failure(w.now, wid, g[1], g[3], OutcomeRecord(Outcome.TIMEOUT, message="slow"))
    w.flush()
    assert w.store.frags[g[1]]["reason"] == "attempts exhausted (2): timeout: slow"


def test_quorum_with_a_disagreeing_worker_adds_a_copy_and_records_it():
    w = World()
    w.submit(1, redundancy=2, quorum=2)
    for i in range(3):
        w.join(f"w{i}", credit=1, key=f"k{i}")
    grants, _ = w.flush()
    assert len(grants) == 2                       # two copies on distinct workers
    (wa, (ga,)), (wb, (gb,)) = sorted(grants.items())
    assert w.ok(wa, ga, b"right") == "accepted"
    assert w.ok(wb, gb, b"WRONG") == "accepted"     # a vote, not a result yet
    grants, _ = w.flush()
    assert w.state(ga[1]) == "VOTING"
    ((wc, (gc,)),) = grants.items()              # a third copy on the third worker
    assert wc == "w2"
    assert w.ok(wc, gc, b"right") == "accepted"
    w.flush()
    row = w.store.frags[ga[1]]
    assert row["state"] == "DONE" and row["sha256"] == hashlib.sha256(b"right").hexdigest()
    assert w.store.attempts[(gb[1], gb[3])]["end"] == "disagreed"


def test_no_quorum_within_the_extra_copies_fails():
    w = World(HubConfig(window_fragments=8, max_extra_copies=1))
    w.submit(1, redundancy=2, quorum=2)
    for i in range(3):
        w.join(f"w{i}", credit=1, key=f"k{i}")
    for _round in range(2):
        grants, _ = w.flush()
        for wid, (g,) in grants.items():
            w.ok(wid, g, wid.encode())            # everyone says something different
    w.flush()
    (row,) = w.store.frags.values()
    assert row["state"] == "FAILED" and row["reason"].startswith("copies disagree: no quorum: 3 results")


def test_cancel_stops_everything_and_unknown_job_is_named():
    w = World()
    job = w.submit(5)
    w.join("w1", credit=2, slots=2)
    grants, _ = w.flush()
    w.core.cancel_job(w.now, job)
    _, fx = w.flush()
    assert sorted(fx.cancels["w1"]) == sorted((g[1], g[3]) for g in grants["w1"])
    assert w.core.progress(job)["state"] == "cancelled"
    w.core.ready(w.now, "w1", 5)
    assert w.flush()[0] == {}
    assert w.ok("w1", grants["w1"][0]) == "stale"
    with pytest.raises(UnknownJob, match="j-nope"):
        w.core.cancel_job(w.now, "j-nope")


def test_memory_window_is_bounded():
    w = World(HubConfig(window_fragments=16))
    job = w.submit(10_000)
    assert len(w.core.frags) <= 16
    w.join("w1", credit=100, slots=100)
    for _ in range(10):                  # the shell refills the window every turn
        w.flush()
        assert len(w.core.frags) <= 16 + 100
    assert w.core.progress(job)["leased"] == 100


def test_worker_with_same_key_reattaches_its_leases_on_rejoin():
    w = World()
    w.submit(2)
    w.join("old", credit=2, key="K", slots=2)
    grants, _ = w.flush()
    refs = sorted((g[1], g[3]) for g in grants["old"])
    ok = w.core.join(w.now, "new", key="K", held=refs + [(999, 0)])
    assert sorted(ok) == refs
    assert w.ok("old", grants["old"][0]) == "stale"
    assert w.ok("new", grants["old"][0]) == "accepted"
    # a different key cannot steal leases
    ok = w.core.join(w.now, "thief", key="X", held=refs)
    assert ok == []


def test_bad_specs_and_duplicate_worker_ids():
    w = World()
    with pytest.raises(SchedulingError, match="redundancy"):
        w.submit(1, redundancy=0)
    with pytest.raises(SchedulingError, match="wall_s"):
        w.submit(1, wall_s=float("nan"))
    w.join("w1")
    with pytest.raises(SchedulingError, match="already in use"):
        w.join("w1")


def test_spot_check_asks_a_second_worker_and_reports_the_verdict():
    w = World()
    w.submit(1)
    w.join("a", credit=1, key="ka")
    w.join("b", credit=1, key="kb")
    grants, _ = w.flush()
    ((wid, (g,)),) = grants.items()
    assert w.core.is_first_solo_result(w.now, wid, g[1], g[3])
    assert w.core.result(w.now, wid, g[1], g[3], "a" * 64, 1, spot_check=True) == "accepted"
    grants, fx = w.flush()
    assert w.state(g[1]) == "VOTING" and fx.verdicts == []
    ((wid2, (g2,)),) = grants.items()
    assert wid2 != wid                                     # a second opinion elsewhere
    assert not w.core.is_first_solo_result(w.now, wid2, g2[1], g2[3])
    assert w.core.result(w.now, wid2, g2[1], g2[3], "a" * 64, 1) == "accepted"
    _, fx = w.flush()
    assert w.state(g[1]) == "DONE"
    assert fx.verdicts == [(g[1], g[0].id, "a" * 64, [("ka" if wid == "a" else "kb", "a" * 64),
                                                       ("kb" if wid == "a" else "ka", "a" * 64)])]


def test_a_verifier_is_a_worker_of_another_key_that_takes_work():
    """A worker that joined and never asked for work (no credit, no lease) would hold every
    spot-checked fragment in VOTING for good, waiting for it; it is no verifier. Once it
    asks for work, or while it runs leases, it is; a paused one is not."""
    w = World()
    w.submit(3)
    w.join("a", credit=1, key="ka")
    w.join("idle", key="kb")                  # joined, never READY
    w.flush()
    assert not w.core.has_verifier("a")
    w.core.ready(w.now, "idle", 1)
    assert w.core.has_verifier("a")
    w.flush()                                 # its credit becomes a lease
    assert w.core.workers["idle"].credit == 0 and w.core.workers["idle"].leases
    assert w.core.has_verifier("a")
    w.core.set_status(w.now, "idle", True, 1)
    assert not w.core.has_verifier("a")


def test_a_check_drawn_is_released_when_its_verifier_stops_taking_work():
    """A spot check drawn while another key asked for work; that worker then hands its
    leases back with its credit (it works for another hub now) and stays connected: within
    a second the single result is accepted, unverified, instead of waiting for it."""
    w = World()
    w.submit(1)
    w.join("a", credit=1, key="ka")
    (g,), = w.flush()[0].values()
    w.join("b", credit=1, key="kb")
    assert w.core.result(w.now, "a", g[1], g[3], "a" * 64, 1, spot_check=True) == "accepted"
    grants, _ = w.flush()
    (g2,) = grants["b"]
    w.core.release(w.now, "b", [(g2[1], g2[3])], "busy elsewhere", reset_credit=True)
    w.flush()
    assert w.state(g[1]) == "VOTING"
    w.now += 1.5
    w.core.tick(w.now)
    w.flush()
    assert w.state(g[1]) == "DONE"


def test_idle_slots_everywhere_are_filled_before_anyone_gets_prefetch():
    # Two one-slot workers asking for prefetch, a job of two long fragments: one each, not
    # both on the first worker (which would take twice as long).
    w = World()
    w.join("w0", credit=4, slots=1)
    w.join("w1", credit=4, slots=1)
    w.submit(2)                                   # submit() runs one scheduling round
    assert len(w.core.workers["w0"].leases) == len(w.core.workers["w1"].leases) == 1


# -- re-verification (Scheduler.reopen) -----------------------------------------------------

def _reopen_world():
    """Job of 2 fragments (k = 1): fragment 0 accepted from key "ka" (result b"BAD"),
    fragment 1 still pending, so the job runs. Returns (world, job, fid, attempt, seq)."""
    from cpushare_mq.hub.scheduler import Reopen
    w = World()
    job = w.submit(2)
    w.join("a", credit=1, key="ka")
    grants, _ = w.flush()
    (g,) = grants["a"]
    assert w.ok("a", g, b"BAD") == "accepted"
    w.flush()
    fid, attempt = g[1], g[3]
    assert w.state(fid) == "DONE"
    seq = w.store.frags[fid]["seq"]
    (row,) = w.store.reopen_rows([fid])
    assert row[-1] == "ka" and row[5] == seq and row[6] == attempt
    assert w.core.reopen(w.now, Reopen(*row[:8], row[8], row[9]))
    assert not w.core.reopen(w.now, Reopen(*row[:8], row[8], row[9]))   # once
    _, fx = w.flush()
    assert w.state(fid) == "VOTING" and w.store.frags[fid]["seq"] == seq
    p = w.core.progress(job)
    assert p["done"] == 0 and p["voting"] == 1 and p["state"] == "running"
    return w, job, fid, attempt, seq


def test_reopen_confirmed_keeps_the_result_and_the_seq():
    w, job, fid, attempt, seq = _reopen_world()
    w.join("a2", credit=4, key="ka")              # the caught key again: gets no copy of it
    grants, _ = w.flush()
    assert all(g[1] != fid for g in grants.get("a2", []))
    w.join("b", credit=1, key="kb")
    grants, _ = w.flush()
    (g,) = [g for g in grants["b"] if g[1] == fid]
    assert w.ok("b", g, b"BAD") == "accepted"     # agrees with the accepted result
    _, fx = w.flush()
    row = w.store.frags[fid]
    assert (row["state"], row["seq"], row["result_attempt"]) == ("DONE", seq, attempt)
    assert (fid, g[3]) in fx.journal.drop_results           # the copy's chunks are not kept
    assert fx.verdicts == [(fid, job, row["sha256"], [("ka", row["sha256"]), ("kb", row["sha256"])])]
    assert w.core.progress(job)["done"] == 1


def test_reopen_disagreement_is_decided_by_a_further_copy_and_gets_a_new_seq():
    w, job, fid, attempt, seq = _reopen_world()
    good = hashlib.sha256(b"GOOD").hexdigest()
    for wid, key in (("b", "kb"), ("c", "kc")):
        w.join(wid, credit=1, key=key)
        grants, _ = w.flush()
        (g,) = [g for g in grants[wid] if g[1] == fid]
        assert w.ok(wid, g, b"GOOD") == "accepted"
        _, fx = w.flush()
        if wid == "b":                            # one against one: not decided yet
            assert w.state(fid) == "VOTING" and w.core.progress(job)["state"] == "running"
    row = w.store.frags[fid]
    assert row["state"] == "DONE" and row["sha256"] == good and row["seq"] > seq
    assert row["result_attempt"] != attempt
    assert w.store.attempts[(fid, attempt)]["end"] == "disagreed"
    assert (fid, attempt) in fx.journal.drop_results
    (verdict,) = fx.verdicts
    assert verdict[2] == good and ("ka", w.store.attempts[(fid, attempt)]["sha256"]) in verdict[3]


def test_reopen_without_agreement_fails_the_fragment_with_a_new_seq():
    w, job, fid, attempt, seq = _reopen_world()
    for wid, key, data in (("b", "kb", b"X"), ("c", "kc", b"Y")):
        w.join(wid, credit=1, key=key)
        grants, _ = w.flush()
        (g,) = [g for g in grants[wid] if g[1] == fid]
        assert w.ok(wid, g, data) == "accepted"
        w.flush()
    row = w.store.frags[fid]
    assert row["state"] == "FAILED" and row["seq"] > seq and row["reason"].startswith("copies disagree: no quorum: ")
    assert row["result_attempt"] is None


def test_reopen_only_in_running_jobs_and_restart_keeps_it():
    from cpushare_mq.hub.scheduler import Reopen
    w, job, fid, attempt, seq = _reopen_world()
    core2 = Scheduler.restore(CFG, w.now, **w.store.snapshot())   # hub restarted
    f = core2.frags[fid]
    assert (f.state, f.seq, f.result_attempt, f.boost) == (FragState.VOTING, seq, attempt, 1)
    assert [k for lst in f.votes.values() for _a, k, _s in lst] == ["ka"]
    assert core2.progress(job)["voting"] == 1
    w.core = core2
    w.join("b", credit=1, key="kb")
    grants, _ = w.flush()
    (g,) = [g for g in grants["b"] if g[1] == fid]
    assert w.ok("b", g, b"BAD") == "accepted"
    w.flush()
    assert (w.store.frags[fid]["state"], w.store.frags[fid]["seq"]) == ("DONE", seq)
    assert w.store.reopen_rows([fid]) == []       # verified now: two agreeing votes
    # a job that is not running any more is not reopened
    w.core.cancel_job(w.now, job)
    w.flush()
    r = w.store.frags[fid]
    assert not w.core.reopen(w.now, Reopen(fid, job, 0, r["next_attempt"], r["failures"], seq,
                                           attempt, r["sha256"], r["size"], "ka"))
