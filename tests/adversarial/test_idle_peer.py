"""A peer that joins with a key of its own and never asks for work: the spot checks of an
honest worker's results do not wait for it (it counted as a verifier, and every spot-checked
fragment waited in VOTING for as long as it stayed connected)."""

from __future__ import annotations

from hubproc import HubProcess, fragment_states, real_worker_finishes, start_attack, stop_attack


def test_a_peer_that_never_asks_for_work_holds_no_fragment_back(tmp_path):
    hub = HubProcess(tmp_path, insecure=False)          # as 'cpushare-hub serve' starts
    attack = start_attack("idle-peer", hub, wait_started=True, until_stopped=True)
    try:
        real_worker_finishes(hub, tmp_path, fragments=40, timeout_s=60)
        assert fragment_states(hub.db) == {"DONE": 40}
        assert stop_attack(attack) == 0
        assert hub.alive(), hub.log.read_text()[-2000:]
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()
