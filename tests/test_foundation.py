"""The ground everything stands on: errors, logging, native locator, CLIs' help."""

from __future__ import annotations

import inspect
import io
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cpushare_mq import errors, native
from cpushare_mq.log import setup_logging

BIN = Path(sys.executable).parent
CLIS = ["cpushare", "cpushare-hub", "cpushare-worker", "cpushare-sandbox", "cpushare-povray"]


def test_every_error_derives_from_the_base_and_says_when_it_is_raised():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass)
               if issubclass(c, Exception) and c.__module__ == errors.__name__]
    assert errors.CpushareError in classes and len(classes) > 5
    for cls in classes:
        assert issubclass(cls, errors.CpushareError), cls
        assert cls is errors.CpushareError or "raised" in (cls.__doc__ or "").lower(), cls


def test_json_log_is_one_object_per_line_with_extras():
    buf = io.StringIO()
    setup_logging(0, json_log=True, stream=buf)
    try:
        logging.getLogger("cpushare_mq.test").info("hello %s", "world", extra={"job_id": "j1"})
    finally:
        setup_logging(-1, stream=io.StringIO())
    rec = json.loads(buf.getvalue().strip())
    assert rec["msg"] == "hello world" and rec["job_id"] == "j1" and rec["level"] == "info"


def test_a_peers_words_in_a_text_log_never_forge_a_line_nor_reach_the_terminal():
    """A worker's name or a hub's reason quoted in a message (a newline to forge a log line,
    an escape sequence to drive the reader's terminal) is escaped; a traceback still follows
    on its own lines."""
    buf = io.StringIO()
    setup_logging(0, stream=buf)
    try:
        log = logging.getLogger("cpushare_mq.test")
        log.info("worker %s joined", "box\n12:00:00.000 INFO    cpushare_mq.hub: forged\x1b]0;t\x07")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed for %s", "a\rb")
    finally:
        setup_logging(-1, stream=io.StringIO())
    lines = buf.getvalue().splitlines()
    assert "\x1b" not in buf.getvalue() and "\r" not in buf.getvalue()
    assert lines[0].endswith("worker box\\x0a12:00:00.000 INFO    cpushare_mq.hub: forged"
                             "\\x1b]0;t\\x07 joined")
    assert lines[1].endswith("failed for a\\x0db") and lines[2] == "Traceback (most recent call last):"


def test_missing_binary_error_names_the_file_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(native, "C_BUILD_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(native, "PACKAGE_DIR", tmp_path)
    with pytest.raises(errors.NativeBuildError, match="no-such-program.*make -C"):
        native.find_binary("no-such-program", build=False)


@pytest.mark.parametrize("cli", CLIS)
def test_cli_help_has_examples(cli):
    exe = BIN / cli
    assert exe.exists(), f"{cli} is not installed in {BIN}"
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout.lower()
    assert "example" in proc.stdout.lower(), f"{cli} --help shows no examples"


def test_ci_runs_exactly_the_readme_test_command():
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    ci = (root / ".ci" / "run").read_text()
    assert "make test" in readme and "make demo" in readme
    assert ci.strip().splitlines()[-1] == "make test"


def test_c_compiler_is_available_for_the_build():
    assert shutil.which("cc") or shutil.which("gcc")


@pytest.mark.parametrize("text, ok", [("1", True), ("4096", True), ("0", False), ("4097", False),
                                      ("x", False), ("1.5", False)])
def test_bounded_int_argument_names_the_value_and_the_range(text, ok):
    import argparse

    from cpushare_mq.argtypes import bounded

    conv = bounded(int, 1, 4096)
    if ok:
        assert conv(text) == int(text)
    else:
        with pytest.raises(argparse.ArgumentTypeError, match=repr(text)):
            conv(text)


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "abc"])
def test_positive_float_refuses_zero_negative_and_non_finite(text):
    import argparse

    from cpushare_mq.argtypes import positive_float

    with pytest.raises(argparse.ArgumentTypeError, match="finite number|is not"):
        positive_float(text)
    assert positive_float("0.25") == 0.25
