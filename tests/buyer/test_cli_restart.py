"""Issue 15: `cpushare submit` and `cpushare results` ride out a hub restart, and an
interruption that ends them prints the job id and the commands that continue or stop it.
The hub is `cpushare-hub serve` with its keys (the defaults), the worker `cpushare-worker
--hub-key`, exactly as a user starts them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from waiting import wait_for

from .buyercli import clean_env as _env
from .buyercli import interrupt, running
from .buyercli import read_until as _read_until
from .test_cli import make_inputs

BIN = Path(sys.executable).parent


class HubProcess:
    def __init__(self, root: Path):
        self.root = root
        self.sock = root / "hub.db.sock"
        self.procs: list[subprocess.Popen] = []
        self.hub: subprocess.Popen | None = None
        self.endpoint = ""

    def start(self, *extra: str) -> None:
        """``cpushare-hub serve`` on the database (``extra``: more of its options)."""
        log = open(self.root / "hub.log", "ab")  # noqa: SIM115 - closed right after the start
        size = (self.root / "hub.log").stat().st_size
        self.hub = subprocess.Popen(
            [str(BIN / "cpushare-hub"), "serve", "--db", str(self.root / "hub.db"),
             "--bind", "tcp://127.0.0.1:0", "--api", f"unix:{self.sock}", *extra],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=_env())
        log.close()
        self.procs.append(self.hub)

        def endpoint():
            m = re.search(rb"serving workers on (tcp://\S+)", (self.root / "hub.log").read_bytes()[size:])
            return m and m[1].decode()
        self.endpoint = wait_for(endpoint, 60, "the hub's endpoint in its log")

    def stop(self) -> None:
        assert self.hub is not None
        self.hub.send_signal(signal.SIGTERM)
        self.hub.wait(60)

    def start_worker(self) -> subprocess.Popen:
        out = open(self.root / "worker.log", "ab")  # noqa: SIM115
        p = subprocess.Popen(
            [str(BIN / "cpushare-worker"), "--hub", self.endpoint, "--hub-key",
             str(self.root / "hub.keys" / "hub.pub"), "--slots", "1", "--grace-s", "1",
             "--cache-dir", str(self.root / "cache"), "--config-dir", str(self.root / "id")],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=_env())
        out.close()
        self.procs.append(p)
        return p

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)


@pytest.fixture
def hub_process(short_tmp):
    h = HubProcess(short_tmp)
    h.start()
    try:
        yield h
    finally:
        h.close()


def test_submit_rides_out_a_hub_restart(hub_process, echo_elf, short_tmp):
    inputs = make_inputs(short_tmp / "in", 6)
    out = short_tmp / "out"
    proc = subprocess.Popen([str(BIN / "cpushare"), "submit", str(echo_elf), *map(str, inputs),
                             "--api", str(hub_process.sock), "--out", str(out)],
                            stderr=subprocess.PIPE, text=True, env=_env())
    try:
        _read_until(proc, "submitted job ")
        _read_until(proc, "waiting: no worker", timeout_s=30)
        hub_process.stop()                      # the buyer's connection drops
        _read_until(proc, "reconnecting", timeout_s=30)
        hub_process.start()                     # same database, same buyer socket
        hub_process.start_worker()
        rest = proc.stderr.read()
        assert proc.wait(180) == 0, rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "all 6 fragments succeeded" in rest
    for p in inputs:
        assert (out / f"{p.name}.out").read_bytes() == p.read_bytes()


def test_a_hub_that_stays_away_ends_submit_with_the_job_id_and_what_to_do(hub_process, echo_elf, short_tmp):
    inputs = make_inputs(short_tmp / "in", 2)
    proc = subprocess.Popen([str(BIN / "cpushare"), "submit", str(echo_elf), *map(str, inputs),
                             "--api", str(hub_process.sock), "--out", str(short_tmp / "out"),
                             "--reconnect-s", "3"],
                            stderr=subprocess.PIPE, text=True, env=_env())
    try:
        head = _read_until(proc, "submitted job ")
        job_id = head.split("submitted job ")[1].split()[0]
        hub_process.stop()
        rest = proc.stderr.read()
        assert proc.wait(120) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert f"lost the hub while following job {job_id}" in rest
    assert f"'cpushare results {job_id} --out {short_tmp / 'out'} --new'" in rest
    assert f"'cpushare cancel {job_id}'" in rest and "Traceback" not in rest


def test_ctrl_c_of_submit_prints_the_job_id_and_how_to_go_on(hub_process, echo_elf, short_tmp):
    inputs = make_inputs(short_tmp / "in", 2)
    proc = subprocess.Popen([str(BIN / "cpushare"), "submit", str(echo_elf), *map(str, inputs),
                             "--api", str(hub_process.sock), "--out", str(short_tmp / "out")],
                            stderr=subprocess.PIPE, text=True, env=_env())
    with running(proc):
        head = _read_until(proc, "submitted job ")
        job_id = head.split("submitted job ")[1].split()[0]
        time.sleep(0.5)
        rest = interrupt(proc)
    assert f"interrupted: job {job_id} keeps running on the hub" in rest
    assert f"'cpushare cancel {job_id}'" in rest
    # and the printed command does continue it
    hub_process.start_worker()
    r = subprocess.run([str(BIN / "cpushare"), "results", job_id, "--out", str(short_tmp / "out"), "--new",
                        "--api", str(hub_process.sock)], capture_output=True, text=True, timeout=180, env=_env())
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(short_tmp / "out")) == ["tile00.txt.out", "tile01.txt.out"]   # the hub's names
