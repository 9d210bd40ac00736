"""Issue 14, item 6: the chunks of one result are capped by the job's max_output_bytes
(hub/budgets.chunk_cap), so a 1-byte result sent as 20,001 chunks is refused, not stored as
20,001 rows."""

from __future__ import annotations

import sqlite3

from hubproc import HubProcess, honest_worker_finishes, seed_job, start_attack

from cpushare_mq.hub.budgets import chunk_cap

RSS_LIMIT = 200 << 20


def _most_chunks_stored(db) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        row = con.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM results "
                          "GROUP BY fragment_id, attempt)").fetchone()
        return row[0] or 0
    finally:
        con.close()


def test_a_result_in_twenty_thousand_chunks_is_refused(tmp_path):
    seed_job(tmp_path / "hub.db", 20, max_output_bytes=1 << 20)
    hub = HubProcess(tmp_path, insecure=True)
    attack = start_attack("many-chunks", hub, wait_started=True)
    try:
        assert attack.wait(120) == 0
        peak = honest_worker_finishes(hub, 20)
        assert hub.alive(), hub.log.read_text()[-2000:]
        assert max(peak, hub.peak_rss) < RSS_LIMIT
        assert _most_chunks_stored(hub.db) <= chunk_cap(1 << 20) == 64
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()
