"""Issue 14 (smaller item): an error in one message cost every message of its loop turn its
acknowledgement. A HELLO whose name held a lone surrogate (the JSON escape ``\\ud800``)
passed validation, then made the commit of the whole turn fail (SQLite cannot store it):
nothing of that turn was acknowledged, so a peer sending one such HELLO per turn kept the
hub from acknowledging any worker's results. Now the protocol refuses such text at decoding
(one ERROR malformed, to that peer) and each message's own error costs only that message
(hub/isolation.py)."""

from __future__ import annotations

from hubproc import HubProcess, honest_worker_finishes, seed_job, start_attack, stop_attack

RSS_LIMIT = 200 << 20


def test_poisoned_hellos_cost_only_themselves(tmp_path):
    seed_job(tmp_path / "hub.db", 60)
    hub = HubProcess(tmp_path, insecure=True)
    attack = start_attack("poison-hello", hub, "127.0.0.2", wait_started=True,
                          until_stopped=True)
    try:
        peak = honest_worker_finishes(hub, 60)      # while poisoned HELLOs keep coming
        assert stop_attack(attack) == 0, hub.log.read_text()[-3000:]
        log = hub.log.read_text()
        assert "nothing of this batch is acknowledged" not in log, log[-3000:]
        assert hub.alive() and max(peak, hub.peak_rss) < RSS_LIMIT
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()
