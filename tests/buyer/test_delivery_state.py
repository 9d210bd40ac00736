"""Hypothesis state machine: exactly-once delivery across consumes, crashes and re-attaches.

Fragments finish in a random order; a consumer takes results, sometimes dies (its
connection drops without a goodbye), sometimes closes cleanly, and re-attaches. The hub must
deliver the finished fragments in acceptance order, never deliver an acknowledged one again,
and re-deliver exactly the one that was in the dead consumer's hands.
"""

from __future__ import annotations

import shutil
import tempfile

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cpushare_mq.client import BuyerTimeout, Client
from cpushare_mq.hub.api import BuyerApiServer

from .fakehub import FakeHub, FakeSpec

N = 12


class Delivery(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="cpsb-sm-")
        self.hub = FakeHub()
        self.server = BuyerApiServer(self.hub, f"{self.dir}/s.sock", job_spec_factory=FakeSpec).start()
        self.client = Client(self.server.address)
        self.job = self.client.submit(b"\x7fELF", [bytes([i]) for i in range(N)])
        self.job_id = self.job.id
        self.finished_order: list[int] = []   # acceptance order
        self.acked: list[int] = []            # consumed and acknowledged, in order
        self.in_hand: int | None = None       # taken, not acknowledged yet

    def teardown(self):
        try:
            self.client.close()
        finally:
            self.server.stop()
            shutil.rmtree(self.dir, ignore_errors=True)

    def expected_next(self) -> int | None:
        for i in self.finished_order:
            if i not in self.acked and i != self.in_hand:
                return i
        return None

    @precondition(lambda self: len(self.finished_order) < N)
    @rule(data=st.data())
    def finish_one(self, data):
        open_ = [i for i in range(N) if i not in self.finished_order]
        i = data.draw(st.sampled_from(open_))
        self.hub.finish(self.job_id, i, bytes([i]) * 3)
        self.finished_order.append(i)

    @rule(n=st.integers(1, 4))
    def take(self, n):
        taken = 0
        try:
            for item in self.job.items(timeout_s=0.05):
                want = self.expected_next()
                assert item.index == want, (item.index, want, self.finished_order, self.acked, self.in_hand)
                assert item.read() == bytes([item.index]) * 3
                if self.in_hand is not None:
                    self.acked.append(self.in_hand)   # asking for the next one acknowledged it
                self.in_hand = item.index
                taken += 1
                if taken == n:
                    break
        except BuyerTimeout:
            # asking for another result acknowledged the one in hand, even though none came
            if self.in_hand is not None:
                self.acked.append(self.in_hand)
                self.in_hand = None
            assert self.expected_next() is None, "a finished result was not delivered"

    @rule()
    def crash(self):
        self.job._conn.abort()          # the consumer dies: no goodbye, no final ack
        self.in_hand = None
        self.job = self.client.attach(self.job_id)

    @rule()
    def close_and_reattach(self):
        self.job.close()
        if self.in_hand is not None:
            self.acked.append(self.in_hand)
            self.in_hand = None
        self.job = self.client.attach(self.job_id)

    @invariant()
    def nothing_acknowledged_twice(self):
        assert len(self.acked) == len(set(self.acked))

    @invariant()
    def stored_cursor_never_ahead_of_acknowledgement(self):
        cur = self.hub.jobs[self.job_id].cursor
        behind = [f.index for f in self.hub.jobs[self.job_id].finished if f.seq <= cur]
        assert set(behind) <= set(self.acked), (behind, self.acked)


Delivery.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
TestDelivery = Delivery.TestCase
