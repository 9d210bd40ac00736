"""Trust with real processes: `cpushare-hub keygen/serve`, `cpushare-worker` subprocesses
running echo.elf in the sandbox against a CURVE hub."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from waiting import wait_for

from cpushare_mq.hub.scheduler import JobSpec
from cpushare_mq.hub.server import Hub, HubConfig
from cpushare_mq.native import find_binary
from cpushare_mq.trust.keys import generate_curve_keypair, load_or_create_worker_identity
from cpushare_mq.trust.zap import write_key_list
from trust.cheaters import cheater_env

BIN = Path(sys.executable).parent
FAST = HubConfig(heartbeat_interval_s=0.2, liveness=10)


@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="", config=FAST,
            insecure=False).start()
    try:
        yield h
    finally:
        h.close()


def start_worker(procs, hub_endpoint, tmp_path, name, *args, env=None) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"{name}.log"
    with open(log, "wb") as out:
        p = subprocess.Popen(
            [str(BIN / "cpushare-worker"), "--hub", hub_endpoint, "--slots", "1", "--name", name,
             "--cache-dir", str(tmp_path / f"cache-{name}"), "--config-dir", str(tmp_path / f"cfg-{name}"),
             "--grace-s", "2", *args],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    procs.append(p)
    return p, log



def alive_names(hub) -> set[str]:
    return {w["name"] for w in hub.status()["workers"] if w["alive"]}


def echo_program() -> bytes:
    return Path(find_binary("examples/echo.elf")).read_bytes()


def test_keygen_and_serve_print_the_public_key(tmp_path):
    out = subprocess.run([str(BIN / "cpushare-hub"), "keygen", "--keys", str(tmp_path / "k")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    pub = (tmp_path / "k" / "hub.pub").read_text().strip()
    assert pub in out.stdout
    assert oct(os.stat(tmp_path / "k" / "hub.key").st_mode & 0o777) == "0o600"
    again = subprocess.run([str(BIN / "cpushare-hub"), "keygen", "--keys", str(tmp_path / "k")],
                           capture_output=True, text=True, timeout=30)
    assert again.returncode != 0 and "already exists" in again.stderr
    os.chmod(tmp_path / "k" / "hub.key", 0o644)
    bad = subprocess.run([str(BIN / "cpushare-hub"), "serve", "--db", str(tmp_path / "h.db"),
                          "--bind", "tcp://127.0.0.1:0", "--api", "", "--keys", str(tmp_path / "k")],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "chmod 600" in bad.stderr
    p = subprocess.Popen([str(BIN / "cpushare-hub"), "serve", "--db", str(tmp_path / "h2.db"),
                          "--bind", "tcp://127.0.0.1:0", "--api", ""],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "hub public key" not in line:
            line = p.stdout.readline()
        key = re.search(r"public key[^:]*: (\S+)", line)
        assert key, line
        # printed quoted for the shell (Z85 has shell metacharacters): what a user pastes
        assert shlex.split(key.group(1)) == [(tmp_path / "h2.keys" / "hub.pub").read_text().strip()]
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(15)


def test_worker_without_the_right_hub_key_cannot_connect(procs, hub, tmp_path):
    wrong = generate_curve_keypair().public.decode()
    start_worker(procs, hub.worker_endpoint, tmp_path, "wrongkey", "--hub-key", wrong)
    _, log_plain = start_worker(procs, hub.worker_endpoint, tmp_path, "nokey")
    _, log_ok = start_worker(procs, hub.worker_endpoint, tmp_path, "right", "--hub-key",
                             str(tmp_path / "hub.keys" / "hub.pub"))
    def logs() -> str:
        return "\n".join(f"--- {n}.log:\n{(tmp_path / f'{n}.log').read_text()}"
                         for n in ("wrongkey", "nokey", "right"))

    wait_for(lambda: "right" in alive_names(hub), 30, "the worker with the right key",
             explain=logs)
    wait_for(lambda: "wrong --hub-key" in (tmp_path / "wrongkey.log").read_text(), 30,
             "the wrong-key worker's handshake failure in its log", explain=logs)
    wait_for(lambda: "hub-key" in log_plain.read_text(), 30,
             "the key-less worker's handshake failure in its log", explain=logs)
    assert alive_names(hub) == {"right"}


def test_worker_not_on_the_allow_list_gets_no_work(procs, tmp_path):
    good, _ = load_or_create_worker_identity(tmp_path / "cfg-good")
    allow = tmp_path / "sellers.txt"
    write_key_list(allow, [good.worker_key])
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api="", config=FAST,
              insecure=False, allow_workers=str(allow)).start()
    try:
        pub = str(tmp_path / "hub.keys" / "hub.pub")
        start_worker(procs, hub.worker_endpoint, tmp_path, "good", "--hub-key", pub)
        start_worker(procs, hub.worker_endpoint, tmp_path, "stranger", "--hub-key", pub)
        wait_for(lambda: "good" in alive_names(hub), 30, "the allow-listed worker")
        data = [b"frag-%d" % i for i in range(20)]
        job = hub.submit_job(JobSpec(program=echo_program(), fragments=data))
        wait_for(lambda: hub.job_progress(job)["state"] != "running", 60, "the job")
        assert hub.job_progress(job)["done"] == 20
        # the stranger may still be starting under load: wait for its refusal, then check
        wait_for(lambda: "allow-list" in (tmp_path / "stranger.log").read_text(), 30,
                   "the stranger's refusal in its log")
        assert alive_names(hub) == {"good"}
    finally:
        hub.close()


def test_cheating_worker_among_honest_ones_k3_m2(procs, hub, tmp_path):
    pub = str(tmp_path / "hub.keys" / "hub.pub")
    # two honest workers and the cheater: each fragment needs 3 distinct workers, so the
    # cheater holds a copy of every fragment
    for i in range(2):
        start_worker(procs, hub.worker_endpoint, tmp_path, f"honest{i}", "--hub-key", pub)
    start_worker(procs, hub.worker_endpoint, tmp_path, "cheater", "--hub-key", pub,
                 env=cheater_env(tmp_path / "liar"))
    wait_for(lambda: len(alive_names(hub)) == 3, 30, "three workers")
    # enough fragments that the cheater gets many copies: it is only caught on a copy whose
    # result comes in before the quorum is reached (later copies are cancelled)
    data = [b"tile-%03d:" % i + bytes(range(i % 50, 60)) for i in range(300)]
    job = hub.submit_job(JobSpec(program=echo_program(), fragments=data, redundancy=3, quorum=2))
    wait_for(lambda: hub.job_progress(job)["state"] != "running", 90, "the job")
    got = {f.index: b"".join(hub.result_chunks(f.fragment_id)) for f in hub.finished(job, 0, 1000)}
    assert got == dict(enumerate(data))          # every accepted result is right
    cheat_key = load_or_create_worker_identity(tmp_path / "cfg-cheater")[0].worker_key
    rep = hub.trust.reputation(cheat_key)
    assert rep["banned"], rep
    assert "cheater" not in alive_names(hub)
    for i in range(2):
        key = load_or_create_worker_identity(tmp_path / f"cfg-honest{i}")[0].worker_key
        assert hub.trust.reputation(key)["strikes"] == 0
