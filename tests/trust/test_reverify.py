"""Re-verification end to end: a cheating `cpushare-worker` (its sandbox lies: tests/trust/cheaters.py) among
honest ones on a k = 1 job with spot checks. Once it is caught, its accepted-but-unverified
results of the open job are re-run elsewhere; the buyer receives the corrected results again
(``corrected``) and the last result of every index is right."""

from __future__ import annotations

import logging
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from waiting import wait_for

from cpushare_mq.client import Client
from cpushare_mq.hub.server import Hub, HubConfig
from cpushare_mq.native import find_binary
from cpushare_mq.trust.hubside import HubTrust
from cpushare_mq.trust.keys import load_or_create_worker_identity
from trust.cheaters import cheater_env

FAST = HubConfig(heartbeat_interval_s=0.2, liveness=10)
BIN = Path(sys.executable).parent
ITERS = 20_000_000          # about 20 ms of spin per fragment


def _frame(kind: bytes, payload: bytes) -> bytes:
    return struct.pack("<I", len(payload)) + kind + payload


def spin_native(program: Path, iters: int) -> bytes:
    """The 8 result bytes spin.elf computes for ``iters`` (the same binary, run natively)."""
    inp = _frame(b"S", b"") + _frame(b"F", struct.pack("<Q", iters))
    out = subprocess.run([str(program)], input=inp, capture_output=True, timeout=30, check=True).stdout
    (n,) = struct.unpack_from("<I", out)
    assert out[4:5] == b"D" and n == 8, out
    return out[5:13]


def start_worker(procs, endpoint, tmp_path, name, *args, env=None) -> subprocess.Popen:
    with open(tmp_path / f"{name}.log", "wb") as out:
        p = subprocess.Popen(
            [str(BIN / "cpushare-worker"), "--hub", endpoint, "--slots", "1", "--name", name,
             "--cache-dir", str(tmp_path / f"cache-{name}"),
             "--config-dir", str(tmp_path / f"cfg-{name}"), "--grace-s", "2", *args],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    procs.append(p)
    return p


def alive_names(hub) -> set[str]:
    return {w["name"] for w in hub.status()["workers"] if w["alive"]}


@pytest.fixture
def hub(tmp_path):
    trust = HubTrust(tmp_path / "hub.db", insecure=False, seed=7)
    h = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api=str(tmp_path / "hub.sock"),
            config=FAST, insecure=False, trust=trust).start()
    try:
        yield h
    finally:
        h.close()


def test_caught_cheater_results_are_reverified_and_corrected(procs, hub, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="cpushare_mq.hub.server")
    spin = Path(find_binary("examples/spin.elf"))
    x = spin_native(spin, ITERS)
    n = 300
    data = [struct.pack("<Q", ITERS) + b"tile-%03d" % i for i in range(n)]
    want = {i: b"tile-%03d" % i + x for i in range(n)}
    pub = str(tmp_path / "hub.keys" / "hub.pub")
    # the cheater alone first: with no other worker to re-run them, its results are accepted
    # unverified (no spot check can be drawn)
    start_worker(procs, hub.worker_endpoint, tmp_path, "cheater", "--hub-key", pub,
                 env=cheater_env(tmp_path / "liar", delay_s=0.02))
    wait_for(lambda: "cheater" in alive_names(hub), 30, "the cheater")   # slow: 6 s alone
    with Client(hub.api_address, timeout_s=60) as client:
        job = client.submit(spin.read_bytes(), data, wall_s=30.0, name="reverify")
        wait_for(lambda: hub.job_progress(job.id)["done"] >= 10, 60, "10 results of the cheater")
        for i in range(2):
            start_worker(procs, hub.worker_endpoint, tmp_path, f"honest{i}", "--hub-key", pub)
        last: dict[int, bytes] = {}
        corrected = set()
        for item in job.items(timeout_s=90):
            assert item.ok, (item.index, item.reason)
            last[item.index] = item.read()
            if item.corrected:
                corrected.add(item.index)
        job.close()
    assert last == want                              # the last result of every index is right
    assert corrected, "no result was corrected"
    assert job.corrections >= len(corrected)
    # the hub re-verified the cheater's accepted results: logged, counted, in the database
    stats = hub.reverify_stats
    assert stats["reopened"] >= 10 and stats["corrected"] >= len(corrected), stats
    assert "re-verifying" in caplog.text and "corrected result accepted" in caplog.text
    cheat_key = load_or_create_worker_identity(tmp_path / "cfg-cheater")[0].worker_key
    c = hub.store.conn()
    ends = dict(c.execute("SELECT end, count(*) FROM attempts WHERE worker_key=? GROUP BY end",
                          (cheat_key,)).fetchall())
    assert ends.get("disagreed", 0) >= len(corrected), ends
    # no fragment's accepted result came from the cheater
    (from_cheater,) = c.execute(
        "SELECT count(*) FROM fragments f JOIN attempts a ON a.fragment_id=f.id "
        "AND a.attempt=f.result_attempt WHERE a.worker_key=?", (cheat_key,)).fetchone()
    assert from_cheater == 0
    assert hub.trust.reputation(cheat_key)["banned"]
    p = hub.job_progress(job.id)
    assert (p["state"], p["done"], p["voting"]) == ("done", n, 0)


