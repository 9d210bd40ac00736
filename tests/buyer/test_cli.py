"""The `cpushare` command as a user types it (subprocesses against a real hub + worker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cpushare_mq.cli import ProgressBar, format_status, main
from cpushare_mq.native import find_binary
from cpushare_mq.printable import printable

CPUSHARE = str(Path(sys.executable).parent / "cpushare")


def run(*args, env_hub=None, timeout=90):
    env = {k: v for k, v in os.environ.items() if k != "CPUSHARE_API"}
    if env_hub:
        env["CPUSHARE_API"] = env_hub
    return subprocess.run([CPUSHARE, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def make_inputs(d: Path, n: int) -> list[Path]:
    d.mkdir()
    out = []
    for i in range(n):
        p = d / f"tile{i:02d}.txt"
        p.write_bytes(f"tile {i} ".encode() * (i + 1))
        out.append(p)
    return out


def test_submit_writes_each_result_and_exits_0(real_hub, worker, echo_elf, short_tmp):
    inputs = make_inputs(short_tmp / "in", 12)
    out = short_tmp / "out"
    r = run("submit", echo_elf, *inputs, "--api", real_hub.api_address, "--out", out, "--name", "cli-test")
    assert r.returncode == 0, r.stderr
    for p in inputs:
        assert (out / f"{p.name}.out").read_bytes() == p.read_bytes()
    assert sorted(os.listdir(out)) == sorted(f"{p.name}.out" for p in inputs)   # no temp files left
    assert "submitted job j-" in r.stderr
    assert "12 done, 0 failed / 12" in r.stderr          # the progress bar's last line
    assert "ETA" in r.stderr and "/s" in r.stderr

    job_id = r.stderr.split("submitted job ")[1].split()[0]
    st = run("status", "--json", env_hub=real_hub.api_address)   # $CPUSHARE_API instead of --api
    assert st.returncode == 0, st.stderr
    data = json.loads(st.stdout)
    job = next(j for j in data["jobs"] if j["job_id"] == job_id)
    assert (job["name"], job["done"], job["failed"], job["total"]) == ("cli-test", 12, 0, 12)
    assert data["workers"][0]["alive"] is True and data["workers"][0]["slots"] == 2

    table = run("status", "--api", real_hub.api_address)
    assert table.returncode == 0 and job_id in table.stdout and "workers (1)" in table.stdout

    again = short_tmp / "again"
    rr = run("results", job_id, "--api", real_hub.api_address, "--out", again)
    assert rr.returncode == 0, rr.stderr
    # the hub kept each fragment's name: the same file names as submit wrote
    assert sorted(os.listdir(again)) == sorted(f"{p.name}.out" for p in inputs)
    for p in inputs:
        assert (again / f"{p.name}.out").read_bytes() == p.read_bytes()


def test_submit_reports_failures_with_reasons_and_exits_1(real_hub, worker, short_tmp):
    spin = find_binary("examples/spin.elf")     # a 1..7-byte fragment is answered as invalid
    d = short_tmp / "in"
    d.mkdir()
    (d / "good.bin").write_bytes((1000).to_bytes(8, "little") + b"tag")
    (d / "bad.bin").write_bytes(b"abc")
    r = run("submit", spin, d / "good.bin", d / "bad.bin", "--api", real_hub.api_address, "--out", short_tmp / "out")
    assert r.returncode == 1, r.stderr
    assert "1 of 2 fragments failed (1 succeeded" in r.stderr
    assert "bad.bin (fragment 1): " in r.stderr and "all 2 fragments succeeded" not in r.stderr
    assert (short_tmp / "out" / "good.bin.out").exists() and not (short_tmp / "out" / "bad.bin.out").exists()


def test_submit_refuses_a_script_before_sending(real_hub, short_tmp):
    inputs = make_inputs(short_tmp / "in", 2)
    bad = short_tmp / "bad.elf"
    bad.write_bytes(b"#!/bin/sh\necho not an ELF\n")
    r = run("submit", bad, *inputs, "--api", real_hub.api_address, "--out", short_tmp / "out")
    assert r.returncode == 2
    assert "a script ('#!/bin/sh')" in r.stderr and "cpushare-cc" in r.stderr and "not submitted" in r.stderr
    assert real_hub.status()["jobs"] == []


def test_cancel_and_unknown_job(real_hub, echo_elf, short_tmp):
    from cpushare_mq.hub.api import client_for

    with client_for(real_hub) as c:
        job = c.submit(echo_elf, [b"x"])     # no worker: stays pending
    r = run("cancel", job.id, "--api", real_hub.api_address)
    assert r.returncode == 0 and f"cancelled job {job.id}" in r.stdout
    assert real_hub.job_progress(job.id)["state"] == "cancelled"
    r = run("cancel", job.id, "--api", real_hub.api_address)       # again: it says so
    assert r.returncode == 3 and "had already ended (cancelled" in r.stdout
    r = run("cancel", "j-nope", "--api", real_hub.api_address)
    assert r.returncode == 1 and "unknown job" in r.stderr


def test_command_line_errors_are_clear(short_tmp, echo_elf):
    r = run("status")
    assert r.returncode == 2 and "CPUSHARE_API" in r.stderr
    r = run("status", "--api", short_tmp / "no-hub.sock")
    assert r.returncode == 1 and "is the hub running" in r.stderr
    (short_tmp / "a").mkdir()
    (short_tmp / "b").mkdir()
    (short_tmp / "a" / "x").write_bytes(b"1")
    (short_tmp / "b" / "x").write_bytes(b"2")
    r = run("submit", echo_elf, short_tmp / "a" / "x", short_tmp / "b" / "x", "--api", "h.sock", "--out", short_tmp)
    assert r.returncode == 2 and "same file name" in r.stderr
    r = run("submit", echo_elf, short_tmp / "missing", "--api", "h.sock", "--out", short_tmp)
    assert r.returncode == 2 and "cannot read input" in r.stderr
    r = run("submit", echo_elf, short_tmp / "a" / "x", "--api", "h.sock", "--out", short_tmp,
            "--redundancy", "2", "--quorum", "3")
    assert r.returncode == 2 and "--quorum 3" in r.stderr


def test_help_has_examples(capsys):
    for argv in (["--help"], ["submit", "--help"], ["status", "--help"], ["results", "--help"]):
        try:
            main(argv)
        except SystemExit as exc:
            assert exc.code == 0
        assert "example" in capsys.readouterr().out


def test_progress_bar_and_status_table_text():
    import io

    s = io.StringIO()
    bar = ProgressBar(10, s)
    bar.done, bar.failed = 3, 1
    bar.update(force=True)
    line = s.getvalue()
    assert "3 done, 1 failed / 10" in line and "ETA" in line and "/s" in line
    text = format_status({"jobs": [{"job_id": "j-1", "name": "n", "state": "running", "total": 5, "pending": 1,
                                    "leased": 2, "voting": 0, "done": 1, "failed": 1}],
                          "workers": [{"worker_id": "w-1", "name": "box", "slots": 4, "busy": 2, "paused": True,
                                       "alive": True, "last_seen_s": 0.4, "done": 9, "failed": 0}],
                          "throughput_per_s": 3.25})
    assert "j-1" in text and "2/4" in text and "3.2 fragments/s" in text and "yes" in text


@pytest.mark.parametrize("text", ["[/L?3?}rRWILq6sTlZ]", "[bold]x[/bold]", "[", "a]b[/",
                                  "box\x1b[2J\x1b]0;pwned\x07\n"])
def test_names_keys_and_reasons_are_shown_as_written_never_as_markup(text):
    """Job names, worker ids and names, seller keys and reasons come from buyers, sellers and
    peers; a Z85 CURVE key may hold '[/' (a real key crashed 'cpushare status' with rich's
    MarkupError). Each is printed as written, in the tables and in the progress line, its
    control characters escaped (an escape sequence would clear or retitle the terminal)."""
    import io

    st = {"jobs": [{"job_id": "j-1", "name": text, "state": "running", "total": 5, "pending": 1,
                    "leased": 2, "voting": 0, "done": 1, "failed": 1, "waiting": text}],
          "workers": [{"worker_id": text, "name": text, "slots": 4, "busy": 2, "paused": False,
                       "alive": True, "last_seen_s": 0.4, "done": 9, "failed": 0, "held": text}],
          "sellers": [{"key": text, "tier": "new", "strikes": 3, "verified": 1, "banned": True,
                       "reason": text}],
          "throughput_per_s": 1.0}
    shown, text = format_status(st), printable(text)
    assert shown.count(text) >= 6 and "\x1b" not in shown, shown

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    bar = ProgressBar(10, out)
    bar.done, bar.waiting = 3, text
    bar.update(force=True)
    bar.finish()
    assert text in out.getvalue() and "\x1b]0;" not in out.getvalue()


def test_the_buyer_api_flag_is_api_everywhere_and_the_old_hub_flag_says_so(short_tmp):
    """--api is the hub's buyer API on every buyer command (as in 'cpushare-hub serve --api');
    --hub belongs to cpushare-worker alone. The old buyer --hub and $CPUSHARE_HUB say so."""
    r = run("status", "--hub", short_tmp / "h.sock")
    assert r.returncode == 2 and "--hub was renamed --api" in r.stderr
    env = {**{k: v for k, v in os.environ.items() if k != "CPUSHARE_API"}, "CPUSHARE_HUB": "h.sock"}
    r = subprocess.run([CPUSHARE, "status"], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 2 and "CPUSHARE_HUB was renamed CPUSHARE_API" in r.stderr
    povray = str(Path(sys.executable).parent / "cpushare-povray")
    r = subprocess.run([povray, "render", "scene.pov", "-W", "8", "-H", "8", "-o",
                        str(short_tmp / "o.png"), "--hub", "h.sock"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--hub was renamed --api" in r.stderr
    server = find_binary("povray-server")
    r = subprocess.run([str(server), "scene.pov", "-W", "8", "-H", "8", "-o", "o.png", "--hub", "h"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--hub was renamed --api" in r.stderr
    for prog in (CPUSHARE, povray):
        r = subprocess.run([prog, *(["render"] if prog == povray else ["status"]), "--help"],
                           capture_output=True, text=True, timeout=60)
        assert "--api" in r.stdout and "--hub" not in r.stdout
