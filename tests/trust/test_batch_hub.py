"""Batch signatures inside the real hub (in-process Hub): feature negotiation both ways, a
batch signed once is accepted and each of its results stays provable, a forged or altered
batch is rejected as a whole (and the hub carries on), old workers and an old hub still
work with the cpushare-worker agent."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from waiting import wait_for

from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.protocol import Feature, MsgType
from cpushare_mq.trust.signing import ResultSigner
from cpushare_mq.trust.workerside import WorkerTrust
from cpushare_mq.worker.agent import AgentConfig, WorkerAgent

from .hubs import frags, start_hub
from .signedworker import SignedWorker, drive

BATCHING = ("signed_failures", "result_batch", "batch_signature")


def worker(made, hub, cfg, **kw) -> SignedWorker:
    w = SignedWorker(hub.worker_endpoint, cfg, hub_key=hub.public_key, **kw)
    made.append(w)
    w.hello()
    return w


def welcome_features(w: SignedWorker) -> list[str]:
    wait_for(lambda: (w.pump(0.05), w.welcome_features)[1] is not None, 10, "a WELCOME")
    return w.welcome_features


def leases(w: SignedWorker, n: int) -> None:
    w.send(MsgType.READY, {"credit": n})
    wait_for(lambda: (w.pump(0.02), len(w.leases) >= n)[1], 10, f"{n} leases")


def results(hub, job):
    return {f.index: b"".join(hub.result_chunks(f.fragment_id))
            for f in hub.finished(job, 0, 10_000) if f.ok}


def test_the_hub_confirms_batch_signature_only_to_workers_that_announce_it(made, tmp_path):
    hub = start_hub(made, tmp_path, insecure=False)
    new = worker(made, hub, tmp_path / "new", features=BATCHING)
    assert welcome_features(new) == sorted(BATCHING)
    old = worker(made, hub, tmp_path / "old", features=("signed_failures", "result_batch"))
    assert welcome_features(old) == ["result_batch", "signed_failures"]


def test_a_batch_signed_once_is_accepted_and_every_result_is_provable(made, tmp_path):
    hub = start_hub(made, tmp_path, insecure=False)
    w = worker(made, hub, tmp_path / "w", features=BATCHING, slots=8)
    data = frags(40)
    job = hub.submit_job(JobSpec(program=b"p", fragments=data))
    deadline = time.monotonic() + 30
    while hub.job_progress(job)["state"] == "running":
        assert time.monotonic() < deadline, hub.job_progress(job)
        w.pump(0.01)
        w.work_batch("signed")
    assert results(hub, job) == {i: d[::-1] for i, d in enumerate(data)}
    assert w.acks and {a[2] for a in w.acks} == {"accepted"}
    assert hub.trust.verified_batches >= 5          # 40 results in batches of at most 8
    batch_ids = set()
    for f in hub.finished(job, 0, 100):
        ev = hub.trust.evidence(f.fragment_id, 0)
        assert ev["valid"] is True and ev["worker_key"] == w.key and ev["batch_id"] is not None
        batch_ids.add(ev["batch_id"])
    (stored,) = hub.trust.ledger.db.execute("SELECT count(*) FROM batches").fetchone()
    assert stored == len(batch_ids) == hub.trust.verified_batches


@pytest.mark.parametrize("how", ["altered", "reordered", "foreign"])
def test_a_forged_batch_is_rejected_as_a_whole_and_the_hub_carries_on(made, tmp_path, how,
                                                                      caplog):
    hub = start_hub(made, tmp_path, insecure=False)
    bad = worker(made, hub, tmp_path / "bad", features=BATCHING, slots=4)
    job = hub.submit_job(JobSpec(program=b"p", fragments=frags(4), max_attempts=50))
    leases(bad, 4)
    refs = sorted(bad.leases)
    with caplog.at_level(logging.WARNING, logger="cpushare_mq.hub.server"):
        bad.work_batch(how)
        wait_for(lambda: (bad.pump(0.02), len(bad.acks) >= 4)[1], 10, "4 ACKs")
    assert sorted((a[0], a[1]) for a in bad.acks) == refs
    assert {a[2] for a in bad.acks} == {"rejected"}
    assert "RESULT_BATCH of 4 results" in caplog.text and "bad batch signature" in caplog.text
    assert hub.job_progress(job)["done"] == 0
    assert hub.trust.ledger.db.execute("SELECT count(*) FROM batches").fetchone() == (0,)
    bad.close()
    made.remove(bad)
    honest = worker(made, hub, tmp_path / "honest", features=BATCHING, slots=4)
    deadline = time.monotonic() + 30
    while hub.job_progress(job)["state"] == "running":
        assert time.monotonic() < deadline, hub.job_progress(job)
        honest.pump(0.01)
        honest.work_batch("signed")
    assert len(results(hub, job)) == 4


def test_an_old_worker_batching_per_item_signatures_still_works(made, tmp_path):
    hub = start_hub(made, tmp_path, insecure=False)
    old = worker(made, hub, tmp_path / "old", features=("signed_failures", "result_batch"),
                 slots=5)
    job = hub.submit_job(JobSpec(program=b"p", fragments=frags(20)))
    deadline = time.monotonic() + 30
    while hub.job_progress(job)["state"] == "running":
        assert time.monotonic() < deadline, hub.job_progress(job)
        old.pump(0.01)
        old.work_batch("items")
    assert len(results(hub, job)) == 20 and hub.trust.verified_batches == 0
    f = hub.finished(job, 0, 1)[0]
    ev = hub.trust.evidence(f.fragment_id, 0)
    assert ev["valid"] is True and ev["batch_id"] is None


def test_an_old_worker_sending_result_ends_still_works(made, tmp_path):
    hub = start_hub(made, tmp_path, insecure=False)
    old = worker(made, hub, tmp_path / "old")
    job = hub.submit_job(JobSpec(program=b"p", fragments=frags(10)))
    drive(hub, job, [old])
    assert len(results(hub, job)) == 10 and hub.trust.verified_batches == 0


# -- the real worker agent (in a thread, fake sandbox) against the real hub -------------

class EchoBox:
    """A sandbox stand-in: reverses each fragment, at once."""

    def __init__(self, *_a, **_kw):
        self.pid = None

    def run(self, fragment, on_chunk=None, **_kw):
        from cpushare_mq.outcome import Outcome, OutcomeRecord
        if fragment:
            on_chunk(fragment[::-1])
        return OutcomeRecord(Outcome.OK, output_bytes=len(fragment))

    def pause(self):
        pass

    def resume(self):
        pass

    def close(self):
        pass


class AgentThread:
    def __init__(self, hub, tmp_path, **cfg):
        trust = WorkerTrust.load(tmp_path / "agent-cfg", hub.public_key)
        self.key = trust.hello_key
        self.agent = WorkerAgent(AgentConfig(hub=hub.worker_endpoint, slots=2, nice=None,
                                             cache_dir=str(tmp_path / "agent-cache"),
                                             batch_delay_s=0.02, **cfg),
                                 sandbox_factory=EchoBox, trust=trust)
        self.thread = threading.Thread(target=self.agent.run, daemon=True)
        self.thread.start()

    def close(self):
        for _ in range(2):
            self.agent.request_shutdown()
            self.thread.join(10)
            if not self.thread.is_alive():
                return


def run_agent_job(made, hub, tmp_path, n=300):
    a = AgentThread(hub, tmp_path)
    made.append(a)
    data = frags(n)
    job = hub.submit_job(JobSpec(program=b"p", fragments=data))
    wait_for(lambda: hub.job_progress(job)["state"] != "running", 60, "the job")
    assert results(hub, job) == {i: d[::-1] for i, d in enumerate(data)}
    return a, job


def count_signatures(monkeypatch) -> dict:
    """Count the worker's Ed25519 signatures (alone / per batch)."""
    n = {"alone": 0, "batch": 0}
    sign, sign_batch = ResultSigner.sign, ResultSigner.sign_batch

    def counted(kind, fn):
        def wrapper(self, *a, **kw):
            n[kind] += 1
            return fn(self, *a, **kw)
        return wrapper
    monkeypatch.setattr(ResultSigner, "sign", counted("alone", sign))
    monkeypatch.setattr(ResultSigner, "sign_batch", counted("batch", sign_batch))
    return n


