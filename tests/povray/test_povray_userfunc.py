"""User-defined float functions (issue 16): function [(params)] { expression } and calls,
against POV-Ray 3.7's render of tests/data/scenes/lang/functions.pov; what is not a float
function stays an error naming file, line and word -- when it is used."""

from __future__ import annotations

from pathlib import Path

from conftest import parse_error, render, render_source

from cpushare_mq.povray.image import compare, read_png

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"
HEAD = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
        "camera { location <0, 0, -3> look_at 0 }\n")


def test_functions_match_povray(render_bin, tmp_path):
    img = render(render_bin, LANG / "functions.pov", tmp_path / "f.png", 160, 120)
    cmp = compare(img, read_png(LANG / "ref" / "functions.png"))
    assert cmp.psnr_db >= 50.0 and cmp.max_diff <= 2, cmp.summary()


def test_function_values(render_bin, tmp_path):
    src = HEAD + ("#declare F = function(a, b) { a * 0.5 + b }\n"
                  "#declare G = function { x + y * 2 - z }\n"
                  "#declare H = function(x) { F(x, 0) + G(0, 0, -0.25) }\n"
                  "background { color rgb <F(0.5, 0.25), G(0.25, 0.125, 0.25), H(0.5)> }\n")
    img = render_source(render_bin, tmp_path, src, 4, 4)
    # 0.5, 0.25, 0.5 in a linear working space, written as sRGB: 188, 137, 188
    assert img.rgb[:3] == bytes([188, 137, 188])


def test_unsupported_functions_fail_where_used(render_bin, tmp_path):
    unused = HEAD + ('#declare P = function { transform { scale 2 } }\n'
                     "background { color rgb 1 }\n")
    assert render_source(render_bin, tmp_path, unused, 4, 4).rgb[:3] == b"\xff\xff\xff"
    used = HEAD + ("#declare P = function { transform { scale 2 } }\n"
                   "background { color rgb P(0, 0, 0) }\n")
    msg = parse_error(render_bin, tmp_path, used)
    assert "bad.pov:5:" in msg and "'P' cannot be used" in msg and "'transform'" in msg
    assert "takes 2 parameters, got 1" in parse_error(
        render_bin, tmp_path, HEAD + "#declare F = function(a, b) { a }\n"
        "background { color rgb F(1) }\n")


def test_a_pigment_function_declared_in_a_macro_keeps_the_macros_names(render_bin, tmp_path):
    # #declare F = function { pigment { ... } } inside a macro names the macro's parameter and
    # local pigment; F is read after the macro has returned (advanced/wallstucco's BrickWall)
    head = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\ncamera { location <0, 0, -4> "
            "look_at 0 }\nlight_source { <0, 3, -5> rgb 1 }\n")
    in_macro = render_source(render_bin, tmp_path, head + (
        "#macro Make(Size)\n"
        "  #local Stripes = pigment { gradient x color_map { [0 rgb 0] [1 rgb 1] } }\n"
        "  #declare F = function { pigment { pigment_pattern { gradient y scale Size.y }\n"
        "    pigment_map { [0.5 Stripes] [0.5 rgb <1, 0, 0>] } } }\n"
        "#end\n"
        "Make(<1, 0.5, 1>)\n"
        "plane { z, 0 pigment { function { F(x, y, z).red } } }\n"), name="in_macro")
    direct = render_source(render_bin, tmp_path, head + (
        "#declare Stripes = pigment { gradient x color_map { [0 rgb 0] [1 rgb 1] } }\n"
        "#declare F = function { pigment { pigment_pattern { gradient y scale 0.5 }\n"
        "  pigment_map { [0.5 Stripes] [0.5 rgb <1, 0, 0>] } } }\n"
        "plane { z, 0 pigment { function { F(x, y, z).red } } }\n"), name="direct")
    assert in_macro.rgb == direct.rgb
