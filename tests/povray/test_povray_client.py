"""The freestanding client (povray-client.elf) gives the same bytes as the native
renderer, speaks ABI v1, and answers 'X' to bad scenes and tiles."""

from __future__ import annotations

import subprocess

import pytest
from conftest import render
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpushare_mq.povray.tiles import Tile, cut_tiles, frame, paste, split_frames


def run_client(client_elf, shared: bytes, fragments: list[bytes]) -> tuple[int, list]:
    stdin = frame(b"S", shared) + b"".join(frame(b"F", f) for f in fragments)
    proc = subprocess.run([str(client_elf)], input=stdin, capture_output=True, timeout=60)
    return proc.returncode, split_frames(proc.stdout)


def results(frames: list) -> list[tuple[str, list[bytes]]]:
    """Group frames per fragment: ('E', rows) or ('X', [message])."""
    out, rows = [], []
    for kind, payload in frames:
        if kind == b"D":
            rows.append(payload)
        elif kind == b"E":
            out.append(("E", rows))
            rows = []
        elif kind == b"X":
            out.append(("X", [payload]))
            rows = []
        else:
            raise AssertionError(f"unexpected frame kind {kind!r}")
    assert not rows, "rows after the last fragment"
    return out


def expected_frame_sizes(tile: Tile) -> list[int]:
    """The client sends whole rows, about 32 KiB of them per 'D' frame (at least one row)."""
    row = tile.w * 3
    per_frame = max(1, 32768 // row)
    sizes, left = [], tile.h
    while left:
        n = min(per_frame, left)
        sizes.append(n * row)
        left -= n
    return sizes


@pytest.fixture(scope="module")
def medium_scene(render_bin, scenes, tmp_path_factory):
    d = tmp_path_factory.mktemp("medium")
    img = render(render_bin, scenes / "medium.pov", d / "m.png", 80, 60,
                 "--dump-scene", str(d / "m.scene"))
    return img, (d / "m.scene").read_bytes()


@pytest.mark.parametrize("tile_size", [1 + 16, 32, 80])
def test_client_tiles_equal_native_render(client_elf, medium_scene, tile_size):
    img, scene = medium_scene
    tiles = cut_tiles(img.width, img.height, tile_size)
    rc, frames = run_client(client_elf, scene, [t.encode() for t in tiles])
    assert rc == 0
    res = results(frames)
    assert len(res) == len(tiles)
    canvas = bytearray(img.width * img.height * 3)
    for tile, (kind, rows) in zip(tiles, res, strict=True):
        assert kind == "E"
        assert [len(r) for r in rows] == expected_frame_sizes(tile)
        paste(canvas, img.width, tile, b"".join(rows))
    assert bytes(canvas) == img.rgb


def test_client_streams_whole_rows_in_frames_of_about_32_kib(client_elf, render_bin, scenes,
                                                              tmp_path):
    """A wide frame: 4,000-pixel rows (12,000 bytes) go two to a frame; a 12,000-pixel row
    (36,000 bytes, over the target) goes alone; a narrow tile's rows all fit in one."""
    img = render(render_bin, scenes / "simple.pov", tmp_path / "s.png", 12000, 9,
                 "--dump-scene", str(tmp_path / "s.scene"))
    scene = (tmp_path / "s.scene").read_bytes()
    tiles = [Tile(12000, 9, 0, 0, 4000, 5), Tile(12000, 9, 0, 0, 12000, 3),
             Tile(12000, 9, 100, 2, 16, 7)]
    rc, frames = run_client(client_elf, scene, [t.encode() for t in tiles])
    assert rc == 0
    res = results(frames)
    assert [[len(r) for r in rows] for _kind, rows in res] == [
        [24000, 24000, 12000], [36000, 36000, 36000], [16 * 3 * 7]]
    for tile, (_kind, rows) in zip(tiles, res, strict=True):
        canvas = bytearray(img.width * img.height * 3)
        paste(canvas, img.width, tile, b"".join(rows))
        for y in range(tile.y0, tile.y0 + tile.h):
            at = (y * img.width + tile.x0) * 3
            assert canvas[at:at + tile.w * 3] == img.rgb[at:at + tile.w * 3]


def test_client_answers_x_to_bad_tiles_and_keeps_going(client_elf, medium_scene):
    img, scene = medium_scene
    good = Tile(80, 60, 0, 0, 4, 2).encode()
    bad = [
        b"TILE",                                          # short
        b"XXXX" + good[4:],                               # magic
        good[:4] + (2).to_bytes(4, "little") + good[8:],  # version
        Tile(80, 60, 0, 0, 4, 2).encode()[:24] + (81).to_bytes(4, "little") + good[28:],
    ]
    rc, frames = run_client(client_elf, scene, [*bad, good])
    assert rc == 0
    res = results(frames)
    assert [k for k, _ in res] == ["X", "X", "X", "X", "E"]
    messages = [m[0].decode() for _, m in res[:4]]
    assert "32 bytes" in messages[0]
    assert "magic" in messages[1]
    assert "version" in messages[2]
    assert "outside" in messages[3]


@pytest.mark.parametrize("mutate", ["truncate", "magic", "version", "trailing", "type"])
def test_client_answers_x_to_a_bad_scene(client_elf, medium_scene, mutate):
    _, scene = medium_scene
    if mutate == "truncate":
        bad = scene[: len(scene) // 2]
    elif mutate == "magic":
        bad = b"JUNK" + scene[4:]
    elif mutate == "version":
        bad = scene[:4] + (99).to_bytes(4, "little") + scene[8:]
    elif mutate == "trailing":
        bad = scene + b"\0"
    else:  # first object's type field -> unknown type
        # scene format 6 (c/povray/serialize.c): magic, version, 4 camera vectors, camera
        # type, angle and vertical angle, background, max_trace_level, adc_bailout, gamma,
        # then n_lights
        n_lights = int.from_bytes(scene[168:172], "little")
        # lights (184 bytes each), n_maps, n_pentries, has_sky, n_fogs, n_data, n_layers,
        # n_tentries, n_tmaps (all 0 here), n_prims, then the first object's type
        base = 172 + 184 * n_lights
        assert scene[base:base + 32] == bytes(32)
        at = base + 32 + 4
        assert int.from_bytes(scene[at:at + 4], "little") < 20      # a known type
        bad = scene[:at] + (77).to_bytes(4, "little") + scene[at + 4:]
    tile = Tile(80, 60, 0, 0, 8, 8).encode()
    rc, frames = run_client(client_elf, bad, [tile, tile])
    assert rc == 0
    res = results(frames)
    assert [k for k, _ in res] == ["X", "X"]
    assert res[0][1][0].decode().startswith(("scene", "not a scene", "unsupported scene"))


def test_client_exits_cleanly_without_fragments(client_elf, medium_scene):
    _, scene = medium_scene
    rc, frames = run_client(client_elf, scene, [])
    assert rc == 0 and frames == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
                min_size=1, max_size=8),
       st.integers(min_value=-64, max_value=64))
