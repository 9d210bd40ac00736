"""Hostile input to the parser and the codecs: clear errors, never a crash."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpushare_mq.povray.tiles import Tile, TileError, cut_tiles, frame, split_frames

WORDS = ["sphere", "box", "plane", "cylinder", "union", "pigment", "finish", "texture",
         "color", "rgb", "checker", "translate", "rotate", "scale", "camera", "location",
         "look_at", "angle", "light_source", "background", "global_settings",
         "max_trace_level", "#declare", "#version", "X", "=", "{", "}", "<", ">", ",", "(",
         ")", "+", "-", "*", "/", ";", "0", "1", "-2.5", "1e308", "0.0001", "x", "y", "pi",
         "reflection", "phong", "/*", "*/", "//", "\n", "sqrt", "torus", "\"s\""]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS), max_size=60))
def test_parser_never_crashes(render_bin, tmp_path, words):
    src = tmp_path / "fuzz.pov"
    src.write_text(" ".join(words))
    proc = subprocess.run([str(render_bin), str(src), "-W", "4", "-H", "3", "-o",
                           str(tmp_path / "fuzz.png")], capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode in (0, 1), proc.stderr
    if proc.returncode == 1:
        assert "fuzz.pov:" in proc.stderr


def test_binary_file_is_refused(render_bin, tmp_path):
    src = tmp_path / "bin.pov"
    src.write_bytes(b"sphere\0{")
    proc = subprocess.run([str(render_bin), str(src), "-W", "4", "-H", "3", "-o",
                           str(tmp_path / "o.png")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "NUL" in proc.stderr


@given(st.integers(1, 65536), st.integers(1, 65536), st.data())
def test_tile_roundtrip(width, height, data):
    x0 = data.draw(st.integers(0, width - 1))
    y0 = data.draw(st.integers(0, height - 1))
    w = data.draw(st.integers(1, width - x0))
    h = data.draw(st.integers(1, height - y0))
    t = Tile(width, height, x0, y0, w, h)
    assert Tile.decode(t.encode()) == t


@given(st.binary(max_size=40))
def test_tile_decode_rejects_garbage_cleanly(blob):
    try:
        Tile.decode(blob)
    except TileError:
        pass


# up to 90,000 pixels visited in Python per example: no per-example deadline on a busy machine
@settings(deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.integers(1, 100))
def test_cut_tiles_cover_the_image_once(width, height, size):
    seen = bytearray(width * height)
    for t in cut_tiles(width, height, size):
        for y in range(t.y0, t.y0 + t.h):
            for x in range(t.x0, t.x0 + t.w):
                seen[y * width + x] += 1
    assert set(seen) == {1}


@given(st.lists(st.tuples(st.sampled_from([b"S", b"F", b"D", b"E", b"X"]),
                          st.binary(max_size=50)), max_size=10))
def test_frames_roundtrip(frames):
    stream = b"".join(frame(k, p) for k, p in frames)
    assert split_frames(stream) == frames


@pytest.mark.parametrize("bad", [Tile(10, 10, 5, 0, 6, 1), Tile(0, 10, 0, 0, 1, 1),
                                 Tile(10, 10, 0, 0, 0, 1), Tile(70000, 10, 0, 0, 1, 1)])
def test_bad_tiles_are_refused_before_encoding(bad):
    with pytest.raises(TileError):
        bad.encode()


@given(st.integers(1, 8000), st.integers(1, 8000), st.integers(1, 64))
def test_auto_tile_keeps_every_worker_busy(width, height, workers):
    from cpushare_mq.povray.cli import auto_tile

    def count(size):
        return -(-width // size) * -(-height // size)

    size = auto_tile(width, height, workers)
    assert size in (32, 64, 128, 256)
    assert size == 32 or count(size) >= 32 * workers
    if size < 256:  # the next size up would have been too coarse
        assert count(size * 2) < 32 * workers
