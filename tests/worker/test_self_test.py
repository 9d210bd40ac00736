"""The worker checks its own sandbox before it takes work (issue 13, part 2).

Broken sandboxes are made with the real override a user has, ``CPUSHARE_NATIVE_DIR``: a
directory whose ``cpushare-loader`` crashes, or one whose "loader" runs the probe program's
protocol without any confinement (a forbidden system call is not killed) or answers wrong.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zmq

from cpushare_mq.sandbox.probe import expected_answer

REPO = Path(__file__).resolve().parents[2]
WORKER = [sys.executable, "-m", "cpushare_mq.worker.cli"]
TIMEOUT_S = 60

# A "loader" that starts no sandbox at all: it reports "started" on the status fd and then
# speaks ABI v1 itself, answering the probe's known fragment (right or wrong) and answering
# the forbidden system call fragment instead of being killed.
FAKE_LOADER = '''#!{python}
import os, struct, sys
sys.path.insert(0, {repo!r})
from cpushare_mq.sandbox.probe import expected_answer
WRONG = {wrong!r}
argv = sys.argv
os.write(int(argv[argv.index("--status-fd") + 1]), b"R")
os.close(int(argv[argv.index("--status-fd") + 1]))
def read(n):
    b = b""
    while len(b) < n:
        c = os.read(0, n - len(b))
        if not c:
            sys.exit(0)
        b += c
    return b
def frame():
    n, kind = struct.unpack("<IB", read(5))
    return kind, read(n)
def send(kind, payload=b""):
    os.write(1, struct.pack("<IB", len(payload), ord(kind)) + payload)
_, shared = frame()
while True:
    _, frag = frame()
    if frag == b"syscall":
        send("X", b"getpid returned")
        continue
    answer = expected_answer(shared, frag)
    send("D", answer[::-1] if WRONG else answer)
    send("E")
'''


def crashing_loader_dir(tmp_path: Path) -> Path:
    d = tmp_path / "crashing-native"
    d.mkdir()
    loader = d / "cpushare-loader"
    loader.write_text("#!/bin/sh\nkill -SEGV $$\n")
    loader.chmod(0o755)
    return d


def fake_loader_dir(tmp_path: Path, *, wrong: bool) -> Path:
    d = tmp_path / ("wrong-native" if wrong else "unconfined-native")
    d.mkdir()
    loader = d / "cpushare-loader"
    loader.write_text(FAKE_LOADER.format(python=sys.executable, repo=str(REPO), wrong=wrong))
    loader.chmod(0o755)
    return d


def run_worker(args: list[str], native_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if native_dir is not None:
        env["CPUSHARE_NATIVE_DIR"] = str(native_dir)
    return subprocess.run(WORKER + args, capture_output=True, text=True, env=env,
                          timeout=TIMEOUT_S, cwd=REPO)


def test_expected_answer_is_what_the_probe_program_computes():
    # reversed fragment, FNV-1a 64 of shared + fragment (published vector for "a"),
    # sqrt(len + 2) as a little-endian double
    got = expected_answer(b"", b"a")
    assert got[:1] == b"a"
    assert got[1:9] == (0xaf63dc4c8601ec8c).to_bytes(8, "little")
    assert struct.unpack("<d", got[9:]) == (3.0 ** 0.5,)
    assert expected_answer(b"ab", b"xyz")[:3] == b"zyx"


def test_self_test_passes_and_reports_the_machine():
    proc = run_worker(["--self-test"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for label in ("cpu:", "xsave:", "kernel:", "seccomp:", "cold start:"):
        assert label in out
    assert "bytes restored" in out                       # the XSAVE size from CPUID 0xD
    assert "pass  known answer" in out
    assert "pass  forbidden system call: forbidden_syscall" in out
    assert out.rstrip().endswith("pass: this machine can run sandboxed programs")


def test_self_test_with_a_crashing_loader_fails(tmp_path):
    proc = run_worker(["--self-test"], crashing_loader_dir(tmp_path))
    assert proc.returncode == 1
    assert "FAIL" in proc.stdout and "signal 11" in proc.stdout


def test_worker_with_a_crashing_loader_refuses_to_start_and_never_joins(tmp_path):
    ctx = zmq.Context.instance()
    router = ctx.socket(zmq.ROUTER)
    router.linger = 0
    port = router.bind_to_random_port("tcp://127.0.0.1")
    try:
        t0 = time.monotonic()
        proc = run_worker(["--hub", f"tcp://127.0.0.1:{port}"], crashing_loader_dir(tmp_path))
        assert time.monotonic() - t0 < TIMEOUT_S
        assert proc.returncode == 1
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        line = lines[0]
        assert line.startswith("cpushare-worker: the sandbox self-test failed: ")
        assert "the loader ended (signal 11) without starting the program" in line
        assert "crashing-native/cpushare-loader" in line      # names the loader it used
        assert "--self-test" in line                           # ... and what to do
        assert router.poll(200) == 0, "the worker talked to the hub"
    finally:
        router.close()


@pytest.mark.parametrize("wrong,cause", [
    (False, "a forbidden system call was not killed (outcome fragment_error)"),
    (True, "the probe program gave a wrong answer"),
])
def test_worker_refuses_an_unconfined_or_wrong_sandbox(tmp_path, wrong, cause):
    native = fake_loader_dir(tmp_path, wrong=wrong)
    proc = run_worker(["--hub", "tcp://127.0.0.1:9"], native)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and cause in lines[0], proc.stderr
    report = run_worker(["--self-test"], native)
    assert report.returncode == 1 and "FAIL" in report.stdout


def test_povray_render_with_crashing_local_workers_ends_quickly(tmp_path):
    scene = REPO / "tests" / "data" / "scenes" / "simple.pov"
    env = dict(os.environ, CPUSHARE_NATIVE_DIR=str(crashing_loader_dir(tmp_path)))
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "cpushare_mq.povray.cli", "render", str(scene), "-W", "64",
         "-H", "48", "-o", str(tmp_path / "out.png"), "--workers", "2", "--no-progress"],
        capture_output=True, text=True, env=env, timeout=TIMEOUT_S, cwd=REPO)
    assert time.monotonic() - t0 < 30
    assert proc.returncode != 0
    assert "every local worker stopped" in proc.stderr
    assert "the sandbox self-test failed: the loader ended (signal 11)" in proc.stderr
    assert not (tmp_path / "out.png").exists()