def test_reverification_is_bounded_and_batched(tmp_path, monkeypatch):
    """In-process hub, in-test signed workers: the cheater's 15+ unverified results are
    reopened at most 2 per loop turn and 3 unresolved at once, and all end up right."""
    import cpushare_mq.hub.reverification as reverification
    from cpushare_mq.hub.scheduler import JobSpec
    from cpushare_mq.trust.reputation import TrustPolicy

    from .signedworker import SignedWorker
    monkeypatch.setattr(reverification, "REOPEN_BATCH", 2)
    monkeypatch.setattr(reverification, "MAX_REOPENED", 3)
    trust = HubTrust(tmp_path / "hub.db", policy=TrustPolicy(probation_share=1.0), seed=3)
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="",
              config=HubConfig(heartbeat_interval_s=0.1, liveness=20), insecure=False,
              trust=trust).start()
    seen_open: list[int] = []
    orig = reverification.Reverification.reopen_some

    def spy(self, now, core, store):
        orig(self, now, core, store)
        seen_open.append(self.open_count(core))
    monkeypatch.setattr(reverification.Reverification, "reopen_some", spy)
    ws: list[SignedWorker] = []
    try:
        cheater = SignedWorker(hub.worker_endpoint, tmp_path / "cheater", hub_key=hub.public_key,
                               cheat=True, slots=1)
        ws.append(cheater)
        cheater.hello()
        data = [b"frag-%02d" % i for i in range(40)]
        job = hub.submit_job(JobSpec(program=b"p", fragments=data))

        def cheat_step():
            cheater.pump(0.01)
            cheater.work()
            return hub.job_progress(job)["done"] >= 15
        wait_for(cheat_step, 30, "15 unverified results of the cheater")
        for i in range(2):
            w = SignedWorker(hub.worker_endpoint, tmp_path / f"honest{i}", hub_key=hub.public_key,
                             slots=1)
            ws.append(w)
            w.hello()

        def step():
            for w in ws:
                w.pump(0.005)
                w.work()
            return hub.job_progress(job)["state"] != "running"
        wait_for(step, 60, "the job")
        final: dict[int, tuple[int, bytes]] = {}
        for f in hub.finished(job, 0, 1000):
            assert f.ok
            final[f.index] = b"".join(hub.result_chunks(f.fragment_id))
        assert final == {i: d[::-1] for i, d in enumerate(data)}
        assert hub.reverify_stats["reopened"] >= 15 and hub.reverify_stats["corrected"] >= 15
        assert seen_open and max(seen_open) <= 3
        assert hub.trust.reputation(cheater.key)["banned"]
    finally:
        for w in ws:
            w.close()
        hub.close()
