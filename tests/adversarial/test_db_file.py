"""Issue 14, item 8: the hub refuses a database file that another local user could rewrite
(group/others may write it, or another user owns it), with one line saying what to do; a
file others may only read still starts (with a warning)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cpushare_mq.hub.dbfile import database_refusal

HUB = Path(sys.executable).parent / "cpushare-hub"
NOBODY = 65534


def test_the_rule():
    assert database_refusal("d", stat.S_IFREG | 0o600, 1000, 1000) is None
    assert database_refusal("d", stat.S_IFREG | 0o644, 1000, 1000) is None
    assert "chmod 600 d" in database_refusal("d", stat.S_IFREG | 0o620, 1000, 1000)
    assert "chmod 600 d" in database_refusal("d", stat.S_IFREG | 0o602, 1000, 1000)
    assert "owned by uid 1001" in database_refusal("d", stat.S_IFREG | 0o600, 1001, 1000)


def _serve(tmp: Path, db: Path) -> subprocess.CompletedProcess:
    """Start the hub as a user would; a refused database ends it at once (an accepted one
    would serve until the timeout, which fails the test)."""
    return subprocess.run([str(HUB), "serve", "--db", str(db), "--bind", "tcp://127.0.0.1:0",
                           "--api", str(tmp / "api.sock"), "--insecure"],
                          capture_output=True, text=True, timeout=60)


def _one_line_refusal(r: subprocess.CompletedProcess, what: str) -> None:
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("cpushare-hub:")]
    assert len(lines) == 1 and what in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_a_world_writable_database_is_refused(tmp_path):
    db = tmp_path / "hub.db"
    db.touch()
    os.chmod(db, 0o666)
    _one_line_refusal(_serve(tmp_path, db), f"group/others can write it; refusing to use it "
                                            f"(fix: chmod 600 {db})")
    assert db.stat().st_size == 0                      # nothing was written to it


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a file to another user")
def test_a_database_owned_by_another_user_is_refused(tmp_path):
    db = tmp_path / "hub.db"
    db.touch()
    os.chmod(db, 0o600)
    os.chown(db, NOBODY, NOBODY)
    _one_line_refusal(_serve(tmp_path, db), f"owned by uid {NOBODY}, not by this user")
