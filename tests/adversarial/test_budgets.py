"""Issue 14, item 3: unfinished results are budgeted per lease and per worker, so a worker
that never finishes its results cannot make the hub refuse everyone else's."""

from __future__ import annotations

from hubproc import HubProcess, honest_worker_finishes, seed_job, start_attack

RSS_LIMIT = 200 << 20


def test_a_hoarding_worker_does_not_starve_honest_ones(tmp_path):
    seed_job(tmp_path / "hub.db", 300, max_output_bytes=16 << 20)
    hub = HubProcess(tmp_path, insecure=True)
    attack = start_attack("unfinished-results", hub, wait_started=True)
    try:
        peak = honest_worker_finishes(hub, 300)
        assert attack.wait(120) == 0
        peak = max(peak, hub.peak_rss)
        assert hub.alive(), hub.log.read_text()[-2000:]
        assert peak < RSS_LIMIT, f"hub RSS reached {peak >> 20} MiB"
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()
