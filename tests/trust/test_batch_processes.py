"""Batch signatures end to end: real `cpushare-worker` processes (echo.elf in the sandbox)
against a CURVE hub. Small results arrive in RESULT_BATCHes signed once each; they are
accepted, and each is provable evidence against the worker's key."""

from __future__ import annotations

from waiting import wait_for

from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.trust.keys import load_or_create_worker_identity

from .test_processes import alive_names, echo_program, hub, start_worker  # noqa: F401  (hub: a fixture)


def test_real_workers_send_batches_signed_once_and_they_are_accepted(procs, hub, tmp_path):  # noqa: F811
    pub = str(tmp_path / "hub.keys" / "hub.pub")
    # 2 slots each and a wider batch window: results that finish together share a batch
    for name in ("a", "b"):
        start_worker(procs, hub.worker_endpoint, tmp_path, name, "--hub-key", pub,
                     "--batch-delay-ms", "20", "--slots", "2")
    # an old-style worker in the same job: no batches, every result signed alone
    start_worker(procs, hub.worker_endpoint, tmp_path, "plain", "--hub-key", pub,
                 "--no-result-batch")
    wait_for(lambda: alive_names(hub) == {"a", "b", "plain"}, 30, "three workers")
    data = [b"frag-%04d:" % i + bytes(range(i % 40, 64)) for i in range(600)]
    job = hub.submit_job(JobSpec(program=echo_program(), fragments=data))
    wait_for(lambda: hub.job_progress(job)["state"] != "running", 90, "the job")
    finished = hub.finished(job, 0, 10_000)
    got = {f.index: b"".join(hub.result_chunks(f.fragment_id)) for f in finished if f.ok}
    assert got == dict(enumerate(data))
    assert hub.trust.verified_batches > 0
    keys = {n: load_or_create_worker_identity(tmp_path / f"cfg-{n}")[0].worker_key
            for n in ("a", "b", "plain")}
    batched = {n: 0 for n in keys}
    alone = {n: 0 for n in keys}
    by_key = {k: n for n, k in keys.items()}
    rows = hub.trust.ledger.db.execute(
        "SELECT fragment_id, attempt FROM signatures").fetchall()
    for fid, attempt in rows:
        ev = hub.trust.evidence(fid, attempt)
        assert ev["valid"] is True, ev
        name = by_key[ev["worker_key"]]
        if ev["batch_id"] is None:
            alone[name] += 1
        else:
            batched[name] += 1
    assert batched["plain"] == 0 and alone["plain"] > 0
    assert batched["a"] + batched["b"] > alone["a"] + alone["b"]    # most results batched
    (n_batches,) = hub.trust.ledger.db.execute("SELECT count(*) FROM batches").fetchone()
    assert 0 < n_batches <= hub.trust.verified_batches
    assert n_batches < batched["a"] + batched["b"]
    assert hub.trust.rejected == 0
    for name in keys:
        assert hub.trust.reputation(keys[name])["strikes"] == 0
