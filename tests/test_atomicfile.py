"""replace_file: readers see the old file or the whole new one; exact modes; no litter."""

from __future__ import annotations

import os
import stat

import pytest

from cpushare_mq.atomicfile import replace_file


def test_replaces_whole_with_exact_mode_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "key"
    target.write_bytes(b"old")
    assert replace_file(target, [b"ne", b"w"], mode=0o600, sync=True) == 3
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key"]


def test_default_mode_follows_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        replace_file(tmp_path / "out", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "out").st_mode) == 0o640


def test_a_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "result"
    target.write_bytes(b"old")

    def chunks():
        yield b"partial"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        replace_file(target, chunks())
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]


def test_never_writes_through_a_planted_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    tmp = tmp_path / "planted.tmp"
    tmp.symlink_to(victim)
    with pytest.raises(OSError):
        replace_file(tmp_path / "out", b"evil", tmp=tmp)
    assert victim.read_bytes() == b"precious"
