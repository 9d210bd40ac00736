"""Patterns (issue 17): warp lists (warps.pov), agate, crackle (form, metric, offset, solid), cells and POV-Ray's
default colour maps (tests/data/scenes/lang/patterns2.pov), pigment_map, average and checker
with pigments (pmap.pov) against POV-Ray 3.7's renders, the distributed render byte-identical
to the native one, the sandboxed client refusing pigment_map references that would loop, and
the parser's messages."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error, render, render_source

from cpushare_mq.povray.cli import main
from cpushare_mq.povray.image import compare, read_png
from cpushare_mq.povray.tiles import Tile, frame, split_frames

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"
HEAD = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
        "camera { location <0, 0, -5> look_at 0 angle 40 }\n"
        "light_source { <0, 0, -10> rgb 1 }\n")


@pytest.mark.parametrize("name", ["patterns2", "shapes2", "normals2", "warp"])
def test_patterns_match_povray(render_bin, tmp_path, name):
    """patterns2: agate, crackle, cells, default maps; shapes2: radial, spiral1/2, quilted,
    hexagon, brick, mandel, waves, ripples (number_of_waves), wrinkles, bumps, dents;
    normals2: the normals of waves, ripples and quilted."""
    img = render(render_bin, LANG / f"{name}.pov", tmp_path / "p.png", 160, 120)
    cmp = compare(img, read_png(LANG / "ref" / f"{name}.png"))
    assert cmp.psnr_db >= 50.0 and cmp.max_diff <= 2, cmp.summary()


@pytest.mark.parametrize("name", ["patterns2", "pmap", "shapes2", "warp"])
def test_distributed_patterns_equal_native(render_bin, tmp_path, capsys, name):
    """crackle keeps the nuclei of the last cube it saw, pigment_maps nest: tiles on
    sandboxed workers in any order give the same bytes as one process."""
    out = tmp_path / "d.png"
    rc = main(["render", str(LANG / f"{name}.pov"), "-W", "160", "-H", "120", "-o", str(out),
               "--tile", "16", "--workers", "2", "--no-progress"])
    assert rc == 0, capsys.readouterr()
    native = render(render_bin, LANG / f"{name}.pov", tmp_path / "n.png", 160, 120)
    assert read_png(out).rgb == native.rgb


def test_a_pattern_without_a_map_takes_povrays_default(render_bin, tmp_path):
    bare = render_source(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { bozo scale 0.2 } }\n",
                         name="bare")
    given = render_source(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { bozo color_map { "
                          "[0.4 rgb 1] [0.4 rgb <0, 1, 0>] [0.6 rgb <0, 1, 0>] [0.6 rgb <0, 0, 1>] "
                          "[0.8 rgb <0, 0, 1>] [0.8 rgb <1, 0, 0>] } scale 0.2 } }\n", name="given")
    assert bare.rgb == given.rgb


@pytest.mark.parametrize(("src", "words"), [
    ("pigment { mandel 0 }", ["mandel needs 1..1000000 iterations"]),
    ("pigment { mandel 9 exponent 5 }", ["unsupported mandel exponent 5"]),
    ("pigment { brick brick_size <1, 0, 1> }", ["brick_size must be positive"]),
    ("normal { checker normal { bumps } }", ["checker in a normal takes 2 normals or none, got 1"]),
    ("normal { hexagon normal { bumps } normal { dents } }",
     ["hexagon in a normal takes 3 normals or none, got 2"]),
    ("normal { bumps 0.5 warp { wormhole 0, 1 } }", ["unsupported warp 'wormhole'"]),
    ("pigment { rgb 1 warp { turbulence 0.2 } }", ["warp in a pigment without a pattern"]),
    ("pigment { bozo warp { spherical radius 2 } }", ["unsupported word 'radius' in warp spherical"]),
    ("pigment { bozo warp { black_hole 0, 0 } }", ["black_hole radius must be positive"]),
])
def test_more_pattern_errors(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 " + src + " }\n")
    assert "bad.pov:5:" in msg and all(w in msg for w in words), msg


def test_number_of_waves_range(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, HEAD + "global_settings { number_of_waves 0 }\n")
    assert "bad.pov:5:" in msg and "number_of_waves must be in 1..64" in msg


def test_pattern_keyword_errors(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { crackle metric 0 } }\n")
    assert "bad.pov:5:" in msg and "crackle metric must be positive" in msg
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { bozo form <1, 0, 0> } }\n")
    assert "bad.pov:5:" in msg and "'form'" in msg


def test_pigment_map_average_and_checker_pigments_match_povray(render_bin, tmp_path):
    img = render(render_bin, LANG / "pmap.pov", tmp_path / "p.png", 160, 120)
    cmp = compare(img, read_png(LANG / "ref" / "pmap.png"))
    assert cmp.psnr_db >= 50.0 and cmp.max_diff <= 2, cmp.summary()


def _scene_bytes(render_bin, tmp_path, src: str) -> bytes:
    scene = tmp_path / "t.pov"
    scene.write_text(HEAD + src)
    render(render_bin, scene, tmp_path / "t.png", 8, 6, "--dump-scene", str(tmp_path / "t.scene"))
    return (tmp_path / "t.scene").read_bytes()


def _client(client_elf, scene: bytes) -> list:
    tile = Tile(8, 6, 0, 0, 8, 6).encode()
    stdin = frame(b"S", scene) + frame(b"F", tile)
    proc = subprocess.run([str(client_elf)], input=stdin, capture_output=True, timeout=60)
    assert proc.returncode == 0
    return split_frames(proc.stdout)


@pytest.mark.parametrize(("sub_first", "sub_n"), [(2, 1), (0, 3), (1, 0xFFFFFFFF)])
def test_client_refuses_a_pigment_map_entry_that_refers_to_itself_or_beyond(
        render_bin, client_elf, tmp_path, sub_first, sub_n):
    """Entry 2 (the gradient) may use only entries 0 and 1: a reference to itself (a cycle)
    or past them is refused, never followed."""
    good = _scene_bytes(render_bin, tmp_path, "sphere { 0, 1 pigment { bozo pigment_map { "
                        "[0.25 gradient x phase 0.3125 pigment_map { [0 rgb 1] [1 rgb 0] }] "
                        "[0.75 rgb <1, 0, 0>] } } }\n")
    at = good.index(struct.pack("<d", 0.3125)) + 8
    # after the phase: exponent, gradient vector, has_turb, octaves, noise_generator, turb,
    # omega, lambda, nine pattern parameters (six before format 8), then sub_first and sub_n
    at += 8 + 24 + 12 + 24 + 16 + 72
    assert good[at:at + 8] == struct.pack("<II", 0, 2)
    bad = good[:at] + struct.pack("<II", sub_first, sub_n) + good[at + 8:]
    assert [k for k, _ in _client(client_elf, good)][-1] == b"E"
    frames = _client(client_elf, bad)
    assert frames[0][0] == b"X" and "pigment_map" in frames[0][1].decode()


def test_pigment_map_errors(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { pigment_map { [0 rgb 1] } } }\n")
    assert "bad.pov:5:" in msg and "pigment_map needs a pattern" in msg
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { average } }\n")
    assert "bad.pov:5:" in msg and "average needs a pigment_map" in msg
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { checker pigment { rgb 1 } } }\n")
    assert "bad.pov:5:" in msg and "checker needs two pigments" in msg
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { gradient x pigment_map "
                      "{ [0.5 rgb 1] [0.2 rgb 0] } } }\n")
    assert "bad.pov:5:" in msg and "ascending" in msg


def test_a_comma_may_come_before_bump_size(render_bin, tmp_path):
    """POV-Ray's own sample scenes write normal { gradient x, 5.6 }."""
    comma = render_source(render_bin, tmp_path, HEAD + "sphere { 0, 1 normal { gradient x, 0.6 "
                          "scale 0.2 } }\n", name="comma")
    plain = render_source(render_bin, tmp_path, HEAD + "sphere { 0, 1 normal { gradient x 0.6 "
                          "scale 0.2 } }\n", name="plain")
    assert comma.rgb == plain.rgb


