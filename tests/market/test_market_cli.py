"""The market's command lines: ``cpushare-market serve`` and ``cpushare-hub serve --market``
refuse bad options with one line naming what to fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import zmq

BIN = Path(sys.executable).parent
KEY = zmq.curve_keypair()[0].decode()


def run(tmp_path, *argv):
    return subprocess.run([str(BIN / argv[0]), *argv[1:]], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env={"PATH": "/usr/bin:/bin",
                                                         "HOME": str(tmp_path)})


@pytest.mark.parametrize("extra, says", [
    (["--market", "tcp://127.0.0.1:1"], "--market needs --market-key"),
    (["--market", "tcp://127.0.0.1:1", f"--market-key={KEY}"], "--market needs --price"),
    (["--market", "tcp://127.0.0.1:1", f"--market-key={KEY}", "--price", "cheap"],
     "price must be a non-negative decimal"),
    (["--market", "tcp://127.0.0.1:1", f"--market-key={KEY}", "--price", "1", "--bind",
      "tcp://0.0.0.0:0"], "give --advertise tcp://HOST:PORT"),
    (["--market", "tcp://127.0.0.1:1", f"--market-key={KEY}", "--price", "1", "--insecure"],
     "drop --insecure"),
    (["--market", "market.example:1", f"--market-key={KEY}", "--price", "1"],
     "must look like tcp://HOST:PORT"),
    (["--market-key", "x"], "--market-key and --advertise go with --market"),
])
def test_hub_market_options_refused_with_one_line(tmp_path, extra, says):
    r = run(tmp_path, "cpushare-hub", "serve", "--db", "hub.db", "--api", "",
            "--bind", "tcp://127.0.0.1:0", *extra)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "cpushare-hub:" in ln]
    assert len(lines) == 1 and says in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_market_serve_refuses_a_bad_bind_and_documents_itself(tmp_path):
    r = run(tmp_path, "cpushare-market", "serve", "--db", "m.db", "--bind", "tcp://nowhere:x")
    assert r.returncode == 2 and "cannot bind the market to tcp://nowhere:x" in r.stderr
    assert "Traceback" not in r.stderr
    r = run(tmp_path, "cpushare-market", "serve", "--help")
    assert r.returncode == 0 and "examples:" in r.stdout and "--min-price" in r.stdout
