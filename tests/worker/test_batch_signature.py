"""The worker agent with a key: one signature per RESULT_BATCH when the hub confirms the
feature ``batch_signature``, every result signed alone otherwise (an older hub), and results
replayed after a reconnect are signed again for the new hub."""

from __future__ import annotations

import pytest

from cpushare_mq.protocol import MsgType
from cpushare_mq.trust.keys import parse_worker_key
from cpushare_mq.trust.signing import verify_batch, verify_result
from cpushare_mq.trust.workerside import WorkerTrust
from cpushare_mq.worker.agent import AgentConfig, WorkerAgent

from .fakes import FakeHub, Running, fake_factory

SIGNING_FEATURES = ["release_resets_credit", "infra_release", "result_batch", "signed_failures", "batch_signature",
                    "receipts", "receipt_batches", "receipt_columns"]


def new_hub(cleanup, *a, **kw) -> FakeHub:
    hub = FakeHub(*a, **kw)
    hub.start()
    cleanup.append(hub)
    return hub


def start(cleanup, hub, tmp_path, **kw) -> tuple[Running, bytes]:
    trust = WorkerTrust.load(tmp_path / "cfg", None)
    cfg = AgentConfig(hub=hub.endpoint, cache_dir=str(tmp_path / "cache"), nice=None,
                      **{"slots": 2, "status_interval_s": 1.0, "batch_delay_s": 0.02, **kw})
    r = Running(WorkerAgent(cfg, sandbox_factory=fake_factory, trust=trust))
    cleanup.append(r)
    return r, parse_worker_key(trust.hello_key).sign_public


def claim(item) -> tuple:
    return (item["fragment_id"], item["attempt"], item["sha256"], item["outcome"].outcome)


def check_signed_alone(pub, items) -> None:
    for it in items:
        verify_result(pub, it["signature"], *claim(it))


def test_one_signature_per_batch_when_the_hub_confirms_it(cleanup, tmp_path):
    frags = [b"x%d" % i for i in range(300)] + [b"big:100000"]
    hub = new_hub(cleanup, frags, shared=b"S/",
                  features=("result_batch", "signed_failures", "batch_signature"))
    w, pub = start(cleanup, hub, tmp_path)
    assert hub.wait(lambda: len(hub.results) == len(frags))
    assert hub.hellos[0]["features"] == SIGNING_FEATURES
    assert w.agent.hub_batch_signature
    batches = hub.messages(MsgType.RESULT_BATCH)
    singles = hub.messages(MsgType.RESULT_END)
    assert batches and sum(len(b["results"]) for b in batches) + len(singles) == len(frags)
    assert len(batches) + len(singles) < len(frags) // 2      # most results were batched
    for b in batches:
        assert all(it["signature"] == "" for it in b["results"])
        verify_batch(pub, b["signature"], [claim(it) for it in b["results"]])
    check_signed_alone(pub, singles)                   # a result alone is signed alone
    assert all(n == 1 for n in hub.accepted_count.values())


@pytest.mark.parametrize("features", [("result_batch", "signed_failures"), ()])
def test_every_result_signed_alone_without_the_feature(cleanup, tmp_path, features):
    frags = [b"y%d" % i for i in range(200)]
    hub = new_hub(cleanup, frags, features=features)
    w, pub = start(cleanup, hub, tmp_path)
    assert hub.wait(lambda: len(hub.results) == len(frags))
    assert "batch_signature" in hub.hellos[0]["features"]    # announced, not confirmed
    assert not w.agent.hub_batch_signature
    batches = hub.messages(MsgType.RESULT_BATCH)
    assert bool(batches) == ("result_batch" in features)
    assert all(b["signature"] == "" for b in batches)       # an old hub refuses the field
    check_signed_alone(pub, [it for b in batches for it in b["results"]])
    check_signed_alone(pub, hub.messages(MsgType.RESULT_END))


def test_no_batch_signature_announced_without_batches(cleanup, tmp_path):
    hub = new_hub(cleanup, [b"z"], features=("result_batch", "batch_signature"))
    start(cleanup, hub, tmp_path, batch_results=False)
    assert hub.wait(lambda: len(hub.results) == 1)
    assert hub.hellos[0]["features"] == ["release_resets_credit", "infra_release", "signed_failures",
                                         "receipts", "receipt_batches", "receipt_columns"]


def test_results_replayed_to_a_hub_without_the_feature_are_signed_alone(cleanup, tmp_path):
    """The first hub takes batch signatures but never ACKs and dies; the worker replays its
    unacknowledged results to a restarted hub that does not know the feature."""
    frags = [b"sleep:0.05"] * 4 + [b"w%d" % i for i in range(40)]
    # heartbeats every 0.5 s (the worker gives up after 1.5 s of silence): at 0.1 s a busy
    # machine stalled the fake hub's thread past 0.3 s and the worker left the first hub
    # before it had every result (seen in the soak with both cores busy)
    hub = new_hub(cleanup, frags, heartbeat_interval_s=0.5, ack=False,
                  features=("result_batch", "signed_failures", "batch_signature"))
    endpoint = hub.endpoint
    w, pub = start(cleanup, hub, tmp_path, backoff_initial_s=0.05)
    assert hub.wait(lambda: len(hub.results) == len(frags))
    assert hub.messages(MsgType.RESULT_BATCH)
    hub.stop()
    sent = {claim(it)[:2] for b in hub.messages(MsgType.RESULT_BATCH) for it in b["results"]}
    sent |= {claim(it)[:2] for it in hub.messages(MsgType.RESULT_END)}
    hub2 = FakeHub(frags, heartbeat_interval_s=0.5, endpoint=endpoint,
                   features=("result_batch", "signed_failures"))
    hub2.leased = {k: None for k in sent}     # its store remembers the leases, not the results
    hub2.pending = []
    hub2.start()
    cleanup.append(hub2)
    assert hub2.wait(lambda: len(hub2.results) == len(frags), timeout=20)
    assert not w.agent.hub_batch_signature
    replayed = [it for b in hub2.messages(MsgType.RESULT_BATCH) for it in b["results"]]
    replayed += hub2.messages(MsgType.RESULT_END)
    assert len(replayed) >= len(frags)
    check_signed_alone(pub, replayed)
    assert all(b["signature"] == "" for b in hub2.messages(MsgType.RESULT_BATCH))