def test_client_survives_corrupted_scenes(client_elf, medium_scene, edits, resize):
    """Any corruption of the shared input: the client answers each tile with exactly its rows
    or with 'X', and exits 0 -- it never crashes or hangs."""
    _, scene = medium_scene
    _corrupted_scene_answers_every_tile(client_elf, scene, edits, resize)


def _corrupted_scene_answers_every_tile(client_elf, scene: bytes, edits, resize: int) -> None:
    data = bytearray(scene)
    for pos, value in edits:
        data[pos % len(data)] = value
    if resize > 0:
        data += bytes(resize)
    elif resize < 0:
        del data[resize:]
    tile = Tile(80, 60, 8, 4, 6, 3)
    rc, frames = run_client(client_elf, bytes(data), [tile.encode(), tile.encode()])
    assert rc == 0
    res = results(frames)
    assert len(res) == 2
    for kind, rows in res:
        assert kind == "X" or [len(r) for r in rows] == expected_frame_sizes(tile)


FEATURES = """#version 3.7;
global_settings { assumed_gamma 1 }
camera { location <0, 3, -6> look_at <0, 0.5, 0> }
light_source { <-3, 6, -2> rgb 0.6 parallel point_at 0 area_light x, z, 2, 2 }
light_source { <0, 4, -6> rgb 0.5 projected_through { sphere { <0, 2, -3>, 0.6 } } }
#declare NM = normal_map { [0 bumps 0.5 scale 0.1] [1 dents 0.4] }
#declare Inner = texture { slope { y, 0.2, 0.8 altitude y } texture_map {
    [0.4 pigment { rgb <0, 0.6, 0> }] [0.6 pigment { rgbt <1, 1, 1, 0.5> }] } }
sphere { <-1, 1, 0>, 1 texture { gradient y scale 2 texture_map { [0.3 Inner]
    [0.6 checker texture { pigment { rgb 1 } normal { hexagon normal { bumps } normal { dents }
    normal { wrinkles } } } texture { pigment { rgb 0 } }] } } }
blob { threshold 0.5 sphere { <1, 1, 0>, 1, 1 } sphere { <1.6, 1, 0>, 0.8, 1 }
    pigment { rgb <1, 0.5, 0> } normal { checker 0.5 scale 0.2 } }
plane { y, 0 pigment { rgb 0.8 } normal { gradient x normal_map { NM } } }
"""


@pytest.fixture(scope="module")
def feature_scene(render_bin, tmp_path_factory):
    """This session's additions in one scene: nested patterned textures, slope, block
    patterns in normals, declared normal_map, parallel area and projected_through lights."""
    d = tmp_path_factory.mktemp("features")
    (d / "f.pov").write_text(FEATURES)
    render(render_bin, d / "f.pov", d / "f.png", 80, 60, "--dump-scene", str(d / "f.scene"))
    return (d / "f.scene").read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
                min_size=1, max_size=8),
       st.integers(min_value=-64, max_value=64))
def test_client_survives_corrupted_scenes_with_nested_maps_and_projectors(
        client_elf, feature_scene, edits, resize):
    """The same for a scene whose records refer to each other more (maps inside maps, a
    light's objects, normal_map entries): never a crash, a hang or an out-of-range read."""
    _corrupted_scene_answers_every_tile(client_elf, feature_scene, edits, resize)
