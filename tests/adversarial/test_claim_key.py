"""Issue 14 (smaller item): on an ``--insecure`` hub a peer could say HELLO with another
connected worker's key (keys are public: allow-lists, the dashboard) and list that worker's
leases as its own held ones; the hub handed them over and the owner's results came back
``stale``. Only a connection that authenticated with the key (CURVE) may take over live
leases of another session of that key."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import zmq
from hubproc import HubProcess, fragment_states, run_attack, seed_job

from cpushare_mq.protocol import MsgType

sys.path.insert(0, str(Path(__file__).parent.parent / "hub"))
from fakeworker import FakeWorker  # noqa: E402

VICTIM_KEY = ("rq:rC$LkKZ0R1p@AB4GDm8PTCZ9yWD+6mB1EB&Tr_"
              "0c8e33ac7d7ed29b27d1b1a5bcb1e4b52ef6c4fd1d91bd1ba8b8e5e0b1c1f9a3")


def test_a_claimed_key_takes_no_live_leases(tmp_path):
    seed_job(tmp_path / "hub.db", 12)
    hub = HubProcess(tmp_path, insecure=True)
    ctx = zmq.Context()
    victim = FakeWorker(hub.endpoint, slots=4, name="victim", key=VICTIM_KEY,
                        fn=lambda b: b.upper(), ctx=ctx)
    try:
        victim.hello(timeout_s=30)
        victim.ready()
        victim.wait_for(MsgType.LEASE, 30)
        held = set(victim.leases)
        assert held
        run_attack("claim-key", hub, VICTIM_KEY)
        assert hub.alive(), hub.log.read_text()[-2000:]
        # the victim still holds its leases: its results are accepted, not stale
        states: dict = {}
        deadline = time.monotonic() + 90
        while states.get("DONE", 0) < 12 and time.monotonic() < deadline:
            victim.run_all()
            victim.heartbeat()
            victim.poll(0.05)
            states = fragment_states(hub.db)
        assert states.get("DONE", 0) == 12, states
        mine = [a for a in victim.acks if (a[0], a[1]) in held]
        assert len(mine) == len(held) and all(a[2] == "accepted" for a in mine), victim.acks
        assert hub.alive() and hub.peak_rss < 200 << 20
    finally:
        victim.close()
        ctx.term()
        hub.stop()

