"""The ledger follows the hub's store (market/following.py): what a killed hub owes is read
back from the store, the paid attempt of each fragment with the CPU time its worker claimed,
and nothing is owed twice."""

from __future__ import annotations

import os

from cpushare_mq.market.following import Payable, open_votes, payable_after
from cpushare_mq.market.ledger import DEFAULT_PRICE, read_receipts
from cpushare_mq.outcome import Outcome, OutcomeRecord

from .leasecount import leases, payout
from .paidworld import World, lease, vote, voting_world


def fail(w, pay, wid: str, outcome: Outcome, cpu_s: float) -> int:
    """``wid`` reports ``outcome`` for the next fragment, which fails (a final outcome), as
    the hub's result desk hands it to the payout; returns the fragment."""
    fid, attempt = lease(w.core, wid)
    record = OutcomeRecord(outcome, cpu_s=cpu_s)
    assert w.core.failure(100.0, wid, fid, attempt, record) == "failed"
    pay.on_failed(w.job, f"K-{wid}", fid, attempt, record, 60.0)
    return fid


def three_ends(tmp_path):
    """A result, a failure that is the program's (paid) and one that is not, each in a turn
    of its own; the world, the payout, the fragments and the acceptance number of each."""
    w, pay = voting_world(tmp_path, redundancy=1, n=3)
    fid, attempt = lease(w.core, "a")
    vote(w.core, pay, w.job, "a", fid, attempt, "ab" * 32, cpu_s=1.5)
    ends = [(fid, attempt)]
    w.turn(pay)
    seqs = [w.core.accepted_through()]
    for wid, outcome, cpu_s in (("b", Outcome.FRAGMENT_ERROR, 0.25), ("c", Outcome.BAD_PROGRAM, 0.0)):
        ends.append((fail(w, pay, wid, outcome, cpu_s), None))
        w.turn(pay)
        seqs.append(w.core.accepted_through())
    return w, pay, ends, seqs


def test_the_store_names_the_paid_attempt_of_each_finished_fragment(tmp_path):
    w, _pay, ends, seqs = three_ends(tmp_path)
    (ok, ok_attempt), (err, _), _ = ends
    owed = payable_after(w.store.conn(), w.job, 0)
    assert [(p.fragment_id, p.worker_key, p.cpu_us) for p in owed] == [
        (ok, "K-a", 1_500_000), (err, "K-b", 250_000)]      # BAD_PROGRAM: not the program's
    assert owed[0] == Payable(ok, ok_attempt, "K-a", 1_500_000)
    assert [p.fragment_id for p in payable_after(w.store.conn(), w.job, seqs[0])] == [err]
    assert payable_after(w.store.conn(), w.job, seqs[-1]) == []
    assert open_votes(w.store.conn(), [w.job]) == []         # nothing voting


def test_a_hub_killed_before_signing_pays_results_and_failures_once(tmp_path):
    w, pay, ends, _ = three_ends(tmp_path)
    assert pay.ledger.unsigned == 2 and read_receipts(w.db)[1] == []    # then kill -9
    again = payout(w.db, DEFAULT_PRICE)
    again.before_assign(w.core)
    again.outgoing(200.0, leases(0))
    got = {sr.receipt.fragment_id: sr.receipt.cpu_us for sr in read_receipts(w.db)[1]}
    assert got == {ends[0][0]: 1_500_000, ends[1][0]: 250_000}
    again.close()
    pay.close()                # the first hub's memory, signed late: its fragments are paid
    third = payout(w.db, DEFAULT_PRICE)        # (were the first hub alive), so left out
    third.ledger.db.execute("UPDATE meta SET value = '0' WHERE name = 'paid_through_seq'")
    third.ledger.paid_through_seq = 0          # a watermark behind what was paid:
    third.before_assign(w.core)
    assert third.ledger.unsigned == 0          # nothing paid is issued again
    third.close()
    assert sorted(sr.receipt.fragment_id for sr in read_receipts(w.db)[1]) == sorted(got)


def test_a_failure_whose_turn_was_not_committed_is_not_paid(tmp_path):
    """The hub could not commit the turn (a full disk): the failure it would have paid is
    not, and the scheduler is rebuilt from the store, where the fragment did not fail."""
    w, pay = voting_world(tmp_path, redundancy=1, n=1)
    fail(w, pay, "b", Outcome.FRAGMENT_ERROR, 0.5)
    w.core.take_effects()                  # the commit fails: nothing stored
    pay.turn_failed()
    pay.settle(w.core.take_effects(), w.core.accepted_through())
    pay.outgoing(200.0, leases(0))
    assert read_receipts(w.db)[1] == [] and pay.ledger.unsigned == 0


def test_a_ledger_kept_while_the_hubs_database_was_replaced_pays_the_new_one(tmp_path):
    """The buyer deletes hub.db and keeps hub.db.ledger: the new database would number its
    fragments and acceptances from 1 again, under fragment ids the ledger paid and a
    watermark past them; its results would go unpaid, and unsigned ones lost to a kill."""
    w, pay, ends, seqs = three_ends(tmp_path)
    pay.outgoing(200.0, leases(0))                       # signed: paid, watermark set
    paid = {sr.receipt.fragment_id for sr in read_receipts(w.db)[1]}
    assert pay.ledger.paid_through_seq == seqs[-1] > 0
    w.store.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(w.db + suffix):
            os.remove(w.db + suffix)
    again = payout(w.db, DEFAULT_PRICE)        # the hub started on a new hub.db, the kept
    assert again.ledger.paid_through_seq == seqs[-1]      # ledger; then a job submitted
    w2 = World(w.db, redundancy=1, n=2)
    again.on_job(w2.job, pay.ledger.terms_of(w.job), w2.core)
    assert min(f for (f,) in w2.store.conn().execute(
        "SELECT id FROM fragments WHERE job_id=?", (w2.job,))) == max(paid) + 1
    again.before_assign(w2.core)
    assert again.ledger.paid_through_seq == w2.core.accepted_through() == 0
    fid, attempt = lease(w2.core, "a")
    vote(w2.core, again, w2.job, "a", fid, attempt, "cd" * 32, cpu_s=0.5)
    w2.turn(again)                                       # accepted; killed before signing
    after_kill = payout(w2.db, DEFAULT_PRICE)
    after_kill.before_assign(w2.core)
    after_kill.outgoing(300.0, leases(0))
    got = {sr.receipt.fragment_id: sr.receipt.cpu_us for sr in read_receipts(w2.db)[1]}
    assert got[fid] == 500_000 and set(got) == paid | {fid}
