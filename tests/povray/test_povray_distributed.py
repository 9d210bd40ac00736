"""The distributed render: the client in the real sandbox, and povray-server through a hub
and local workers, give exactly the native renderer's bytes -- whatever the tile size,
the worker count, redundancy, or a worker killed along the way."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest
from conftest import render

from cpushare_mq.hub.server import Hub, HubConfig
from cpushare_mq.native import find_binary
from cpushare_mq.outcome import Outcome
from cpushare_mq.povray.cli import _worker_cmd, main, stop_processes
from cpushare_mq.povray.image import compare, read_png
from cpushare_mq.povray.tiles import Tile, cut_tiles, paste
from cpushare_mq.sandbox import Sandbox


def test_client_in_the_sandbox_equals_native(render_bin, client_elf, scenes, tmp_path):
    img = render(render_bin, scenes / "heavy.pov", tmp_path / "h.png", 64, 48,
                 "--dump-scene", str(tmp_path / "h.scene"))
    scene = (tmp_path / "h.scene").read_bytes()
    canvas = bytearray(64 * 48 * 3)
    with Sandbox(client_elf, shared_input=scene) as sb:
        for tile in cut_tiles(64, 48, 20):
            chunks: list[bytes] = []
            rec = sb.run(tile.encode(), on_chunk=chunks.append)
            assert rec.outcome is Outcome.OK, rec
            paste(canvas, 64, tile, b"".join(chunks))
        bad = sb.run(b"TILE" + bytes(28))
        assert bad.outcome is Outcome.FRAGMENT_ERROR and "version" in bad.message
        again = sb.run(Tile(64, 48, 0, 0, 2, 2).encode())  # a fresh process after 'X'
        assert again.outcome is Outcome.OK
    assert bytes(canvas) == img.rgb


@pytest.mark.parametrize("name, tile, workers", [("simple", "16", "1"), ("medium", "32", "2"),
                                                 ("heavy", "64", "2")])
def test_distributed_render_matches_povray_and_native(render_bin, scenes, tmp_path, name,
                                                       tile, workers, capsys):
    out = tmp_path / f"{name}.png"
    rc = main(["render", str(scenes / f"{name}.pov"), "-W", "640", "-H", "480", "-o", str(out),
               "--tile", tile, "--workers", workers, "--no-progress"])
    assert rc == 0, capsys.readouterr()
    out_text = capsys.readouterr().out
    assert "failed 0" in out_text and f"workers:    {workers} local" in out_text
    img = read_png(out)
    cmp = compare(img, read_png(scenes / "ref" / f"{name}.png"))
    assert cmp.psnr_db >= 50.0 and cmp.max_diff <= 2, cmp.summary()
    native = render(render_bin, scenes / f"{name}.pov", tmp_path / "native.png", 640, 480)
    assert img.rgb == native.rgb


@pytest.fixture
def hub_and_workers(tmp_path):
    hub = Hub(tmp_path / "hub.db", bind="tcp://127.0.0.1:0", api=None, config=HubConfig(),
              insecure=True)
    hub.start()
    workers: list[subprocess.Popen] = []
    try:
        for i in range(2):
            cache = tmp_path / f"w{i}"
            cache.mkdir()
            workers.append(subprocess.Popen(_worker_cmd(hub.worker_endpoint, cache),
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, start_new_session=True))
        yield hub, workers
    finally:
        stop_processes(workers)
        hub.stop()


def server_cmd(scene, out, hub, *extra):
    return [str(find_binary("povray-server")), str(scene), "-W", "320", "-H", "240", "-o",
            str(out), "--api", str(hub.api_address), *extra]


def test_worker_killed_mid_render(render_bin, scenes, tmp_path, hub_and_workers):
    hub, workers = hub_and_workers
    out = tmp_path / "dist.png"
    proc = subprocess.Popen(server_cmd(scenes / "heavy.pov", out, hub, "--tile", "8"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed_at = None
    try:
        for line in proc.stderr:
            if line.startswith("progress ") and killed_at is None:
                done, total = map(int, line.split()[1].split("/"))
                if done >= 50:
                    os.killpg(workers[0].pid, signal.SIGKILL)  # the worker and its sandboxes
                    killed_at = (done, total)
        rc = proc.wait(timeout=100)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert killed_at is not None and killed_at[0] < killed_at[1], "worker not killed mid-run"
    assert rc == 0, proc.stdout.read()
    native = render(render_bin, scenes / "heavy.pov", tmp_path / "native.png", 320, 240)
    assert read_png(out).rgb == native.rgb


def test_redundancy_two_through_the_cli_with_hub(render_bin, scenes, tmp_path, hub_and_workers,
                                                 capsys):
    hub, _ = hub_and_workers
    out = tmp_path / "r2.png"
    rc = main(["render", str(scenes / "medium.pov"), "-W", "320", "-H", "240", "-o", str(out),
               "--tile", "40", "--redundancy", "2", "--api", str(hub.api_address),
               "--no-progress"])
    assert rc == 0, capsys.readouterr()
    assert "done 48, failed 0" in capsys.readouterr().out
    native = render(render_bin, scenes / "medium.pov", tmp_path / "native.png", 320, 240)
    assert read_png(out).rgb == native.rgb


def test_bad_scene_and_missing_hub_are_clear_errors(scenes, tmp_path):
    bad = tmp_path / "bad.pov"
    bad.write_text("ovus { 1, 0.5 }\n")
    proc = subprocess.run([str(find_binary("povray-server")), str(bad), "-W", "8", "-H", "8",
                           "-o", str(tmp_path / "o.png"), "--api", str(tmp_path / "none.sock")],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "bad.pov:1: unsupported word 'ovus'" in proc.stderr
    proc = subprocess.run([str(find_binary("povray-server")), str(scenes / "simple.pov"), "-W",
                           "8", "-H", "8", "-o", str(tmp_path / "o.png"), "--api",
                           str(tmp_path / "none.sock")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "cannot connect to the hub" in proc.stderr
    assert not (tmp_path / "o.png").exists()


def test_cli_compare_and_errors(scenes, tmp_path, capsys):
    ref = scenes / "ref" / "simple.png"
    assert main(["compare", str(ref), str(ref), "--min-psnr", "50", "--max-diff", "0"]) == 0
    assert "PSNR inf dB" in capsys.readouterr().out
    assert main(["compare", str(ref), str(scenes / "ref" / "medium.png"), "--min-psnr", "50"]) == 1
    assert main(["render", str(tmp_path / "nope.pov"), "-W", "8", "-H", "8", "-o",
                 str(tmp_path / "o.png")]) == 1
    assert "not found" in capsys.readouterr().err
    assert main(["render", str(scenes / "simple.pov"), "-W", "0", "-H", "8", "-o", "o.png"]) == 2   # a bad command line: 2


def test_cli_help_has_examples():
    proc = subprocess.run([sys.executable, "-c", "from cpushare_mq.povray.cli import main; main()",
                           "render", "--help"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "examples:" in proc.stdout


def test_hub_restarted_mid_render(render_bin, scenes, tmp_path):
    """povray-server reconnects to a restarted hub (same database and sockets), re-attaches
    to its job and still writes the native render's exact bytes."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        bind = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    hubs = [Hub(tmp_path / "hub.db", bind=bind, api=None, config=HubConfig(), insecure=True)]
    hubs[0].start()
    workers: list[subprocess.Popen] = []
    proc = None
    try:
        for i in range(2):
            (tmp_path / f"w{i}").mkdir()
            workers.append(subprocess.Popen(_worker_cmd(hubs[0].worker_endpoint, tmp_path / f"w{i}"),
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, start_new_session=True))
        out = tmp_path / "dist.png"
        proc = subprocess.Popen(server_cmd(scenes / "heavy.pov", out, hubs[0], "--tile", "8"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        restarted_at = None
        messages = []
        for line in proc.stderr:
            if line.startswith("progress "):
                done, total = map(int, line.split()[1].split("/"))
                if restarted_at is None and done >= 100:
                    hubs[0].stop()
                    hubs.append(Hub(tmp_path / "hub.db", bind=bind, api=None,
                                    config=HubConfig(), insecure=True))
                    hubs[-1].start()
                    restarted_at = (done, total)
            else:
                messages.append(line)
        rc = proc.wait(timeout=100)
        assert restarted_at is not None and restarted_at[0] < restarted_at[1]
        assert rc == 0, "".join(messages)
        assert any("reconnected" in m for m in messages), messages
        native = render(render_bin, scenes / "heavy.pov", tmp_path / "native.png", 320, 240)
        assert read_png(out).rgb == native.rgb
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        stop_processes(workers)
        for h in hubs:
            h.stop()
