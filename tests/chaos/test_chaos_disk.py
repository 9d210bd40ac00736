"""Disk trouble: the hub's database directory fills up mid-job, or comes back read-only.

The database lives on a small tmpfs this test mounts. When it is full the hub must not
acknowledge what it could not store: workers get ``ERROR internal`` instead of an ACK, the
hub says clearly what went wrong, keeps running, and nothing is accepted while nothing can be
stored. When space returns the job completes with every fragment accepted exactly once and
the results equal a native run.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import time

import pytest
from chaoslib import (
    HUB_CMD,
    db_report,
    free_port,
    native_results,
    slow_fragment,
    start_hub,
    start_worker,
    wait_for,
)

from cpushare_mq import Client
from cpushare_mq.client import BuyerTimeout


def fill(path) -> int:
    """Write zeros into ``path`` until the file system is full; return the bytes written."""
    written = 0
    block = b"\0" * (64 << 10)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                written += os.write(fd, block[: max(4096, len(block))])
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if len(block) == 4096:
                    break
                block = block[:4096]
    finally:
        os.close(fd)
    return written


@pytest.fixture
def small_fs(tmp_path):
    mnt = tmp_path / "dbdir"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m,mode=0700", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for the hub's database: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def done_count(client: Client, job_id: str) -> int:
    return client.progress(job_id)["done"]


def test_disk_full_mid_job_no_ack_then_recovery(tmp_path, procs, small_fs, slow_elf):
    db, api = small_fs / "hub.db", str(tmp_path / "hub.sock")
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    hub = start_hub(procs, db, endpoint, api)
    for i in range(2):
        start_worker(procs, endpoint, f"w{i}", tmp_path / f"cache{i}")
    client = Client(api)
    try:
        # 400 fragments, each ~5 ms of work and a 4 KiB result: the database keeps growing
        frags = [slow_fragment(3_000_000, os.urandom(4 << 10)) for _ in range(400)]
        expected = native_results(slow_elf, frags)
        job = client.submit(slow_elf, frags, max_attempts=50)
        wait_for(lambda: done_count(client, job.id) >= 40, 60, "the job to get going")
        filler = small_fs / "filler"
        fill(filler)
        # the hub hits the full disk on its next commits: it says so, and stops accepting
        wait_for(lambda: "disk is full" in procs.log("hub"), 30, "the hub to report the full disk")
        time.sleep(1.0)
        stuck = done_count(client, job.id)
        time.sleep(2.0)
        assert done_count(client, job.id) == stuck, "results accepted while nothing can be stored"
        assert stuck < len(frags)
        assert hub.poll() is None, "the hub died on a full disk"
        worker_logs = procs.log("w0") + procs.log("w1")
        assert "could not store" in worker_logs, "no worker was told its results were not stored"
        # space returns: the job completes, each fragment accepted exactly once
        filler.unlink()
        try:
            results = dict(job.results(timeout_s=30))
        except BuyerTimeout:
            raise AssertionError(f"no recovery after space returned: progress {job.progress()}, "
                                 f"workers {client.status()['workers']}") from None
        assert [results[i] for i in range(len(frags))] == expected
        job.close()
        rep = db_report(db, job.id)
        assert rep["states"] == {"DONE": len(frags)}
        assert rep["accepted_once"] and rep["seq_unique"]
        assert rep["stored_result_attempts"] == {1: len(frags)}
        hub_errors = [ln for ln in procs.log("hub").splitlines() if "disk is full" in ln]
        print(f"disk: stuck at {stuck}/{len(frags)} while full; first hub error: {hub_errors[0][:200]}")
    finally:
        client.close()
        procs.cleanup()   # before the tmpfs goes away


def test_read_only_database_directory_is_refused_clearly_then_recovers(tmp_path, procs, small_fs,
                                                                        slow_elf):
    """The hub dies mid-job and its file system comes back read-only (what the kernel does
    to a failing disk). The hub must refuse to start -- with an error naming the database --
    rather than serve what it cannot store; once the file system is writable again it
    resumes the job from the database and finishes it, each fragment accepted once.
    (A file system cannot be made read-only under a running hub: the kernel refuses to
    remount while files are open for writing.)"""
    db, api = small_fs / "hub.db", str(tmp_path / "hub.sock")
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    hub = start_hub(procs, db, endpoint, api)
    for i in range(2):
        start_worker(procs, endpoint, f"w{i}", tmp_path / f"cache{i}")
    frags = [slow_fragment(20_000_000, b"ro%03d" % i) for i in range(120)]
    expected = native_results(slow_elf, frags)
    client = Client(api)
    try:
        job = client.submit(slow_elf, frags, max_attempts=50)
        wait_for(lambda: done_count(client, job.id) >= 20, 60, "the job to get going")
        client.close()
        procs.signal(hub, signal.SIGKILL)
        hub.wait(10)
        r = subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        try:
            bad = procs.start([*HUB_CMD, "serve", "--db", str(db), "--bind", endpoint, "--api", api,
                               "--insecure"], "hub-ro")
            rc = bad.wait(30)
            msg = procs.log("hub-ro")
            assert rc != 0, f"the hub started on a read-only database: {msg[-500:]}"
            assert "hub.db" in msg and "readonly" in msg.replace("read-only", "readonly").replace(" ", ""), msg
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(small_fs)], capture_output=True)
        start_hub(procs, db, endpoint, api, name="hub-again")
        client = Client(api)
        job = client.attach(job.id, from_start=True)
        results = dict(job.results(timeout_s=60))
        assert [results[i] for i in range(len(frags))] == expected
        job.close()
        rep = db_report(db, job.id)
        assert rep["states"] == {"DONE": len(frags)}
        assert rep["accepted_once"] and rep["seq_unique"]
        print(f"read-only: refused with: {[ln for ln in msg.splitlines() if 'hub.db' in ln][-1][:200]}")
    finally:
        client.close()
        procs.cleanup()
