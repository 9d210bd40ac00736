"""`cpushare-hub serve` as a user runs it: kill -9 mid-job and restart on the same database."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakeworker import FakeWorker

from cpushare_mq.hub.cli import main
from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.store import Store
from cpushare_mq.protocol import MsgType

EXE = Path(sys.executable).parent / "cpushare-hub"


def start_hub(db: Path, bind: str, log: Path) -> tuple[subprocess.Popen, str]:
    logf = open(log, "ab")
    proc = subprocess.Popen(
        [str(EXE), "serve", "--db", str(db), "--bind", bind, "--api", "", "--insecure",
         "--heartbeat-interval-s", "0.1", "--liveness", "20", "--reconnect-grace-s", "5"],
        stdout=subprocess.DEVNULL, stderr=logf)
    logf.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        m = re.findall(r"serving workers on (tcp://\S+)", log.read_text(errors="replace"))
        if m and (bind.endswith(":0") or m[-1] == bind):
            if len(m) >= 1 and proc.poll() is None:
                return proc, m[-1]
        if proc.poll() is not None:
            raise AssertionError(f"hub exited: {log.read_text()}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"hub did not start: {log.read_text()}")


def test_kill9_and_restart_loses_nothing_and_accepts_nothing_twice(tmp_path):
    db = tmp_path / "hub.db"
    log = tmp_path / "hub.log"
    store = Store(db)
    frags = [b"frag-%02d" % i for i in range(20)]
    job = store.add_job(JobSpec(program=b"P", fragments=frags), time.time())["id"]
    store.close()
    procs = []
    w = None
    try:
        proc, ep = start_hub(db, "tcp://127.0.0.1:0", log)
        procs.append(proc)
        w = FakeWorker(ep, slots=4, key="k1", fn=lambda b: b.upper())
        w.hello()
        w.ready()
        w.wait_for(MsgType.LEASE)
        done_before = sorted(w.leases)[:2]
        for ref in done_before:
            w.result(ref, w.inputs.pop(ref).upper())
            del w.leases[ref]
        while len(w.acks) < 2:
            w.wait_for(MsgType.ACK)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # one result is in flight when the hub dies: it must not be lost or doubled
        inflight = sorted(w.leases)[0]
        w.result(inflight, w.inputs[inflight].upper())

        proc, ep2 = start_hub(db, ep, log)
        procs.append(proc)
        assert ep2 == ep
        welcome = w.hello(held=sorted(w.leases))
        assert sorted(tuple(r) for r in welcome["held_ok"]) == sorted(w.leases)
        w.ready(4)
        deadline = time.monotonic() + 30
        con = sqlite3.connect(db)
        while con.execute("SELECT state FROM jobs WHERE id=?", (job,)).fetchone()[0] == "running":
            assert time.monotonic() < deadline
            w.poll(0.02)
            w.run_all()
            w.heartbeat()
        rows = con.execute("SELECT idx, state, result_attempt, id FROM fragments WHERE job_id=?",
                           (job,)).fetchall()
        assert sorted(r[0] for r in rows) == list(range(20))
        assert all(r[1] == "DONE" for r in rows)
        for idx, _state, attempt, fid in rows:
            stored = con.execute("SELECT DISTINCT attempt FROM results WHERE fragment_id=?",
                                 (fid,)).fetchall()
            assert stored == [(attempt,)], f"fragment {idx}: results of attempts {stored}"
        con.close()
        accepted = [a for a in w.acks if a[2] == "accepted"]
        assert len({(a[0]) for a in accepted}) == 20
        assert len(accepted) == 20, "a fragment was accepted twice"

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert "hub stopped" in log.read_text()
    finally:
        if w is not None:
            w.close()
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)


def test_cli_options_and_bad_bind(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--db", str(tmp_path / "a.db"), "--insecure", "--allow-workers", "x"])
    assert exc.value.code == 2
    assert "drop --insecure" in capsys.readouterr().err
    rc = main(["serve", "--db", str(tmp_path / "s.db"), "--bind", "tcp://256.1.1.1:1",
               "--api", "", "-q"])                  # secure: keys are made, then bind fails
    assert rc == 1
    assert "cannot bind the worker socket" in capsys.readouterr().err
    assert (tmp_path / "s.keys" / "hub.pub").is_file()
    assert main(["keygen", "--keys", str(tmp_path / "k")]) == 0
    pub = (tmp_path / "k" / "hub.pub").read_text().strip()
    assert pub in capsys.readouterr().out
    assert os.stat(tmp_path / "k" / "hub.key").st_mode & 0o077 == 0
    assert main(["keygen", "--out", str(tmp_path / "k")]) == 1
    assert "already exists" in capsys.readouterr().err
    rc = main(["serve", "--db", str(tmp_path / "a.db"), "--bind", "tcp://256.1.1.1:1",
               "--api", "", "--insecure", "-q"])
    assert rc == 1
    assert "cannot bind the worker socket" in capsys.readouterr().err
    assert os.stat(tmp_path / "a.db").st_mode & 0o077 == 0


def test_tie_break_wait_is_a_serve_option_and_must_be_positive(tmp_path, capsys):
    rc = main(["serve", "--db", str(tmp_path / "t.db"), "--api", "", "--insecure", "-q",
               "--tie-break-wait-s", "0"])
    assert rc != 0
    assert "tie_break_wait_s must be a positive number" in capsys.readouterr().err
