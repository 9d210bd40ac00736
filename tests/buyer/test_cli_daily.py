"""Issue 15: the buyer's command line as a user types it — true verdicts, no silent waits,
the program check, consistent options, config file and environment."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cpushare_mq.native import find_binary

from .buyercli import clean_env as _env
from .buyercli import read_until as _read_until
from .test_cli import make_inputs, run

BIN = Path(sys.executable).parent
COMMANDS = ("cpushare", "cpushare-hub", "cpushare-worker", "cpushare-sandbox", "cpushare-povray")


def test_cancel_while_attached_exits_3_and_says_so(real_hub, echo_elf, short_tmp):
    inputs = make_inputs(short_tmp / "in", 4)
    proc = subprocess.Popen([str(BIN / "cpushare"), "submit", str(echo_elf), *map(str, inputs),
                             "--api", real_hub.api_address, "--out", str(short_tmp / "out")],
                            stderr=subprocess.PIPE, text=True, env=_env())
    try:
        head = _read_until(proc, "submitted job ")
        job_id = head.split("submitted job ")[1].split()[0]
        # no worker is connected: the progress line says why within 5 s of the submit, by the
        # CLI's own clock (the line's "elapsed"); 30 s only bounds a hang
        seen = _read_until(proc, "waiting: no worker", timeout_s=30)
        m, s = map(int, re.search(r"elapsed (\d+):(\d+)  waiting: no worker", seen).groups())
        assert m * 60 + s <= 5, seen
        c = run("cancel", job_id, "--api", real_hub.api_address)
        assert c.returncode == 0 and f"cancelled job {job_id}" in c.stdout
        rest = proc.stderr.read()
        assert proc.wait(60) == 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert f"job {job_id} was cancelled: 0 of 4 fragments succeeded" in rest
    assert "succeeded; results in" not in rest


def test_cancel_of_a_finished_job_says_so(real_hub, worker, echo_elf, short_tmp):
    inputs = make_inputs(short_tmp / "in", 2)
    r = run("submit", echo_elf, *inputs, "--api", real_hub.api_address, "--out", short_tmp / "out")
    assert r.returncode == 0, r.stderr
    job_id = r.stderr.split("submitted job ")[1].split()[0]
    c = run("cancel", job_id, "--api", real_hub.api_address)
    assert c.returncode == 3
    assert f"job {job_id} had already ended (done: 2 done, 0 failed of 2); nothing to cancel" in c.stdout


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed to build a glibc program")
def test_check_refuses_a_glibc_program_and_a_text_file_naming_the_fix(short_tmp, echo_elf):
    src = short_tmp / "hello.c"
    src.write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    elf = short_tmp / "hello"
    subprocess.run(["gcc", "-static", "-O1", str(src), "-o", str(elf)], check=True, capture_output=True)
    r = run("check", elf)
    assert r.returncode == 1
    assert "linked with glibc" in r.stdout and "forbidden_syscall" in r.stdout
    assert "fix: do not use 'gcc -static' with the C library; build it with 'cpushare-cc" in r.stdout

    r = run("check", src)
    assert r.returncode == 1 and "a text file, not a program" in r.stdout and "cpushare-cc" in r.stdout

    subprocess.run(["gcc", "-O1", str(src), "-o", str(elf)], check=True, capture_output=True)
    r = run("check", elf)
    assert r.returncode == 1 and ("position-independent" in r.stdout or "dynamically linked" in r.stdout)

    r = run("check", echo_elf)
    assert r.returncode == 0 and "the loader would start it" in r.stdout
    r = run("check", echo_elf, "--max-memory", "64M")       # sizes with units
    assert r.returncode == 1 and "over the 67108864-byte cap" in r.stdout
    r = run("check", short_tmp / "missing.elf")
    assert r.returncode == 2 and "cannot read program" in r.stderr and "Traceback" not in r.stderr


def test_check_agrees_with_the_loader_on_every_built_program():
    """Whatever the check accepts the loader maps; what it refuses the loader refuses or the
    sandbox kills at start-up (the glibc and TLS rules)."""
    from cpushare_mq.sandbox.elfcheck import check_program
    from cpushare_mq.sandbox.runner import SandboxLimits, run_raw

    for name in ("examples/echo.elf", "examples/spin.elf", "hostile/big_bss.elf"):
        path = find_binary(name)
        report = check_program(path.read_bytes())
        rec, _out = run_raw(path, b"", SandboxLimits(cpu_s=2, wall_s=20))
        assert (rec.outcome.value != "bad_program") == report.ok, (name, rec, report)


def test_global_options_after_the_subcommand_and_version_everywhere(real_hub):
    r = run("status", "-q", "--api", real_hub.api_address)
    assert r.returncode == 0 and "jobs (0)" in r.stdout
    r = run("-q", "status", "-v", "--api", real_hub.api_address)
    assert r.returncode == 0
    for cmd in COMMANDS:
        v = subprocess.run([str(BIN / cmd), "--version"], capture_output=True, text=True, timeout=60)
        assert v.returncode == 0 and v.stdout.startswith(f"{cmd} "), (cmd, v.stdout, v.stderr)


def test_config_file_and_environment_set_options(real_hub, short_tmp):
    cfg = short_tmp / "config.toml"
    cfg.write_text(f'[cpushare]\napi = "{real_hub.api_address}"\n')
    r = subprocess.run([str(BIN / "cpushare"), "status"], capture_output=True, text=True, timeout=60,
                       env=_env(CPUSHARE_CONFIG=str(cfg)))
    assert r.returncode == 0 and "jobs (0)" in r.stdout, r.stderr
    xdg = short_tmp / "xdg"
    (xdg / "cpushare").mkdir(parents=True)
    (xdg / "cpushare" / "config.toml").write_text('[cpushare]\nmax-memory = "64M"\n')
    r = subprocess.run([str(BIN / "cpushare"), "check", str(find_binary("examples/echo.elf"))],
                       capture_output=True, text=True, timeout=60, env=_env(XDG_CONFIG_HOME=str(xdg)))
    assert r.returncode == 1 and "67108864-byte cap" in r.stdout
    # the environment beats the config file; the command line beats both
    r = subprocess.run([str(BIN / "cpushare"), "check", str(find_binary("examples/echo.elf"))],
                       capture_output=True, text=True, timeout=60,
                       env=_env(XDG_CONFIG_HOME=str(xdg), CPUSHARE_MAX_MEMORY="2G"))
    assert r.returncode == 0, r.stdout
    cfg.write_text('[cpushare]\nredundancy = "many"\nhubb = "x"\n')
    r = subprocess.run([str(BIN / "cpushare"), "status"], capture_output=True, text=True, timeout=60,
                       env=_env(CPUSHARE_CONFIG=str(cfg)))
    assert r.returncode == 2 and "has no option 'hubb'" in r.stderr and "Traceback" not in r.stderr
    cfg.write_text("[cpushare\n")
    r = subprocess.run([str(BIN / "cpushare"), "status"], capture_output=True, text=True, timeout=60,
                       env=_env(CPUSHARE_CONFIG=str(cfg)))
    assert r.returncode == 2 and "is not valid TOML" in r.stderr


def test_worker_install_service_writes_a_unit_that_runs_the_worker(real_hub, echo_elf, short_tmp):
    import shlex

    xdg = short_tmp / "xdg"
    cache = short_tmp / "c a c h e"          # a space: the unit must quote it
    args = ["install-service", "--hub", real_hub.worker_endpoint, "--insecure", "--slots", "1",
            "--cache-dir", str(cache), "--max-memory", "512M"]
    r = subprocess.run([str(BIN / "cpushare-worker"), *args], capture_output=True, text=True, timeout=60,
                       env=_env(XDG_CONFIG_HOME=str(xdg)))
    assert r.returncode == 0, r.stderr
    unit = xdg / "systemd" / "user" / "cpushare-worker.service"
    assert f"wrote {unit}" in r.stdout and "systemctl --user enable --now cpushare-worker" in r.stdout
    assert "loginctl enable-linger" in r.stdout
    text = unit.read_text()
    assert "[Install]\nWantedBy=default.target" in text
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    cmd = shlex.split(exec_start[len("ExecStart="):])
    assert Path(cmd[0]).is_absolute() and cmd[1:] == args[1:]
    # the unit's command line is a working worker
    worker = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    try:
        inputs = make_inputs(short_tmp / "in", 3)
        s = run("submit", echo_elf, *inputs, "--api", real_hub.api_address, "--out", short_tmp / "out")
        assert s.returncode == 0, s.stderr
    finally:
        worker.terminate()
        worker.wait(30)
    again = subprocess.run([str(BIN / "cpushare-worker"), *args], capture_output=True, text=True, timeout=60,
                           env=_env(XDG_CONFIG_HOME=str(xdg)))
    assert again.returncode == 2 and "exists; pass --force" in again.stderr
    bad = subprocess.run([str(BIN / "cpushare-worker"), "install-service", "--force", "--slots", "0",
                          "--hub", real_hub.worker_endpoint], capture_output=True, text=True, timeout=60,
                         env=_env(XDG_CONFIG_HOME=str(xdg)))
    assert bad.returncode == 2 and "--slots" in bad.stderr and unit.read_text() == text


def test_povray_output_under_a_file_is_one_line_not_a_traceback(short_tmp):
    scene = short_tmp / "s.pov"
    scene.write_text("camera { location <0,0,-3> look_at <0,0,0> }\n")
    (short_tmp / "file").write_text("x")
    r = subprocess.run([str(BIN / "cpushare-povray"), "render", str(scene), "-W", "8", "-H", "8",
                        "-o", str(short_tmp / "file" / "sub" / "out.png")],
                       capture_output=True, text=True, timeout=60, env=_env())
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "cannot create the directory of -o" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_hub_keygen_prints_the_key_quoted_and_the_file_to_give(short_tmp):
    import shlex

    r = subprocess.run([str(BIN / "cpushare-hub"), "keygen", "--keys", str(short_tmp / "k")],
                       capture_output=True, text=True, timeout=60, env=_env())
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("hub public key"))
    quoted = line.split(": ", 1)[1]
    assert shlex.split(quoted) == [(short_tmp / "k" / "hub.pub").read_text().strip()]
    assert f"--hub-key {short_tmp / 'k' / 'hub.pub'}" in r.stdout


def test_status_shows_times_rates_failures_and_hides_old_jobs(real_hub, worker, short_tmp):
    import json
    import signal
    import sqlite3

    spin = find_binary("examples/spin.elf")     # a 1..7-byte fragment is answered as invalid
    d = short_tmp / "in"
    d.mkdir()
    (d / "good.bin").write_bytes((1000).to_bytes(8, "little"))
    (d / "bad.bin").write_bytes(b"abc")
    r = run("submit", spin, d / "good.bin", d / "bad.bin", "--api", real_hub.api_address, "--out", short_tmp / "o")
    assert r.returncode == 1
    job_id = r.stderr.split("submitted job ")[1].split()[0]
    st = run("status", "--api", real_hub.api_address)
    assert st.returncode == 0, st.stderr
    for column in ("AGE", "ELAPSED", "RATE", "ETA", "RUNNING", "QUEUED"):
        assert column in st.stdout
    assert job_id in st.stdout and f"{job_id} failures: " in st.stdout
    data = json.loads(run("status", "--json", "--api", real_hub.api_address).stdout)
    job = next(j for j in data["jobs"] if j["job_id"] == job_id)
    assert job["age_s"] >= job["elapsed_s"] > 0 and job["failed_by"].endswith(" 1")
    # the job ended two days ago: hidden unless --all
    with sqlite3.connect(short_tmp / "hub.db") as db:
        db.execute("UPDATE jobs SET created_s=created_s-172800, ended_s=ended_s-172800 WHERE id=?", (job_id,))
    st = run("status", "--api", real_hub.api_address)
    assert job_id not in st.stdout and "1 ended over a day ago hidden (--all shows them)" in st.stdout
    assert job_id in run("status", "--all", "--api", real_hub.api_address).stdout
    # --watch refreshes until Ctrl-C, which ends it with status 0
    proc = subprocess.Popen([str(BIN / "cpushare"), "status", "--watch", "0.2", "--all",
                             "--api", real_hub.api_address], stdout=subprocess.PIPE, text=True, env=_env())
    try:
        seen = 0
        while seen < 2:
            line = proc.stdout.readline()
            assert line, "status --watch ended early"
            seen += line.startswith("--- ")
        proc.send_signal(signal.SIGINT)
        proc.stdout.read()
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is needed to try the completion")
def test_shell_completion_completes_subcommands_and_options_of_every_command(short_tmp):
    r = subprocess.run([str(BIN / "cpushare"), "completion", "bash"], capture_output=True, text=True,
                       timeout=60, env=_env())
    assert r.returncode == 0, r.stderr
    (short_tmp / "c.sh").write_text(r.stdout)

    def complete(*words: str) -> list[str]:
        fn = "_cpushare_complete_" + words[0].replace("-", "_")
        arr = " ".join(f"'{w}'" for w in words)
        out = subprocess.run(["bash", "-c", f"source {short_tmp / 'c.sh'}; COMP_WORDS=({arr}); "
                              f"COMP_CWORD={len(words) - 1}; {fn}; printf '%s\\n' \"${{COMPREPLY[@]}}\""],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.split()

    assert complete("cpushare", "st") == ["status"]
    assert complete("cpushare", "submit", "--re") == ["--reconnect-s", "--redundancy"]
    assert complete("cpushare", "status", "--w") == ["--watch"]
    assert complete("cpushare-worker", "--max") == ["--max-memory"]
    assert complete("cpushare-worker", "inst") == ["install-service"]
    assert complete("cpushare-hub", "serve", "--hea") == ["--heartbeat-interval-s"]
    assert complete("cpushare-sandbox", "run", "--max-o") == ["--max-output"]
    assert complete("cpushare-povray", "render", "--res") == ["--resume"]
    z = subprocess.run([str(BIN / "cpushare"), "completion", "zsh"], capture_output=True, text=True, timeout=60)
    assert z.returncode == 0 and z.stdout.startswith("autoload -U +X bashcompinit")


def test_hub_keeps_fragment_names_and_refuses_bad_ones(real_hub, short_tmp):
    import socket as pysocket

    from cpushare_mq import buyer_protocol as bp
    from cpushare_mq.buyer_protocol import Err, Rep, Req
    from cpushare_mq.client import Client
    from cpushare_mq.errors import ConfigError

    with Client(real_hub.api_address) as c:
        with pytest.raises(ConfigError, match="has a '/'"):
            c.submit(find_binary("examples/echo.elf"), [b"x"], fragment_names=["../x"])

    def raw_submit(names_frames: list[bytes], n: int = 2) -> tuple[int, str]:
        s = pysocket.socket(pysocket.AF_UNIX)
        s.connect(real_hub.api_address.removeprefix("unix:"))
        try:
            s.sendall(bp.encode(Req.HELLO, magic=bp.MAGIC, version=bp.VERSION, client="test", token=""))
            s.sendall(bp.encode(Req.SUBMIT, n_fragments=n, redundancy=1, quorum=0, cpu_s=1.0, wall_s=1.0,
                                max_attempts=1, priority=0, max_output_bytes=0, name="raw"))
            s.sendall(bp.frame(Req.PROGRAM, find_binary("examples/echo.elf").read_bytes()))
            s.sendall(bp.frame(Req.SHARED, b""))
            for f in names_frames:
                s.sendall(f)
            s.sendall(b"".join(bp.iter_fragment_batches([b"a"] * n)))
            s.sendall(bp.encode(Req.SUBMIT_END))
            reader, replies = bp.FrameBuffer(), []
            while len(replies) < 2:
                data = s.recv(65536)
                if not data:
                    break
                replies += [bp.decode(t, p) for t, p in reader.feed(data)]
            last = replies[-1]
            return (last["code"], last["message"]) if last.type == Rep.ERROR else (0, last["job_id"])
        finally:
            s.close()

    code, why = raw_submit([bp.encode(Req.NAMES, names=["ok", "a/b"])])
    assert code == Err.BAD_REQUEST and "has a '/'" in why
    code, why = raw_submit([bp.encode(Req.NAMES, names=["only-one"])])
    assert code == Err.BAD_REQUEST and "name all of them or none" in why
    code, why = raw_submit([bp.encode(Req.NAMES, names=["same", "same"])])
    assert code == Err.BAD_REQUEST and "used twice" in why
    code, job_id = raw_submit([])                        # names are optional: results by index
    assert code == 0 and job_id.startswith("j-")


def test_a_database_from_before_fragment_names_is_upgraded(short_tmp, echo_elf):
    import sqlite3

    from cpushare_mq.hub.scheduler import JobSpec
    from cpushare_mq.hub.server import Hub

    hub = Hub(short_tmp / "hub.db", bind="tcp://127.0.0.1:0").start()
    job = hub.submit_job(JobSpec(program=echo_elf.read_bytes(), fragments=[b"a", b"b"]))
    hub.close()
    with sqlite3.connect(short_tmp / "hub.db") as db:
        db.execute("ALTER TABLE fragments DROP COLUMN name")
        db.execute("PRAGMA user_version=1")     # what such a database said (hub/migrations.py)
    hub = Hub(short_tmp / "hub.db", bind="tcp://127.0.0.1:0").start()
    try:
        assert hub.job_progress(job)["total"] == 2
        named = hub.submit_job(JobSpec(program=echo_elf.read_bytes(), fragments=[b"a"], fragment_names=["x.in"]))
        assert hub.job_progress(named)["total"] == 1
    finally:
        hub.close()
