"""Issue 14, item 4: a fragment fails from FAILURE reports only when the job's quorum of
distinct workers agree, like a result; a lone false fragment_error no longer fails it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from hubproc import (
    ATTACKER,
    HubProcess,
    fragment_states,
    honest_worker_finishes,
    seed_job,
    start_attack,
    stop_attack,
)
from waiting import wait_for


def test_false_fragment_errors_do_not_fail_a_redundant_job(tmp_path):
    """The liar's first FAILURE reports are sent before the honest workers start, and it
    goes on lying from new sessions until the honest workers have finished the job."""
    seed_job(tmp_path / "hub.db", 60, redundancy=3, quorum=2)
    hub = HubProcess(tmp_path, insecure=True)
    attack = start_attack("false-failures", hub, wait_started=True, until_stopped=True)
    try:
        honest_worker_finishes(hub, 60, workers=3)
        assert stop_attack(attack) == 0
        assert hub.alive(), hub.log.read_text()[-2000:]
        con = sqlite3.connect(f"file:{hub.db}?mode=ro", uri=True, timeout=30)
        try:
            lies = con.execute("SELECT count(*) FROM attempts "
                               "WHERE end='failure:fragment_error'").fetchone()[0]
        finally:
            con.close()
        assert lies > 0, "the hub recorded none of the liar's FAILURE reports"
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()


def _lost_leases(db) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM attempts WHERE end='lost'").fetchone()[0]
    finally:
        con.close()


def test_a_key_that_keeps_vanishing_with_leases_does_not_fail_them(tmp_path):
    """Issue 14, item 4: leases lost (the worker vanished) or expired counted against the
    fragment each time. One key taking the job's leases and vanishing five times (max_attempts
    3) failed every fragment; now a key costs a fragment one attempt however often it loses
    it, and honest workers finish the job afterwards. Each round starts once the hub has
    recorded the last round's leases as lost (read from its database), not after a sleep."""
    seed_job(tmp_path / "hub.db", 6, max_attempts=3)
    hub = HubProcess(tmp_path, insecure=True)
    attack = subprocess.Popen([sys.executable, str(ATTACKER), "vanishing", hub.endpoint, ""],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert attack.stdout.readline().strip() == "attacking"
        lost = 0
        for _ in range(5):
            line = attack.stdout.readline().split()
            assert line[:1] == ["vanished"], (line, attack.wait(30))
            lost += int(line[1])
            assert lost > 0
            wait_for(lambda n=lost: _lost_leases(hub.db) >= n, 30,
                     f"the hub to record {lost} lost leases",
                     explain=lambda: hub.log.read_text()[-2000:])
            assert "FAILED" not in fragment_states(hub.db)
            attack.stdin.write("next\n")
            attack.stdin.flush()
        assert attack.wait(30) == 0
        assert hub.alive(), hub.log.read_text()[-2000:]
        con = sqlite3.connect(f"file:{hub.db}?mode=ro", uri=True, timeout=30)
        try:
            lost = con.execute("SELECT count(*) FROM attempts WHERE end='lost'").fetchone()[0]
            failures = con.execute("SELECT max(failures) FROM fragments").fetchone()[0]
        finally:
            con.close()
        assert lost >= 5 * 3, lost          # the attack happened: leases lost five times
        assert "FAILED" not in fragment_states(hub.db)
        assert failures == 1
        honest_worker_finishes(hub, 6)
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()
