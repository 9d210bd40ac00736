"""Issue 14, item 2: FETCH is served only for a lease held now, and a blob goes to one
session a bounded number of times, however often it is asked for."""

from __future__ import annotations

import os

from hubproc import HubProcess, honest_worker_finishes, seed_job, start_attack

RSS_LIMIT = 200 << 20


def test_fetch_flood_and_fetch_after_release(tmp_path):
    seed_job(tmp_path / "hub.db", 100, shared_input=os.urandom(4 << 20))
    hub = HubProcess(tmp_path, insecure=True)
    attack = start_attack("fetch-flood", hub)
    try:
        assert attack.wait(120) == 0, hub.log.read_text()[-3000:]
        peak = max(honest_worker_finishes(hub, 100), hub.peak_rss)
        assert hub.alive(), hub.log.read_text()[-2000:]
        assert peak < RSS_LIMIT, f"hub RSS reached {peak >> 20} MiB"
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()
