"""A message whose handling fails costs only that message (hub/isolation.py): its sender is
told, the rest of the turn is kept; unless the scheduler is left inconsistent, then the
failure goes on to rebuild the turn."""

from __future__ import annotations

import time

import pytest
import zmq
from fakeworker import FakeWorker

from cpushare_mq.hub.isolation import handle_isolated
from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub
from cpushare_mq.hub.workerdesk import WORKER_MESSAGES
from cpushare_mq.protocol import MsgType, decode


class _Desk:
    def handle(self, now, frames, acks, replies):
        if frames[1] == b"bad":
            raise KeyError("a bug")
        acks.setdefault("w-a", []).append([1, 0, "accepted"])
        replies.append((frames[0], [b"reply"]))


class _Core:
    consistent = True

    def check_invariants(self):
        if not self.consistent:
            raise AssertionError("lease not indexed")


def test_the_failing_message_costs_only_itself():
    acks, replies, core = {}, [], _Core()
    handle_isolated(_Desk(), core, 0.0, [[b"good", b"ok"], [b"evil", b"bad"], [b"late", b"ok"]],
                    acks, replies)
    assert acks == {"w-a": [[1, 0, "accepted"], [1, 0, "accepted"]]}
    assert replies[0] == (b"good", [b"reply"]) and replies[2] == (b"late", [b"reply"])
    (ident, frames), = replies[1:2]
    assert ident == b"evil" and decode(frames)["code"] == "internal"
    core.consistent = False
    with pytest.raises(AssertionError):
        handle_isolated(_Desk(), core, 0.0, [[b"evil", b"bad"]], acks, replies)


def test_a_hub_bug_on_one_message_does_not_cost_the_turn(tmp_path, monkeypatch):
    """A (simulated) bug in the hub's handling of STATUS: the worker's results, sent in the
    same turns as its STATUS messages, are all acknowledged at once."""
    def broken(self, now, ident, wid, msg, acks, replies):
        raise RuntimeError("simulated bug")
    monkeypatch.setitem(WORKER_MESSAGES, MsgType.STATUS, broken)
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="").start()
    ctx = zmq.Context()
    w = FakeWorker(hub.worker_endpoint, slots=8, fn=lambda b: b.upper(), ctx=ctx)
    try:
        job = hub.submit_job(JobSpec(program=b"p", fragments=[b"f%d" % i for i in range(40)]))
        w.hello()
        w.ready()
        deadline = time.monotonic() + 30
        while hub.job_progress(job)["state"] == "running":
            assert time.monotonic() < deadline, hub.job_progress(job)
            w.poll(0.01)
            for ref in list(w.leases):
                w.send(MsgType.STATUS, {"paused": False, "busy": 1})
                w.result(ref, w.fn(w.inputs.pop(ref)))
                del w.leases[ref]
                w.ready(1)
            w.heartbeat()
        # the hub acknowledges after its commit; the job may show done before the last ACKs
        # have crossed the socket (seen with both cores busy): wait for them, bounded
        while len(w.acks) < 40 and time.monotonic() < deadline:
            w.poll(0.05)
        assert sorted((a[0], a[2]) for a in w.acks) == [(f, "accepted") for f in
                                                         sorted(a[0] for a in w.acks)]
        assert len(w.acks) == 40
        assert any(e["code"] == "internal" for e in w.errors)
    finally:
        w.close()
        ctx.term()
        hub.close()
