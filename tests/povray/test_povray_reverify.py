"""povray-server and re-verification: tiles first rendered by a cheating worker are re-run
once it is caught; povray-server receives them again, overwrites them, counts each tile once
and still writes the native renderer's exact bytes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import render
from trust.cheaters import cheater_env

from cpushare_mq.hub.server import Hub, HubConfig
from cpushare_mq.native import find_binary
from cpushare_mq.povray.image import read_png
from cpushare_mq.trust.hubside import HubTrust

BIN = Path(sys.executable).parent


@pytest.fixture
def secure_hub(tmp_path):
    trust = HubTrust(tmp_path / "hub.db", insecure=False, seed=11)
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api=str(tmp_path / "hub.sock"),
              config=HubConfig(heartbeat_interval_s=0.2, liveness=10), insecure=False,
              trust=trust).start()
    procs: list[subprocess.Popen] = []
    try:
        yield hub, procs
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
        for p in procs:
            p.wait(10)
        hub.close()


def _worker(hub, tmp_path, name: str, cheat: bool) -> subprocess.Popen:
    # the cheater is slow (20 ms a tile): alone it could not finish the job before the honest
    # workers are up, however fast this machine is
    env = cheater_env(tmp_path / "liar", delay_s=0.02) if cheat else dict(os.environ)
    return subprocess.Popen(
        [str(BIN / "cpushare-worker"), "--hub", hub.worker_endpoint, "--hub-key",
         str(tmp_path / "hub.keys" / "hub.pub"), "--slots", "1", "--nice", "0", "--name", name,
         "--cache-dir", str(tmp_path / f"cache-{name}"), "--config-dir", str(tmp_path / f"cfg-{name}")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env, start_new_session=True)


def test_povray_server_overwrites_corrected_tiles(render_bin, scenes, tmp_path, secure_hub):
    hub, procs = secure_hub
    procs.append(_worker(hub, tmp_path, "cheater", cheat=True))   # alone: nothing is checked
    out = tmp_path / "dist.png"
    proc = subprocess.Popen(
        [str(find_binary("povray-server")), str(scenes / "heavy.pov"), "-W", "320", "-H", "240",
         "-o", str(out), "--api", str(hub.api_address), "--tile", "8"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    corrected, messages, progress = [], [], []
    try:
        honest_at = None
        for line in proc.stderr:
            if line.startswith("progress "):
                done, total = map(int, line.split()[1].split("/"))
                progress.append((done, total))
                if honest_at is None and done >= 20:
                    honest_at = done
                    for i in range(2):
                        procs.append(_worker(hub, tmp_path, f"honest{i}", cheat=False))
            elif "corrected by re-verification" in line:
                corrected.append(line)
            else:
                messages.append(line)
        rc = proc.wait(timeout=100)
        summary = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert honest_at is not None and rc == 0, "".join(messages) + summary
    assert corrected, "no tile was corrected"
    assert all(done <= total for done, total in progress)       # each tile counted once
    assert "done 1200, failed 0, missing 0" in summary
    native = render(render_bin, scenes / "heavy.pov", tmp_path / "native.png", 320, 240)
    assert read_png(out).rgb == native.rgb
    assert hub.reverify_stats["corrected"] >= len(corrected)