def test_the_worker_agent_signs_batches_once_on_a_new_hub(made, tmp_path, monkeypatch):
    signed = count_signatures(monkeypatch)
    hub = start_hub(made, tmp_path, insecure=False)
    a, job = run_agent_job(made, hub, tmp_path)
    assert a.agent.hub_batch_signature and a.agent.batches_sent > 0
    assert hub.trust.verified_batches > 0
    # one signature per batch, results sent alone signed alone: far fewer than results
    assert signed["batch"] == a.agent.batches_sent
    assert signed["alone"] + signed["batch"] < 300
    batched = [hub.trust.evidence(f.fragment_id, 0) for f in hub.finished(job, 0, 1000)]
    assert all(ev["valid"] and ev["worker_key"] == a.key for ev in batched)
    assert any(ev["batch_id"] is not None for ev in batched)


def test_the_worker_agent_signs_items_one_by_one_on_an_old_hub(made, tmp_path, monkeypatch):
    # an old hub: it knows result_batch but not batch_signature, so it never confirms it
    monkeypatch.setattr(Feature, "ALL", Feature.ALL - {Feature.BATCH_SIGNATURE})
    signed = count_signatures(monkeypatch)
    hub = start_hub(made, tmp_path, insecure=False)
    a, job = run_agent_job(made, hub, tmp_path)
    assert signed == {"alone": 300, "batch": 0}
    assert a.agent.hub_batches and not a.agent.hub_batch_signature
    assert a.agent.batches_sent > 0 and hub.trust.verified_batches == 0
    assert hub.trust.ledger.db.execute("SELECT count(*) FROM batches").fetchone() == (0,)
    evs = [hub.trust.evidence(f.fragment_id, 0) for f in hub.finished(job, 0, 1000)]
    assert all(ev["valid"] and ev["batch_id"] is None for ev in evs)
