"""The C library's programs as jobs, end to end from the command line a buyer and two sellers
type: `cpushare-cc`, `cpushare-hub serve` (keys on), two `cpushare-worker`s given the hub's
public key, `cpushare submit --redundancy 2` (every fragment runs on both workers, whose
answers must agree bit for bit)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from .conftest import PROGS, args_fragment

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A keyed hub and two workers, as processes; everything killed at the end."""

    def __init__(self, root: Path):
        self.root = root
        self.procs: list[subprocess.Popen] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CPUSHARE_")
                    or k == "CPUSHARE_NATIVE_DIR"}
        port = free_port()
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self.db = root / "hub.db"
        self.api = f"{self.db}.sock"
        self._spawn("hub", [str(BIN / "cpushare-hub"), "serve", "--db", str(self.db),
                            "--bind", self.endpoint])
        pub = root / "hub.keys" / "hub.pub"
        self._wait(lambda: pub.is_file() and Path(self.api).exists(), "the hub to start")
        for name in ("A", "B"):
            self._spawn(name, [str(BIN / "cpushare-worker"), "--hub", self.endpoint,
                               "--hub-key", str(pub), "--slots", "1", "--name", name,
                               "--cache-dir", str(root / f"cache-{name}"),
                               "--config-dir", str(root / f"cfg-{name}")])

    def _spawn(self, name: str, argv: list[str]) -> None:
        with open(self.root / f"{name}.log", "wb") as log:
            self.procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                               env=self.env))

    def _wait(self, cond, what: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while not cond():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.1)

    def submit(self, program: Path, inputs: list[Path], out: Path, *extra: str):
        return subprocess.run([str(BIN / "cpushare"), "submit", str(program), *map(str, inputs),
                               "--api", self.api, "--out", str(out), "--redundancy", "2", "-q",
                               *extra], capture_output=True, text=True, timeout=300,
                              env=self.env)

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


@pytest.fixture
def cluster():
    root = Path(tempfile.mkdtemp(prefix="cpl-"))  # short: the buyer socket is a Unix path
    c = Cluster(root)
    try:
        yield c
    finally:
        c.close()
        shutil.rmtree(root, ignore_errors=True)


def write_inputs(d: Path, blobs: list[bytes]) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, b in enumerate(blobs):
        p = d / f"in{i}"
        p.write_bytes(b)
        paths.append(p)
    return paths


def results(out: Path, inputs: list[Path]) -> list[bytes]:
    return [(out / f"{p.name}.out").read_bytes() for p in inputs]


def test_zlib_and_lua_jobs_through_a_keyed_hub_and_two_workers(cluster, ports):
    root = cluster.root
    # zlib: compress random-ish data per fragment; byte-identical to zpipe built natively
    blobs = [os.urandom(3000) + b"text %d " % i * 500 for i in range(6)]
    zin = write_inputs(root / "zin", blobs)
    r = cluster.submit(ports / "zpipe.elf", zin, root / "zout")
    assert r.returncode == 0, r.stderr
    native = [subprocess.run([str(ports / "zpipe.native")], input=b, capture_output=True,
                             timeout=60).stdout for b in blobs]
    assert results(root / "zout", zin) == native
    # Lua: the shared input is the script, each fragment its arguments
    script = root / "job.lua"
    script.write_text("local n = tonumber(...)\nlocal s = 0\n"
                      "for i = 1, n do s = s + math.sqrt(i) end\n"
                      "print(string.format('%d %.17g %a', n, s, s))\n")
    lin = write_inputs(root / "lin", [args_fragment("/cpushare/shared", str(n))
                                      for n in (10, 1000, 100000)])
    r = cluster.submit(ports / "lua.elf", lin, root / "lout", "--shared", str(script))
    assert r.returncode == 0, r.stderr
    expected = [subprocess.run([str(ports / "lua.native"), str(script), str(n)],
                               capture_output=True, timeout=60).stdout for n in (10, 1000, 100000)]
    assert results(root / "lout", lin) == expected


def test_plain_c_program_in_three_commands(cluster):
    """docs/sandbox.md's worked example: cpushare-cc, then submit; a failing fragment is
    reported with its exit status and stderr."""
    root = cluster.root
    elf = root / "wordcount.elf"
    r = subprocess.run([str(BIN / "cpushare-cc"), "-O2", "-o", str(elf),
                        str(PROGS / "wordcount.c")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    inputs = write_inputs(root / "win", [b"the quick brown fox\njumps over\n", b"one"])
    r = cluster.submit(elf, inputs, root / "wout")
    assert r.returncode == 0, r.stderr
    assert results(root / "wout", inputs) == [b"lines 2 words 6 longest 5 (quick)\n",
                                              b"lines 0 words 1 longest 3 (one)\n"]
    bad = write_inputs(root / "bad", [b""])
    r = cluster.submit(elf, bad, root / "badout", "--max-attempts", "1")
    assert r.returncode != 0
    assert "exit status 1: empty input" in r.stderr + r.stdout
