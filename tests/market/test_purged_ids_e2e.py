"""A purged job's fragment ids are never given again, from the command line with the
defaults (keys on): the ledger pays a fragment id once and a worker keeps one receipt per
fragment id, so a job numbered from a purged one's ids had its results go unpaid. Found by
``bench/e2e_throughput.py --interleaved``, which purges each job it timed."""

from __future__ import annotations

from waiting import wait_for

from .test_earnings_e2e import earnings, per_worker
from .test_ledger_e2e import cli, ledger_json, submit


def test_jobs_after_a_purged_one_are_paid_and_the_worker_keeps_every_receipt(ledger_procs):
    root = ledger_procs.root
    endpoint = ledger_procs.hub("hub")
    ledger_procs.worker("w1", endpoint)
    jobs = [submit(root, "a", 3)]
    for name in ("b", "c"):      # the last job purged holds the largest fragment ids
        wait_for(lambda: len(ledger_json(root)) == 3 * len(jobs), 60, "the receipts signed")
        r = cli(root, "purge", jobs[-1], "--api", "hub.db.sock")
        assert r.returncode == 0, r.stderr
        if name == "c":         # ... and a restarted hub goes on after them too
            ledger_procs.stop(ledger_procs.procs[0])
            ledger_procs.hub("hub2", endpoint)
        jobs.append(submit(root, name, 3))

    def reconciled() -> bool:
        got = ledger_json(root)
        return len(got) == 9 and per_worker(got) == per_worker(earnings(root, "id-w1"))

    wait_for(reconciled, 60, "9 receipts in the ledger and the worker's earnings")
    receipts = ledger_json(root)
    by_job = {j: sorted(r["fragment_id"] for r in receipts if r["job_id"] == j) for j in jobs}
    assert [len(f) for f in by_job.values()] == [3, 3, 3]
    assert by_job[jobs[0]][-1] < by_job[jobs[1]][0] and by_job[jobs[1]][-1] < by_job[jobs[2]][0]