def test_repeat_warp_matches_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "warprepeat.pov")


def test_warps_in_normals_match_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "normalwarp.pov")


@pytest.mark.parametrize("scene", ["warprepeat.pov", "normalwarp.pov"])
def test_distributed_warps_equal_native(render_bin, tmp_path, scene):
    distributed_equals_native(render_bin, tmp_path, LANG / scene)


@pytest.mark.parametrize(("src", "words"), [
    ("sphere { 0, 1 pigment { agate warp { repeat <1, 1, 0> } } }",
     ["warp repeat needs a vector along one axis"]),
    ("sphere { 0, 1 pigment { agate warp { repeat x turn 2 } } }",
     ["unsupported word 'turn' in warp repeat"]),
    ("sphere { 0, 1 pigment { agate warp { swirl 0, 1 } } }",
     ["unsupported warp 'swirl'"]),
    ("sphere { 0, 1 pigment { agate warp { toroidal orientation y major_radius 2 dist 1 } } }",
     ["unsupported word 'dist' in warp toroidal"]),
])
def test_warp_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert "bad.pov:" in msg and all(w in msg for w in words), msg


def test_julia_and_magnet_match_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "fractals.pov")


def test_distributed_fractals_equal_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "fractals.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("sphere { 0, 1 pigment { magnet 3 mandel 10 } }", ["magnet type must be 1 or 2, got 3"]),
    ("sphere { 0, 1 pigment { magnet 1 bozo 10 } }",
     ["expected mandel or julia after magnet 1, got 'bozo'"]),
    ("sphere { 0, 1 pigment { julia 0.3, 10 } }", ["julia needs a 2D vector"]),
    ("sphere { 0, 1 pigment { magnet 2 mandel 10 exponent 3 } }", ["magnet takes no exponent"]),
    ("sphere { 0, 1 pigment { julia <0, 1>, 10 exponent 5 } }", ["unsupported mandel exponent 5"]),
])
def test_fractal_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert "bad.pov:" in msg and all(w in msg for w in words), msg


