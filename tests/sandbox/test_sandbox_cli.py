"""cpushare-sandbox run: ABI and raw modes, --json, exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cpushare_mq.sandbox.cli import main

BIN = Path(sys.executable).parent


@pytest.fixture
def hello(tmp_path) -> Path:
    p = tmp_path / "hello.txt"
    p.write_bytes(b"hello sandbox")
    return p


def test_echo_prints_the_result(echo_elf, hello, capsysbinary):
    assert main(["run", str(echo_elf), "--input", str(hello)]) == 0
    assert capsysbinary.readouterr().out == b"hello sandbox"


def test_json_record_and_output_file(checksum_elf, hello, tmp_path, capsys):
    shared = tmp_path / "shared.bin"
    shared.write_bytes(b"scene")
    out = tmp_path / "out.bin"
    assert main(["run", str(checksum_elf), "--shared", str(shared), "--input", str(hello),
                 "--output", str(out), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert {"outcome", "exit_code", "signal", "cpu_s", "wall_s", "output_bytes"} <= rec.keys()
    assert rec["outcome"] == "ok" and rec["output_bytes"] == 16
    from .test_sandbox_runner import fnv1a64
    assert out.read_text() == fnv1a64(b"scene" + b"hello sandbox")


def test_raw_mode_and_a_failing_outcome(hostile_elf, tmp_path, capsys):
    cmd = tmp_path / "cmd"
    cmd.write_bytes(b"ok")
    assert main(["run", str(hostile_elf), "--raw", "--input", str(cmd), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["output_bytes"] == 4
    cmd.write_bytes(b"open")
    assert main(["run", str(hostile_elf), "--raw", "--input", str(cmd), "--json"]) == 1
    captured = capsys.readouterr()
    rec = json.loads(captured.out)
    assert rec["outcome"] == "forbidden_syscall" and rec["signal"] == 9
    assert "forbidden_syscall" in captured.err


def test_limits_from_the_command_line(hostile_elf, tmp_path, capsys):
    cmd = tmp_path / "cmd"
    cmd.write_bytes(b"loop")
    assert main(["run", str(hostile_elf), "--raw", "--input", str(cmd), "--cpu-s", "100",
                 "--wall-s", "0.3", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["outcome"] == "timeout"
    cmd.write_bytes(b"endless_output")
    assert main(["run", str(hostile_elf), "--raw", "--input", str(cmd), "--max-output", "1000",
                 "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["outcome"] == "output_limit"
    assert main(["run", str(hostile_elf), "--max-memory", "100000", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["outcome"] == "bad_program"


def test_usage_errors(echo_elf, tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.elf")]) == 2
    assert "is not a file" in capsys.readouterr().err
    assert main(["run", str(echo_elf), "--raw", "--shared", str(echo_elf)]) == 2
    assert "--shared" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="cannot read the input file"):
        main(["run", str(echo_elf), "--input", str(tmp_path / "missing")])
    with pytest.raises(SystemExit):
        main(["run", str(echo_elf), "--cpu-s", "-1"])
    assert "must be a finite number > 0" in capsys.readouterr().err


def test_installed_console_script(echo_elf, hello):
    proc = subprocess.run([str(BIN / "cpushare-sandbox"), "run", str(echo_elf), "--input", str(hello)],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == b"hello sandbox"
