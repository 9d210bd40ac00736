"""Issue 14, item 3: unfinished results are budgeted per lease and per worker, so a worker
that never finishes its results cannot make the hub refuse everyone else's."""

from __future__ import annotations

from hubproc import (
    HubProcess,
    fragment_states,
    honest_worker_finishes,
    seed_job,
    start_attack,
    stop_attack,
)

RSS_LIMIT = 200 << 20


def test_a_hoarding_worker_does_not_starve_honest_ones(tmp_path):
    """While the hoarder holds its leases and floods chunks for them, honest workers do
    every other fragment of the job; the hoarder's own fragments can only be done once it
    is gone, so they finish after it stops."""
    seed_job(tmp_path / "hub.db", 300, max_output_bytes=16 << 20)
    hub = HubProcess(tmp_path, insecure=True)
    attack = start_attack("unfinished-results", hub, wait_started=True, until_stopped=True)
    try:
        hoarded = fragment_states(hub.db).get("LEASED", 0)    # all the hoarder's, so far
        assert 0 < hoarded < 300, hoarded
        peak = honest_worker_finishes(hub, 300 - hoarded)
        assert stop_attack(attack) == 0
        peak = max(peak, honest_worker_finishes(hub, 300), hub.peak_rss)
        assert hub.alive(), hub.log.read_text()[-2000:]
        assert peak < RSS_LIMIT, f"hub RSS reached {peak >> 20} MiB"
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()
