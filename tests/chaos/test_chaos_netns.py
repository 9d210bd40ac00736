"""Several hosts on one machine: the hub in one network namespace, each worker in its own,
joined by veth links that the test creates and removes. A worker's link is cut mid-job
(``ip link set ... down``) and restored: its fragments are reassigned within the liveness
limit, its late results are not accepted a second time, and it rejoins.

Addresses come from 198.18.0.0/15 (reserved for benchmarks and tests), inside namespaces
this test made; nothing leaves the machine. Skipped only when the machine refuses to
create a network namespace (the reason is given).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest
from chaoslib import db_report, native_results, slow_fragment, start_hub, start_worker, wait_for

from cpushare_mq import Client

PORT = 5555
HEARTBEAT_S, LIVENESS = 0.5, 3          # the hub's defaults: dead after 1.5 s of silence
SLACK_S = 2.0                           # housekeeping tick, scheduling on a loaded machine
FRAGMENT_S = 1.0                        # a re-queued fragment may wait for w1 to free a slot


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


class Net:
    """A hub namespace and one namespace per worker, each linked to the hub by a veth pair."""

    def __init__(self, n_workers: int):
        tag = f"{os.getpid() % 100000}"
        self.hub_ns = f"cpmq{tag}h"
        self.worker_ns = [f"cpmq{tag}w{i}" for i in range(n_workers)]
        self.made: list[str] = []

    def create(self) -> None:
        for ns in [self.hub_ns, *self.worker_ns]:
            ip("netns", "add", ns)
            self.made.append(ns)
            ip("-n", ns, "link", "set", "lo", "up")
        for i, ns in enumerate(self.worker_ns):
            h, w = f"h{i}", f"w{i}"
            ip("link", "add", h, "netns", self.hub_ns, "type", "veth", "peer", "name", w, "netns", ns)
            ip("-n", self.hub_ns, "addr", "add", f"198.18.{i}.1/30", "dev", h)
            ip("-n", ns, "addr", "add", f"198.18.{i}.2/30", "dev", w)
            ip("-n", self.hub_ns, "link", "set", h, "up")
            ip("-n", ns, "link", "set", w, "up")

    def hub_addr(self, i: int) -> str:
        return f"tcp://198.18.{i}.1:{PORT}"

    def link(self, i: int, up: bool) -> None:
        ip("-n", self.worker_ns[i], "link", "set", f"w{i}", "up" if up else "down")

    def destroy(self) -> None:
        for ns in self.made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)


@pytest.fixture
def net():
    if shutil.which("ip") is None:
        pytest.skip("the ip command (iproute2) is not installed: cannot make network namespaces")
    probe = f"cpmqprobe{os.getpid() % 100000}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"this machine refuses network namespaces: {r.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    n = Net(2)
    try:
        n.create()
        yield n
    finally:
        n.destroy()


def worker_view(client: Client, name: str) -> list[dict]:
    return [w for w in client.status()["workers"] if w["name"] == name]


def test_cut_link_mid_job_reassigns_and_rejoins(tmp_path, procs, net, slow_elf):
    db, api = tmp_path / "hub.db", str(tmp_path / "hub.sock")
    start_hub(procs, db, f"tcp://0.0.0.0:{PORT}", api, netns=net.hub_ns)
    wk = [start_worker(procs, net.hub_addr(i), f"w{i}", tmp_path / f"cache{i}", netns=net.worker_ns[i])
          for i in range(2)]
    client = Client(api)
    try:
        wait_for(lambda: sum(w["alive"] for w in client.status()["workers"]) == 2, 30,
                 "both workers to join over their veth links")
        # fragments of ~0.3 s each; the reference results come from a native run
        iters = 250_000_000
        frags = [slow_fragment(iters, b"frag%03d" % i) for i in range(16)]
        expected = native_results(slow_elf, frags)
        job = client.submit(slow_elf, frags, max_attempts=10)
        wait_for(lambda: worker_view(client, "w0") and worker_view(client, "w0")[0]["busy"] > 0
                 and worker_view(client, "w0")[0]["done"] >= 1, 30, "w0 to be working")
        held = worker_view(client, "w0")[0]["busy"]
        net.link(0, up=False)
        t_cut, t_cut_wall = time.monotonic(), time.time()
        # the hub declares w0 dead after liveness x interval of silence
        wait_for(lambda: not any(w["alive"] for w in worker_view(client, "w0")),
                 HEARTBEAT_S * LIVENESS + SLACK_S + 3, "the hub to declare w0 dead")
        t_dead = time.monotonic() - t_cut
        assert t_dead <= HEARTBEAT_S * LIVENESS + SLACK_S, f"w0 declared dead after {t_dead:.2f} s"
        time.sleep(1.0)                           # w0 finishes its fragment, cut off
        net.link(0, up=True)
        t_up = time.monotonic()
        # w0 notices the lost hub, reconnects with backoff and rejoins with a new session
        wait_for(lambda: any(w["alive"] for w in worker_view(client, "w0")), 30, "w0 to rejoin")
        t_rejoin = time.monotonic() - t_up
        results = dict(job.results(timeout_s=60))
        assert [results[i] for i in range(len(frags))] == expected
        job.close()
        rep = db_report(db, job.id)
        assert rep["states"] == {"DONE": len(frags)}
        assert rep["accepted_once"] and rep["seq_unique"], rep["votes_per_fragment"]
        assert rep["attempt_ends"]["lost"] >= 1, rep["attempt_ends"]  # w0's leases were lost
        assert rep["stored_result_attempts"] == {1: len(frags)}, rep  # no second copy stored
        # w0's fragments were leased again (to w1) within the liveness limit of the cut
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            delays = []
            # (by attempt, not worker id: a key keeps its id when it rejoins, hub/workerids.py)
            lost = c.execute("SELECT fragment_id, attempt FROM attempts WHERE job_id=? AND "
                             "end='lost'", (job.id,)).fetchall()
            for fid, old_attempt in lost:
                (again,) = c.execute(
                    "SELECT min(leased_s) FROM attempts WHERE fragment_id=? AND "
                    "leased_s > ? AND attempt != ?", (fid, t_cut_wall, old_attempt)).fetchone()
                assert again is not None, f"fragment {fid} was not leased again"
                delay = again - t_cut_wall
                assert delay <= HEARTBEAT_S * LIVENESS + SLACK_S + FRAGMENT_S, \
                    f"fragment {fid} leased again {delay:.2f} s after the cut"
                delays.append(delay)
        finally:
            c.close()
        # w0 came back holding results of leases that were reassigned: offered, not honoured
        m = re.findall(r"(\d+) of (\d+) held leases honoured", procs.log("w0"))
        assert m and int(m[-1][1]) >= 1 and m[-1][0] == "0", m
        # it rejoined for real: with w1 gone, w0 alone finishes a second job
        procs.signal(wk[1], signal.SIGTERM)
        wait_for(lambda: not any(w["alive"] for w in worker_view(client, "w1")), 15, "w1 to leave")
        frags2 = [slow_fragment(1000, b"again%d" % i) for i in range(4)]
        job2 = client.submit(slow_elf, frags2)
        got2 = dict(job2.results(timeout_s=30))
        assert [got2[i] for i in range(4)] == native_results(slow_elf, frags2)
        job2.close()
        print(f"netns: w0 held {held} lease(s); declared dead {t_dead:.2f} s after the cut, "
              f"its {len(lost)} fragment(s) leased again after {max(delays):.2f} s; "
              f"rejoined {t_rejoin:.2f} s after the link came back; ends {dict(rep['attempt_ends'])}")
    finally:
        client.close()
