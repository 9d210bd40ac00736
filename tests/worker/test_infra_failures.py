"""Infrastructure failures are the worker's, not the program's (issue 13, part 3).

A real hub, a real ``cpushare-worker`` whose sandbox passes the self-test but then cannot
start the buyer's program (its ``CPUSHARE_NATIVE_DIR`` loader runs the probe program and
crashes for every other one, like a loader that fails set-up on this machine): its leases go
back without spending attempts, the hub holds it and tells it why, ``cpushare status`` shows
it, and a healthy worker then does the whole job.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from proxied_loader import probe_honest_native_dir
from waiting import wait_for

from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub
from cpushare_mq.native import find_binary

from .test_e2e import Procs, db_rows, results_of


def flaky_native_dir(tmp_path):
    """A loader that is the real one for the probe program and crashes for any other."""
    return probe_honest_native_dir(tmp_path / "flaky-native", "kill -SEGV $$")


def test_failing_sandbox_spends_no_attempts_is_held_and_shown(tmp_path, monkeypatch):
    short = Path(tempfile.mkdtemp(prefix="cpmq-infra-"))    # the buyer socket <db>.sock
    h = Hub(short / "hub.db", bind="tcp://127.0.0.1:0").start()
    procs = Procs(tmp_path)
    try:
        monkeypatch.setenv("CPUSHARE_NATIVE_DIR", str(flaky_native_dir(tmp_path)))
        procs.worker(h.worker_endpoint, "flaky", "--insecure", slots=1)
        monkeypatch.delenv("CPUSHARE_NATIVE_DIR")
        frags = [b"fragment %d" % i for i in range(8)]
        job = h.submit_job(JobSpec(program=find_binary("examples/echo.elf").read_bytes(),
                                   fragments=frags, max_attempts=2))

        def held():
            return [w for w in h.status()["workers"] if w["name"] == "flaky" and w["held"]]
        (w,) = wait_for(held, 90, "the hub to hold the failing worker")
        assert "its sandbox failed 3 times" in w["held"]
        assert "the loader ended (signal 11)" in w["held"]
        # three leases came back, none spent an attempt (max_attempts=2 would have failed one)
        db = short / "hub.db"
        assert db_rows(db, "SELECT COUNT(*) FROM attempts WHERE end='released'")[0][0] >= 3
        assert db_rows(db, "SELECT MAX(failures) FROM fragments")[0][0] == 0
        assert h.job_progress(job)["failed"] == 0
        # the buyer sees it
        st = subprocess.run([sys.executable, "-m", "cpushare_mq.cli", "status", "--api",
                             h.api_address], capture_output=True, text=True, timeout=60)
        assert st.returncode == 0, st.stderr
        assert "paused by the hub: its sandbox failed 3 times" in st.stdout
        (row,) = [line for line in st.stdout.splitlines() if " flaky " in line]
        assert " hub " in row                                   # PAUSED column
        # the worker was told why
        wait_for(lambda: "the hub holds this worker" in procs.log("flaky"), 30, "the HOLD")
        # a healthy worker does the whole job; no fragment failed
        procs.worker(h.worker_endpoint, "healthy", "--insecure", slots=1)
        wait_for(lambda: h.job_progress(job)["done"] == len(frags), 90, "the job")
        assert results_of(h, job, len(frags)) == frags
        assert h.job_progress(job)["failed"] == 0
    finally:
        procs.cleanup()
        h.close()
        shutil.rmtree(short, ignore_errors=True)
