"""Issue 14, item 5: messages over the size limits are refused without the hub holding them
(libzmq's limit is per frame; the hub's per-message limit is checked as frames are read)."""

from __future__ import annotations

from hubproc import HubProcess, honest_worker_finishes, seed_job, start_attack

RSS_LIMIT = 200 << 20


def test_huge_messages_are_refused_and_honest_worker_finishes(tmp_path):
    seed_job(tmp_path / "hub.db", 200)
    hub = HubProcess(tmp_path, insecure=True)
    attack = start_attack("huge-messages", hub)
    try:
        peak = honest_worker_finishes(hub, 200)
        assert attack.wait(120) == 0, "the attacker saw no too_large refusal"
        peak = max(peak, hub.peak_rss)
        assert hub.alive(), hub.log.read_text()[-2000:]
        assert peak < RSS_LIMIT, f"hub RSS reached {peak >> 20} MiB"
        assert "too_large" in hub.log.read_text()
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()
