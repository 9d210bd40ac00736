"""Signed FAILURE reports at the hub: a keyed worker's failure must be signed (evidence kept);
an unsigned or badly signed one is rejected like a bad result and the hub carries on; an
older worker that does not sign failures is refused at HELLO on a hub that requires
signatures, and still works on an insecure hub."""

from __future__ import annotations

import logging
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from waiting import wait_for

from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub
from cpushare_mq.native import find_binary
from cpushare_mq.outcome import Outcome
from cpushare_mq.trust.hubside import HubTrust
from cpushare_mq.trust.keys import load_or_create_worker_identity
from cpushare_mq.trust.signing import EMPTY_SHA256

from .hubs import FAST, start_hub
from .signedworker import SignedWorker


def leased_worker(made, hub, cfg, n_leases: int = 1, **kw) -> SignedWorker:
    kw.setdefault("hub_key", hub.public_key)
    w = SignedWorker(hub.worker_endpoint, cfg, slots=n_leases, **kw)
    made.append(w)
    w.hello()
    wait_for(lambda: (w.pump(0.02), len(w.leases) >= n_leases)[1], 10, "leases")
    return w


def acks_of(w: SignedWorker, ref) -> list[str]:
    return [a[2] for a in w.acks if (a[0], a[1]) == tuple(ref)]


def wait_ack(w: SignedWorker, ref) -> str:
    wait_for(lambda: (w.pump(0.02), acks_of(w, ref))[1], 10, f"the ACK of {ref}")
    return acks_of(w, ref)[0]


def test_signed_failure_is_accepted_and_kept_as_evidence(made, tmp_path):
    hub = start_hub(made, tmp_path, insecure=False)
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"x"]))
    w = leased_worker(made, hub, tmp_path / "w")
    (ref,) = list(w.leases)
    w.failure(ref, Outcome.FRAGMENT_ERROR)
    assert wait_ack(w, ref) == "failed"
    wait_for(lambda: hub.job_progress(job)["failed"] == 1, 10, "the fragment to fail")
    ev = hub.trust.evidence(*ref)
    assert ev is not None and ev["valid"] and ev["worker_key"] == w.key
    assert (ev["sha256"], ev["outcome"]) == (EMPTY_SHA256, "fragment_error")


@pytest.mark.parametrize("how", ["unsigned", "forged", "wrong-claim"])
def test_unsigned_or_badly_signed_failure_is_rejected_and_the_hub_carries_on(made, tmp_path,
                                                                            how, caplog):
    caplog.set_level(logging.WARNING, logger="cpushare_mq.hub.server")
    hub = start_hub(made, tmp_path, insecure=False)
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"x"]))
    w = leased_worker(made, hub, tmp_path / "w", forge=how == "forged")
    (ref,) = list(w.leases)
    # a final outcome: accepted, it would fail the fragment at once
    w.failure(ref, Outcome.FRAGMENT_ERROR, sign=how != "unsigned", forge=how == "wrong-claim")
    assert wait_ack(w, ref) == "rejected"
    assert "failure report (fragment_error) of fragment" in caplog.text
    p = hub.job_progress(job)
    assert p["failed"] == 0 and p["state"] == "running"      # retried, not failed
    c = hub.store.conn()
    end, detail = c.execute("SELECT end, detail FROM attempts WHERE fragment_id=? AND attempt=?",
                            ref).fetchone()
    assert end == "rejected" and "report rejected" in detail
    (failures,) = c.execute("SELECT failures FROM fragments WHERE id=?", (ref[0],)).fetchone()
    assert failures == 1                                      # counted like a rejected result
    # the hub carries on: the retry goes to an honest worker and completes
    honest = SignedWorker(hub.worker_endpoint, tmp_path / "honest", hub_key=hub.public_key)
    made.append(honest)
    honest.hello()

    def step():
        honest.pump(0.02)
        honest.work()
        return hub.job_progress(job)["done"] == 1
    wait_for(step, 20, "the retry to complete")


def test_old_worker_without_signed_failures_is_refused_with_a_clear_message(made, tmp_path):
    hub = start_hub(made, tmp_path, insecure=False)
    old = SignedWorker(hub.worker_endpoint, tmp_path / "old", hub_key=hub.public_key,
                       features=())
    made.append(old)
    old.hello()
    wait_for(lambda: (old.pump(0.02), old.errors)[1], 10, "the refusal")
    assert old.errors[0]["code"] == "forbidden"
    assert "signed FAILURE reports" in old.errors[0]["message"]
    assert "upgrade cpushare-worker" in old.errors[0]["message"]
    assert old.worker_id is None and not hub.status()["workers"]


def test_old_worker_still_works_on_an_insecure_hub(made, tmp_path):
    trust = HubTrust(tmp_path / "hub.db", insecure=True)
    hub = start_hub(made, tmp_path, insecure=True, trust=trust)
    job = hub.submit_job(JobSpec(program=b"p", fragments=[b"x"]))
    old = leased_worker(made, hub, tmp_path / "old", hub_key=None, features=(), sign=False)
    (ref,) = list(old.leases)
    old.failure(ref, Outcome.FRAGMENT_ERROR, sign=False)
    assert wait_ack(old, ref) == "failed"
    wait_for(lambda: hub.job_progress(job)["failed"] == 1, 10, "the fragment to fail")


def test_real_worker_signs_its_failures(tmp_path):
    """cpushare-worker on a CURVE hub: spin.elf answers 'X' for a 3-byte fragment; the
    signed FAILURE fails it at once and the signature is kept."""
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="", config=FAST,
              insecure=False).start()
    p = None
    try:
        with open(tmp_path / "w.log", "wb") as log_file:
            p = subprocess.Popen(
                [str(Path(sys.executable).parent / "cpushare-worker"), "--hub", hub.worker_endpoint,
                 "--hub-key", hub.public_key, "--slots", "1", "--cache-dir", str(tmp_path / "c"),
                 "--config-dir", str(tmp_path / "cfg")],
                stdout=log_file, stderr=subprocess.STDOUT)
        spin = Path(find_binary("examples/spin.elf")).read_bytes()
        job = hub.submit_job(JobSpec(program=spin, fragments=[b"abc", struct.pack("<Q", 1000)]))
        wait_for(lambda: hub.job_progress(job)["state"] != "running", 60, "the job")
        prog = hub.job_progress(job)
        assert (prog["done"], prog["failed"]) == (1, 1), prog
        assert "fragment_error" in prog["failures"][0]["reason"]
        key = load_or_create_worker_identity(tmp_path / "cfg")[0].worker_key
        fid = next(f.fragment_id for f in hub.finished(job, 0, 10) if not f.ok)
        ev = hub.trust.evidence(fid, 0)
        assert ev is not None and ev["valid"] and ev["worker_key"] == key
        assert ev["outcome"] == "fragment_error"
    finally:
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(10)
        hub.close()
    assert os.path.exists(tmp_path / "hub.db.trust")