def test_noise_generator_3_matches_povray(render_bin, tmp_path):
    # POV-Ray's Perlin solid noise (noise.cpp's SolidNoise) through bozo, granite, wrinkles,
    # turbulence and bumps, set globally and overridden per pattern
    matches_povray(render_bin, tmp_path, LANG / "noisegen3.pov")


def test_distributed_noise_generator_3_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "noisegen3.pov")


@pytest.mark.parametrize("src", [
    "sphere { 0, 1 pigment { bozo noise_generator 4 } }",
    "global_settings { noise_generator 0 }\nsphere { 0, 1 }",
])
def test_noise_generator_out_of_range_is_refused(render_bin, tmp_path, src):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert "bad.pov:" in msg and "noise_generator must be 1, 2 or 3" in msg, msg


@pytest.mark.parametrize("scene", ["warps.pov", "checkerwarp.pov"])
def test_warp_lists_match_povray(render_bin, tmp_path, scene):
    # black_hole (repeated, jittered), planar, spherical, cylindrical, toroidal, cubic, several
    # warps in one pattern with transforms between them, warps in a normal; a plain checker
    # with turbulence and warps
    matches_povray(render_bin, tmp_path, LANG / scene)


@pytest.mark.parametrize("scene", ["warps.pov", "checkerwarp.pov"])
def test_distributed_warp_lists_equal_native(render_bin, tmp_path, scene):
    distributed_equals_native(render_bin, tmp_path, LANG / scene)


@pytest.mark.parametrize(("field", "value", "message"), [
    (0, 99, b"unknown warp"),            # the warp's type
    (1, 0, b"bad turbulence warp"),      # its octaves
])
def test_client_refuses_a_damaged_warp(render_bin, client_elf, tmp_path, field, value, message):
    scene = tmp_path / "w.pov"
    scene.write_text(HEAD + "sphere { 0, 1 pigment { bozo warp { turbulence 0.3 } } }\n")
    render(render_bin, scene, tmp_path / "w.png", 8, 6, "--dump-scene", str(tmp_path / "d"))
    good = (tmp_path / "d").read_bytes()
    # a warp as the scene carries it (c/povray/serialize_image.c): u32 type (turbulence 1),
    # u32 octaves (6), the transform before it (here none: the identity, 12 f64)
    ident = struct.pack("<12d", 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0)
    at = good.find(struct.pack("<II", 1, 6) + ident)
    assert at > 0
    bad = bytearray(good)
    bad[at + 4 * field: at + 4 * field + 4] = struct.pack("<I", value)
    frames = _client(client_elf, bytes(bad))
    assert frames[0][0] == b"X" and message in frames[0][1], frames[0]
