"""normal_map and slope_map (issue 17): blended and averaged normals, checker, brick and
hexagon in normals (with and without their lists of normals), slopes and #default { normal { } } against POV-Ray's renders of
tests/data/scenes/lang/normalmap.pov, slopemap.pov, normdefault.pov and blocknormals.pov, the distributed render byte-identical to the native one,
the parser's messages, and the sandboxed client refusing a normal_map entry that refers to
itself or a later one (evaluation would not end)."""

from __future__ import annotations

import struct

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error, render
from test_povray_csg import _client
from test_povray_isosurface import LANG

HEAD = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
        "camera { location <0, 0, -3> look_at 0 }\n")


def test_normal_maps_match_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "normalmap.pov")


def test_default_normal_and_checker_normals_match_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "normdefault.pov")


def test_block_patterns_in_normals_match_povray(render_bin, tmp_path):
    """checker without normals (every other square tilted where the plane meets the cells'
    faces), checker, brick and hexagon with their lists of normals: pixel-identical."""
    matches_povray(render_bin, tmp_path, LANG / "blocknormals.pov", min_psnr_db=99.0, max_diff=0)


def test_slope_maps_match_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "slopemap.pov")


@pytest.mark.parametrize("scene", ["normalmap.pov", "slopemap.pov", "blocknormals.pov"])
def test_distributed_normal_maps_equal_native(render_bin, tmp_path, scene):
    distributed_equals_native(render_bin, tmp_path, LANG / scene)


@pytest.mark.parametrize(("src", "words"), [
    ("sphere { 0, 1 normal { brick normal_map { [0 bumps] [1 dents] } } }",
     ["bad.pov:4:", "normal_map cannot be used with this normal type"]),
    ("sphere { 0, 1 normal { average } }", ["average in a normal needs a normal_map"]),
    ("sphere { 0, 1 normal { bozo normal_map { [0.5 bumps] [0.2 dents] } } }",
     ["bad.pov:4:", "normal_map values must ascend"]),
    ("sphere { 0, 1 normal { bozo normal_map { } } }", ["normal_map needs at least one entry"]),
    ("sphere { 0, 1 normal { normal_map { [0 bumps] } } }",
     ["normal_map needs a pattern before it"]),
    ("sphere { 0, 1 normal { onion slope_map { [0.5 <0, 1>] [0.2 <1, 0>] } } }",
     ["bad.pov:4:", "slope_map values must ascend"]),
    ("sphere { 0, 1 normal { onion slope_map { [0 1] } } }",
     ["a slope_map entry needs <height, slope>"]),
    ("sphere { 0, 1 normal { bumps slope_map { [0 <0, 1>] } } }",
     ["slope_map needs a pattern of its own before it"]),
    ("sphere { 0, 1 normal { brick normal { bumps } } }",
     ["bad.pov:4:", "brick in a normal takes 2 normals or none, got 1"]),
])
def test_normal_map_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert all(w in msg for w in words), msg


@pytest.mark.parametrize(("src", "words"), [
    ("#declare PM = pigment_map { [0 rgb 1] [1 rgb 0] }\n"
     "sphere { 0, 1 normal { bozo normal_map { PM } } }",
     ["bad.pov:5:", "expected '[' to start a normal_map entry, got 'PM'"]),
    ("#declare TM = texture_map { [0.5 pigment { rgb 1 }] [0.2 pigment { rgb 0 }] }\n"
     "box { 0, 1 texture { bozo texture_map { TM } } }",
     ["bad.pov:5: 'TM' cannot be used:", "bad.pov:4: texture_map values must not decrease"]),
    ("#declare NM = normal_map { }\nsphere { 0, 1 normal { bozo normal_map { NM } } }",
     ["'NM' cannot be used", "normal_map needs at least one entry"]),
    ("#declare PM = pigment_map { [0 rgb 1] }\n"
     "sphere { 0, 1 pigment { bozo pigment_map { PM [1 rgb 0] } } }",
     ["bad.pov:5:", "expected '}' after the map identifier, got '['"]),
])
def test_declared_map_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    """Declared pigment_map, normal_map and texture_map identifiers: a wrong kind of map, bad
    entries and an identifier with more entries after it are refused where they are."""
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert all(w in msg for w in words), msg


def test_client_refuses_a_normal_map_entry_pointing_at_itself(render_bin, client_elf, tmp_path):
    # the scene ends with the normal_map entries (c/povray/serialize.c, version 8); the last
    # entry's normal ends with its own map reference (u32 map_first, u32 map_n) and its
    # slope_map (u32, 0: none)
    scene = tmp_path / "n.pov"
    scene.write_text(HEAD + "light_source { <0, 5, -5> rgb 1 }\n"
                     "sphere { 0, 1 pigment { rgb 1 } normal { bozo normal_map { [0 bumps 1] "
                     "[1 dents 1] } } }\n")
    render(render_bin, scene, tmp_path / "n.png", 8, 6, "--dump-scene", str(tmp_path / "s"))
    good = (tmp_path / "s").read_bytes()
    assert struct.unpack("<III", good[-12:]) == (0, 0, 0)
    assert [k for k, _ in _client(client_elf, good)][-1] == b"E"
    for first, n in [(1, 1), (0, 2), (7, 1)]:
        frames = _client(client_elf, good[:-12] + struct.pack("<III", first, n, 0))
        assert frames[0][0] == b"X" and b"bad normal_map entry" in frames[0][1], frames[0]
    frames = _client(client_elf, good[:-12] + struct.pack("<III", 0, 0, 999))
    assert frames[0][0] == b"X" and b"bad slope_map" in frames[0][1], frames[0]
