"""Issue 14, item 8: with ``--api tcp://127.0.0.1:P`` only clients that present the hub's
token (a 0600 file beside the database) may use the buyer API; any other local connection
gets one ERROR line and nothing else, while the CLI, the Python client and the C client with
the token work, and honest workers finish meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hubproc import HubProcess, honest_worker_finishes, seed_job, start_attack, stop_attack

from cpushare_mq.buyer_token import token_refusal
from cpushare_mq.client import Client, HubRefused
from cpushare_mq.native import find_binary

BIN = Path(sys.executable).parent
RSS_LIMIT = 200 << 20
NOBODY = 65534


def test_the_rule():
    assert token_refusal("ab" * 32, "ab" * 32, "F") is None
    assert "none was given" in token_refusal("ab" * 32, "", "F")
    assert "wrong buyer API token" in token_refusal("ab" * 32, "ab" * 31 + "ac", "F")
    assert "wrong" in token_refusal("ab" * 32, "ab", "F")
    assert "wrong" in token_refusal("ab" * 32, "é" * 64, "F")


def _status(api: str, *extra: str, env: dict | None = None):
    return subprocess.run([str(BIN / "cpushare"), "status", "--api", api, *extra],
                          capture_output=True, text=True, timeout=60, env=env)


def test_tcp_buyer_api_needs_the_token(tmp_path):
    job = seed_job(tmp_path / "hub.db", 40)
    hub = HubProcess(tmp_path, insecure=True, api="tcp://127.0.0.1:0")
    token = Path(f"{hub.db}.api-token")
    attack = None
    try:
        assert token.stat().st_mode & 0o777 == 0o600
        attack = start_attack("buyer-without-token", hub, hub.api, wait_started=True,
                              until_stopped=True)
        peak = honest_worker_finishes(hub, 40)      # while the refused tries go on
        assert stop_attack(attack) == 0, hub.log.read_text()[-3000:]
        assert "refused" in attack.stdout.readline()
        peak = max(peak, hub.peak_rss)
        assert hub.alive(), hub.log.read_text()[-2000:]
        assert peak < RSS_LIMIT, f"hub RSS reached {peak >> 20} MiB"

        # the CLI: without the token one line naming the file, with it (flag or env) it works
        no = _status(hub.api)
        assert no.returncode == 1
        lines = no.stderr.strip().splitlines()
        assert len(lines) == 1 and "unauthorized" in lines[0] and str(token) in lines[0], no.stderr
        ok = _status(hub.api, "--api-token", str(token))
        assert ok.returncode == 0 and "jobs (1)" in ok.stdout, ok.stderr
        env = {**os.environ, "CPUSHARE_API_TOKEN": str(token)}
        assert _status(hub.api, env=env).returncode == 0
        wrong = tmp_path / "wrong-token"
        wrong.write_text("0" * 64 + "\n")
        bad = _status(hub.api, "--api-token", str(wrong))
        assert bad.returncode == 1 and "wrong buyer API token" in bad.stderr, bad.stderr

        # the Python client
        with pytest.raises(HubRefused, match="none was given"):
            Client(hub.api)
        with Client(hub.api, token_file=token) as c:
            assert c.status()["jobs"]

        # the C client (povray-server's): $CPUSHARE_API_TOKEN names the file
        c_cmd = [str(find_binary("buyer-test")), "-a", hub.api, "-j", job]
        c_no = subprocess.run(c_cmd, capture_output=True, text=True, timeout=60)
        assert c_no.returncode == 1 and "none was given" in c_no.stderr, c_no.stderr
        c_ok = subprocess.run(c_cmd, capture_output=True, text=True, timeout=60, env=env)
        assert c_ok.returncode == 0 and c_ok.stdout.count(" ok ") == 40, c_ok.stderr

        # another local user cannot read the token file
        if os.getuid() == 0:
            other = subprocess.run(["cat", str(token)], capture_output=True, text=True,
                                   timeout=60, user=NOBODY)
            assert other.returncode != 0 and "Permission denied" in other.stderr, other
        assert hub.alive()
    finally:
        if attack is not None and attack.poll() is None:
            attack.kill()
            attack.wait()
        hub.stop()


def test_a_loose_token_file_is_refused(tmp_path):
    token = Path(f"{tmp_path / 'hub.db'}.api-token")
    token.write_text("ab" * 32 + "\n")
    token.chmod(0o644)
    r = subprocess.run([str(BIN / "cpushare-hub"), "serve", "--db", str(tmp_path / "hub.db"),
                        "--bind", "tcp://127.0.0.1:0", "--api", "tcp://127.0.0.1:0", "--insecure"],
                       capture_output=True, text=True, timeout=60)
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("cpushare-hub:")]
    assert r.returncode == 1 and len(lines) == 1, r.stderr
    assert "chmod 600" in lines[0] and str(token) in lines[0], r.stderr
