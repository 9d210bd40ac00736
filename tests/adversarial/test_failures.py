"""Issue 14, item 4: a fragment fails from FAILURE reports only when the job's quorum of
distinct workers agree, like a result; a lone false fragment_error no longer fails it."""

from __future__ import annotations

from hubproc import HubProcess, honest_worker_finishes, seed_job, start_attack


def test_false_fragment_errors_do_not_fail_a_redundant_job(tmp_path):
    seed_job(tmp_path / "hub.db", 60, redundancy=3, quorum=2)
    hub = HubProcess(tmp_path, insecure=True)
    attack = start_attack("false-failures", hub, wait_started=True)
    try:
        honest_worker_finishes(hub, 60, workers=3)
        assert attack.wait(120) == 0
        assert hub.alive(), hub.log.read_text()[-2000:]
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()
