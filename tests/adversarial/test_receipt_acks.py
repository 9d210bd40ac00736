"""A worker that acknowledges receipts it was never sent (issue 19's RECEIPT_ACK), as fast as
the hub reads: the hub refuses each acknowledgement nobody asked for before decoding it,
keeps nothing for it, and goes on paying an honest worker, whose earnings equal the hub's
ledger."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hubproc import BIN, HubProcess, real_worker_finishes, start_attack, stop_attack

RSS_LIMIT = 200 << 20


def test_acknowledging_receipts_never_sent_costs_the_hub_nothing_it_keeps(tmp_path):
    hub = HubProcess(tmp_path, insecure=False, extra=("--price", "0.05 EUR"))
    attack = start_attack("receipt-ack-flood", hub, wait_started=True, until_stopped=True)
    try:
        real_worker_finishes(hub, tmp_path, fragments=40, timeout_s=60)
        assert stop_attack(attack) == 0
        assert hub.alive(), hub.log.read_text()[-2000:]
        assert hub.peak_rss < RSS_LIMIT, f"hub RSS reached {hub.peak_rss >> 20} MiB"
        ledger = _run("cpushare", "ledger", "--db", str(hub.db))
        earned = _run("cpushare-worker", "earnings", "--config-dir", str(tmp_path / "honest-id"))
        totals = [out.splitlines()[-1].rsplit(": ", 1)[1] for out in (ledger, earned)]
        assert totals[0] == totals[1] and totals[0].startswith("40 receipts,"), totals
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()


def _run(exe: str, *args: str) -> str:
    r = subprocess.run([str(Path(BIN) / exe), *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout
