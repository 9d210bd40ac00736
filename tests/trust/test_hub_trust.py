"""The trust layer inside the real hub (in-process Hub, in-test signed workers on loopback)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import time

import pytest
import zstandard

from cpushare_mq.cli import main as cpushare_main
from cpushare_mq.client import Client
from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub
from cpushare_mq.protocol import MsgType, encode
from cpushare_mq.trust.hubside import HubTrust
from cpushare_mq.trust.keys import generate_curve_keypair
from cpushare_mq.trust.reputation import TrustPolicy
from cpushare_mq.trust.workerside import WorkerTrust
from cpushare_mq.trust.zap import write_key_list

from .hubs import FAST, frags, start_hub
from .signedworker import SignedWorker, drive


def worker(made, hub, cfg, **kw) -> SignedWorker:
    kw.setdefault("hub_key", hub.public_key)
    w = SignedWorker(hub.worker_endpoint, cfg, **kw)
    made.append(w)
    w.hello()
    return w


def joined(w: SignedWorker, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and w.worker_id is None:
        w.pump(0.05)
    return w.worker_id is not None


def results(hub, job):
    return {f.index: b"".join(hub.result_chunks(f.fragment_id))
            for f in hub.finished(job, 0, 10_000) if f.ok}


def test_curve_hub_runs_a_job_with_signed_results(made, tmp_path):
    hub = start_hub(made, tmp_path, insecure=False)
    for path in ("hub.db", "hub.db.trust", "hub.keys", "hub.keys/hub.key"):   # owner-only
        assert os.stat(tmp_path / path).st_mode & 0o077 == 0, path
    assert hub.public_key == (tmp_path / "hub.keys" / "hub.pub").read_text().strip()
    ws = [worker(made, hub, tmp_path / f"w{i}") for i in range(2)]
    assert all(joined(w) for w in ws)
    data = frags(30)
    job = hub.submit_job(JobSpec(program=b"p", fragments=data))
    drive(hub, job, ws)
    assert results(hub, job) == {i: d[::-1] for i, d in enumerate(data)}
    f = hub.finished(job, 0, 1)[0]
    sig = hub.trust.ledger.signature(f.fragment_id, 0) or hub.trust.ledger.signature(f.fragment_id, 1)
    assert sig is not None and sig["worker_key"] in {w.key for w in ws}
    reps = {w["worker_id"]: w["trust"] for w in hub.status()["workers"]}
    assert len(reps) == 2
    assert all(r["tier"] in ("probation", "established") and r["strikes"] == 0 for r in reps.values())
    assert sum(r["verified"] for r in reps.values()) >= 2     # spot checks compared results


def test_worker_with_wrong_hub_key_cannot_connect(made, tmp_path):
    hub = start_hub(made, tmp_path, insecure=False)
    impostor_key = generate_curve_keypair().public.decode()
    w = worker(made, hub, tmp_path / "w", hub_key=impostor_key)
    assert not joined(w, 1.5)
    assert hub.status()["workers"] == []


def test_worker_not_on_allow_list_gets_no_work(made, tmp_path):
    good = WorkerTrust.load(tmp_path / "good", None)      # the seller's identity exists first
    allow = tmp_path / "sellers.txt"
    write_key_list(allow, [good.hello_key])
    hub = start_hub(made, tmp_path, insecure=False, allow_workers=str(allow))
    other = worker(made, hub, tmp_path / "other")
    assert not joined(other, 1.0)
    ok = worker(made, hub, tmp_path / "good")
    assert joined(ok)
    job = hub.submit_job(JobSpec(program=b"p", fragments=frags(10)))
    drive(hub, job, [ok, other])
    assert other.leases == {} and other.acks == [] and other.worker_id is None
    assert len(results(hub, job)) == 10


@pytest.mark.parametrize("how", ["unsigned", "forged"])
def test_unsigned_and_forged_results_are_rejected(made, tmp_path, how):
    hub = start_hub(made, tmp_path, insecure=False)
    bad = worker(made, hub, tmp_path / "u", sign=how != "unsigned", forge=how == "forged")
    assert joined(bad)
    job = hub.submit_job(JobSpec(program=b"p", fragments=frags(3), max_attempts=50))
    deadline = time.monotonic() + 5
    while not bad.acks and time.monotonic() < deadline:
        bad.pump(0.02)
        bad.work()
    assert bad.acks and all(a[2] == "rejected" for a in bad.acks)
    assert hub.job_progress(job)["done"] == 0
    bad.close()
    made.remove(bad)
    honest = worker(made, hub, tmp_path / "h")
    drive(hub, job, [honest])
    assert len(results(hub, job)) == 3


def test_k3_m2_cheater_is_outvoted_and_banned(made, tmp_path):
    hub = start_hub(made, tmp_path, insecure=False)
    honest = [worker(made, hub, tmp_path / f"h{i}") for i in range(3)]
    cheat = worker(made, hub, tmp_path / "cheat", cheat=True)
    assert all(joined(w) for w in [*honest, cheat])
    data = frags(40)
    job = hub.submit_job(JobSpec(program=b"p", fragments=data, redundancy=3, quorum=2))
    # the cheater answers at once and the honest workers every other round: its wrong copy is
    # in the vote before two honest copies decide it (answering last, it would mostly be
    # cancelled unseen, and how often that happens depends on the machine's load)
    deadline, rnd = time.monotonic() + 30, 0
    while hub.job_progress(job)["state"] == "running":
        assert time.monotonic() < deadline, hub.job_progress(job)
        cheat.pump(0.005)
        cheat.work()
        for w in honest:
            w.pump(0.005)
            if rnd % 2:
                w.work()
        rnd += 1
    assert results(hub, job) == {i: d[::-1] for i, d in enumerate(data)}      # all right
    rep = hub.trust.reputation(cheat.key)
    assert rep["banned"] and rep["strikes"] >= 3
    assert hub.trust.ledger.strikes(cheat.key)
    assert all(hub.trust.reputation(w.key)["strikes"] == 0 for w in honest)
    # its session is gone, and it cannot come back: ZAP refuses the key
    assert not any(w["alive"] and w["trust"].get("banned") for w in hub.status()["workers"])
    cheat.close()
    made.remove(cheat)
    again = worker(made, hub, tmp_path / "cheat")
    assert not joined(again, 1.5)


def test_k1_spot_checks_catch_a_cheater(made, tmp_path):
    trust = HubTrust(tmp_path / "hub.db", policy=TrustPolicy(probation_share=1.0, ban_strikes=1))
    hub = start_hub(made, tmp_path, insecure=False, trust=trust)
    honest = [worker(made, hub, tmp_path / f"h{i}") for i in range(3)]
    cheat = worker(made, hub, tmp_path / "cheat", cheat=True)
    assert all(joined(w) for w in [*honest, cheat])
    data = frags(30)
    job = hub.submit_job(JobSpec(program=b"p", fragments=data))
    drive(hub, job, [*honest, cheat])
    assert results(hub, job) == {i: d[::-1] for i, d in enumerate(data)}
    assert hub.trust.reputation(cheat.key)["banned"]


def test_bomb_flood_and_foreign_blob_are_refused_and_the_hub_carries_on(made, tmp_path):
    trust = HubTrust(tmp_path / "hub.db", insecure=True, heartbeat_rate_per_s=20, heartbeat_burst=50)
    hub = start_hub(made, tmp_path, insecure=True, trust=trust)
    other_job = hub.submit_job(JobSpec(program=b"secret program", fragments=[b"x"]))
    hub.cancel_job(other_job)
    w = worker(made, hub, tmp_path / "w", hub_key=None)
    assert joined(w)
    job = hub.submit_job(JobSpec(program=b"p", fragments=frags(4)))
    deadline = time.monotonic() + 5
    while not w.leases and time.monotonic() < deadline:
        w.pump(0.02)
    ref = next(iter(w.leases))
    bomb = zstandard.ZstdCompressor(level=19).compress(b"\0" * (64 << 20))
    body, _ = w.result_body(ref, b"\0" * (64 << 20))
    w.send(MsgType.RESULT_END, body, [bomb])
    w.send(MsgType.FETCH, {"sha256": hashlib.sha256(b"secret program").hexdigest()})
    for _ in range(2000):
        w.sock.send_multipart(encode(MsgType.HEARTBEAT, {}))
    # a bound, not a timing: the loop ends as soon as the hub has answered (checking the
    # 64 MiB bomb and the flood took over 5 s on 2 loaded cores)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
            ("rejected" in [a[2] for a in w.acks]) and {e["code"] for e in w.errors} >= {"forbidden", "rate_limited"}):
        w.pump(0.05)
    assert (ref[0], ref[1], "rejected") in w.acks
    codes = {e["code"] for e in w.errors}
    assert "forbidden" in codes and "rate_limited" in codes
    drive(hub, job, [w])                  # the hub carries on: the job completes
    assert len(results(hub, job)) == 4


def test_spot_check_whose_verifier_leaves_does_not_stall(made, tmp_path):
    """A check is drawn while b is there; then b, the only possible verifier, leaves: the
    result is accepted unverified instead of waiting for ever. Each step waits for the hub's
    state, never for a stretch of time (both workers answer heartbeats while pumped, so a
    loaded machine cannot make the hub declare them dead)."""
    trust = HubTrust(tmp_path / "hub.db", policy=TrustPolicy(probation_share=1.0))
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="", insecure=False, trust=trust,
              config=FAST).start()
    made.append(hub)
    a = worker(made, hub, tmp_path / "a", slots=1)
    b = worker(made, hub, tmp_path / "b", slots=1)
    assert joined(a) and joined(b)
    job = hub.submit_job(JobSpec(program=b"p", fragments=frags(1)))
    first = None                  # whichever worker the hub leases the fragment to runs it
    deadline = time.monotonic() + 30
    while hub.job_progress(job)["voting"] == 0:        # its result is in, a check is drawn
        assert time.monotonic() < deadline, hub.job_progress(job)
        a.pump(0.02)
        b.pump(0.0)
        if first is None:
            first = a if a.leases else b if b.leases else None
        if first is not None and first.leases:
            first.work()
    other = b if first is a else a
    other.close()                                       # the only other key leaves
    made.remove(other)
    deadline = time.monotonic() + 30
    while hub.job_progress(job)["state"] == "running":
        assert time.monotonic() < deadline, hub.job_progress(job)
        first.pump(0.02)
        first.work()
    assert results(hub, job) == {0: frags(1)[0][::-1]}
    assert hub.trust.reputation(first.key)["checked"] == 1   # a check was drawn, then released


def test_cpushare_status_shows_reputation(made, tmp_path):
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api=str(tmp_path / "b.sock"),
              config=FAST, insecure=False).start()
    made.append(hub)
    ws = [worker(made, hub, tmp_path / f"w{i}") for i in range(2)]
    assert all(joined(w) for w in ws)
    job = hub.submit_job(JobSpec(program=b"p", fragments=frags(12)))
    drive(hub, job, ws)
    with Client(hub.api_address) as c:
        st = c.status()
    tiers = {w["reputation"] for w in st["workers"]}
    assert tiers and tiers <= {"probation", "established", "trusted"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cpushare_main(["status", "--api", hub.api_address])
    assert rc == 0 and "REPUTATION" in out.getvalue()
    assert any(t in out.getvalue() for t in tiers)


def test_unchecked_results_of_open_jobs_survive_a_hub_restart(made, tmp_path):
    """The list of what a caught worker must have re-verified is rebuilt from the store when
    the hub restarts: results of open k=1 jobs accepted without a spot check, not those of
    finished jobs."""
    def policy():
        return HubTrust(tmp_path / "hub.db", policy=TrustPolicy(probation_share=0.0))

    hub = start_hub(made, tmp_path, insecure=False, trust=policy())
    w = SignedWorker(hub.worker_endpoint, tmp_path / "w", hub_key=hub.public_key, slots=3)
    made.append(w)
    w.hello()
    done = hub.submit_job(JobSpec(program=b"p", fragments=frags(2)))
    drive(hub, done, [w])                                  # finished: nothing to keep
    job = hub.submit_job(JobSpec(program=b"p", fragments=frags(10)))
    deadline = time.monotonic() + 10
    while len(w.leases) < 3:
        assert time.monotonic() < deadline, w.leases
        w.pump(0.05)
    answered = sorted(w.leases)
    for ref in answered:                                   # 3 results, and no more credit
        body, chunk = w.result_body(ref, w.fn(w.leases.pop(ref)))
        w.send(MsgType.RESULT_END, body, [chunk])
    while hub.job_progress(job)["done"] < 3:
        assert time.monotonic() < deadline, hub.job_progress(job)
        w.pump(0.05)
    assert hub.trust.reputation(w.key)["unverified_open"] == 3
    hub.close()
    made.remove(hub)

    hub = start_hub(made, tmp_path, insecure=False, trust=policy())
    assert hub.job_progress(job)["state"] == "running"
    assert hub.trust.reputation(w.key)["unverified_open"] == 3
    assert sorted(hub.store.unverified_results()) == sorted(
        (w.key, fid, job) for fid, _attempt in answered)
