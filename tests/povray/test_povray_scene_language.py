"""The scene-language subset: each feature renders like its spelled-out equivalent, and
anything outside the subset is an error naming file, line and word."""

from __future__ import annotations

import subprocess

import pytest
from conftest import parse_error, render, render_source

from cpushare_mq.povray.image import compare

HEAD = """#version 3.7;
global_settings { assumed_gamma 1.0 }
background { color rgb <0.2, 0.3, 0.5> }
camera { location <0, 2, -6> look_at <0, 1, 0> angle 60 }
light_source { <-5, 10, -8> color rgb <1, 1, 1> }
"""


def same(render_bin, tmp_path, a: str, b: str, w: int = 64, h: int = 48) -> bool:
    ia = render_source(render_bin, tmp_path, HEAD + a, w, h, "a")
    ib = render_source(render_bin, tmp_path, HEAD + b, w, h, "b")
    return ia.rgb == ib.rgb


def close(render_bin, tmp_path, a: str, b: str, w: int = 64, h: int = 48) -> bool:
    """Equal up to last-bit rounding (matrix path vs folded geometry)."""
    ia = render_source(render_bin, tmp_path, HEAD + a, w, h, "a")
    ib = render_source(render_bin, tmp_path, HEAD + b, w, h, "b")
    cmp = compare(ia, ib)
    return cmp.max_diff <= 1 or cmp.differing_pixels <= (w * h) // 200


SPHERE = "sphere { <0, 1, 0>, 1 pigment { color rgb <1, 0.2, 0.2> } finish { phong 0.5 } }"


def test_translate_folds_like_povray(render_bin, tmp_path):
    assert same(render_bin, tmp_path,
                "sphere { <0, 0, 0>, 1 translate <0.5, 1, 0> pigment { rgb 1 } }",
                "sphere { <0.5, 1, 0>, 1 pigment { rgb 1 } }")
    assert not same(render_bin, tmp_path, SPHERE,
                    "sphere { <0.5, 1, 0>, 1 pigment { rgb 1 } }")


def test_declare_float_vector_colour_pigment_finish_texture(render_bin, tmp_path):
    declared = """
#declare R = 0.5 * 2;
#declare C = <0, 1, 0>;
#declare Red = color rgb <1, 0.2, 0.2>;
#declare P = pigment { Red }
#declare F = finish { phong 0.5 }
#declare T = texture { pigment { P } finish { F } }
sphere { C, R texture { T } }
box { <-2, 0, -2>, <-1, 1, -1> pigment { P } finish { F diffuse 0.3 } }
"""
    inline = """
sphere { <0, 1, 0>, 1 texture { pigment { color rgb <1, 0.2, 0.2> } finish { phong 0.5 } } }
box { <-2, 0, -2>, <-1, 1, -1> pigment { rgb <1, 0.2, 0.2> } finish { phong 0.5 diffuse 0.3 } }
"""
    assert same(render_bin, tmp_path, declared, inline)


def test_union_groups_texture_and_transforms(render_bin, tmp_path):
    grouped = """
union {
  sphere { <0, 0, 0>, 0.5 }
  sphere { <1, 0, 0>, 0.5 pigment { rgb <0, 0, 1> } }
  union { box { <-1, -0.5, -0.5>, <-0.5, 0, 0> } }
  pigment { checker rgb 1, rgb <1, 0, 0> }
  translate <0, 1, 0>
}"""
    flat = """
sphere { <0, 1, 0>, 0.5 pigment { checker rgb 1, rgb <1, 0, 0> translate <0, 1, 0> } }
sphere { <1, 1, 0>, 0.5 pigment { rgb <0, 0, 1> } }
box { <-1, 0.5, -0.5>, <-0.5, 1, 0> pigment { checker rgb 1, rgb <1, 0, 0> translate <0, 1, 0> } }
"""
    assert same(render_bin, tmp_path, grouped, flat)


def test_object_transform_moves_its_texture(render_bin, tmp_path):
    moved = "plane { y, 0 pigment { checker rgb 1, rgb 0 } scale 2 }"
    assert same(render_bin, tmp_path, moved, "plane { y, 0 pigment { checker rgb 1, rgb 0 scale 2 } }")
    assert not same(render_bin, tmp_path, moved, "plane { y, 0 pigment { checker rgb 1, rgb 0 } }")


def test_pigment_finish_equal_texture(render_bin, tmp_path):
    assert same(render_bin, tmp_path,
                "sphere { <0,1,0>, 1 pigment { rgb <0.3, 0.6, 0.9> } finish { specular 0.6 roughness 0.02 } }",
                "sphere { <0,1,0>, 1 texture { pigment { colour <0.3, 0.6, 0.9> } finish { specular 0.6 roughness 0.02 } } }")


def test_expressions(render_bin, tmp_path):
    assert same(render_bin, tmp_path,
                "sphere { <1 + 1, 2 * 0.5, -(-1)> / 2 - x, (3 - 1) / 4 + 0.5 pigment { rgb 0.5 * <1, 2, 1> } }",
                "sphere { <0, 0.5, 0.5>, 1 pigment { rgb <0.5, 1, 0.5> } }")


def test_non_uniform_scale_uses_a_matrix(render_bin, tmp_path):
    assert close(render_bin, tmp_path,
                 "sphere { <0, 0, 0>, 1 scale <2, 1, 1> scale <0.5, 1, 1> translate y pigment { rgb 1 } }",
                 "sphere { <0, 1, 0>, 1 pigment { rgb 1 } }")
    assert not same(render_bin, tmp_path,
                    "sphere { <0, 0, 0>, 1 scale <2, 1, 1> translate y pigment { rgb 1 } }",
                    "sphere { <0, 1, 0>, 1 pigment { rgb 1 } }")


def test_rotate(render_bin, tmp_path):
    assert close(render_bin, tmp_path,
                 "box { <0, 0, 0>, <2, 1, 1> rotate <0, 0, 90> pigment { rgb 1 } }",
                 "box { <-1, 0, 0>, <0, 2, 1> pigment { rgb 1 } }")
    assert close(render_bin, tmp_path,
                 "cylinder { <0, -1, 0>, <0, 1, 0>, 0.5 rotate <0, 0, 90> translate y pigment { rgb 1 } }",
                 "cylinder { <1, 1, 0>, <-1, 1, 0>, 0.5 pigment { rgb 1 } }")


def test_cylinder_silhouette(render_bin, tmp_path):
    src = HEAD.replace("look_at <0, 1, 0> angle 60", "look_at <0, 2, 0> angle 60") + \
        "cylinder { <0, 0, 0>, <0, 4, 0>, 1 pigment { rgb <1, 1, 0> } finish { ambient 1 diffuse 0 } }"
    img = render_source(render_bin, tmp_path, src, 64, 48)
    bg = img.pixel(0, 0)
    assert img.pixel(32, 24) == (255, 255, 0)  # flat yellow: ambient 1 on rgb <1, 1, 0>
    # |x| = 1 at distance 6 with a 60 degree field: half-width 1/6 * (32 / tan 30) ~ 9.2 px
    assert img.pixel(32 + 7, 24) == (255, 255, 0) and img.pixel(32 + 12, 24) == bg
    assert img.pixel(32 - 8, 24) == (255, 255, 0) and img.pixel(32 - 13, 24) == bg


def test_comments_nest_and_lines_count(render_bin, tmp_path):
    assert same(render_bin, tmp_path,
                "/* a /* nested */ comment\n over lines */ // and a line comment\n" + SPHERE,
                SPHERE)
    msg = parse_error(render_bin, tmp_path, "/* one\n /* two */\n */\n\nfoo")
    assert "bad.pov:5:" in msg and "'foo'" in msg


def test_colour_spellings(render_bin, tmp_path):
    a = "sphere { <0,1,0>, 1 pigment { color rgb <1, 0.5, 0> } }"
    for b in ("sphere { <0,1,0>, 1 pigment { rgb <1, 0.5, 0> } }",
              "sphere { <0,1,0>, 1 pigment { colour <1, 0.5, 0> } }",
              "#declare C = rgb <1, 0.5, 0>;\nsphere { <0,1,0>, 1 pigment { color C } }"):
        assert same(render_bin, tmp_path, a, b)


def test_max_trace_level_1_drops_reflections(render_bin, tmp_path):
    mirror = "plane { y, 0 pigment { rgb 0.5 } finish { reflection 0.5 } }\n" + SPHERE
    flat = "plane { y, 0 pigment { rgb 0.5 } }\n" + SPHERE
    level1 = "global_settings { max_trace_level 1 }\n"
    assert same(render_bin, tmp_path, level1 + mirror, flat)
    assert not same(render_bin, tmp_path, mirror, flat)


def test_background_uses_srgb_curve(render_bin, tmp_path):
    img = render_source(render_bin, tmp_path, HEAD, 8, 6)

    def srgb(v):
        e = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
        return int(e * 255 + 0.5)

    assert set(img.rgb[i:i + 3] for i in range(0, len(img.rgb), 3)) == {
        bytes(srgb(v) for v in (0.2, 0.3, 0.5))
    }


def test_look_at_straight_ahead_equals_default_direction(render_bin, tmp_path):
    a = render_source(render_bin, tmp_path,
                      "camera { location <0, 1, -5> look_at <0, 1, 0> }\n" + SPHERE, 40, 30, "a")
    b = render_source(render_bin, tmp_path, "camera { location <0, 1, -5> }\n" + SPHERE, 40, 30, "b")
    assert a.rgb == b.rgb


@pytest.mark.parametrize("tile", ["1", "7", "32"])
def test_tile_size_does_not_change_bytes(render_bin, scenes, tmp_path, tile):
    whole = render(render_bin, scenes / "heavy.pov", tmp_path / "whole.png", 96, 72)
    tiled = render(render_bin, scenes / "heavy.pov", tmp_path / "tiled.png", 96, 72, "--tile", tile)
    assert whole.rgb == tiled.rgb


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("src, words", [
    ("sphere { <0, 0, 0>, 1\n photons { target } }", ["bad.pov:3:", "'photons'", "sphere"]),
    ("#include \"no-such-file.inc\"", ["bad.pov:2:", "'no-such-file.inc'", "--library-path"]),
    ("\novus { 1, 0.5 }", ["bad.pov:3:", "'ovus'"]),
    ("sphere { 0, 1 pigment { pavement color_map { [0 rgb 0] [1 rgb 1] } } }", ["'pavement'", "pigment"]),
    ("sphere { 0, 1 finish { subsurface { translucency 0.5 } } }", ["'subsurface'", "finish"]),
    ("sphere { 0, 1 finish { irid { 0.3 colour 1 } } }", ["'colour'", "irid"]),
    ("light_source { <0, 0, 0> color rgb 1 parallel point_at <0, 0, 0> }",
     ["parallel light: point_at equals the light's location"]),
    ("camera { mesh_camera { 1 0 } }", ["'mesh_camera'", "camera"]),
    ("camera { location -5*z orthographic }", ["'orthographic' after other camera items"]),
    ("global_settings { radiosity { } }", ["'radiosity'", "global_settings"]),
    ("global_settings { assumed_gamma 0 }", ["assumed_gamma", "0"]),
    ("sphere { 0, 1 pigment { color rgbf <1, 1, 1, 2e6> } }", ["filter 2e+06", "out of range"]),
    ("#declare S = ovus { 1, 0.5 }\nobject { S }", ["bad.pov:3:", "'S' cannot be used",
                                                     "bad.pov:2:", "'ovus'"]),
    ("sphere { Foo, 1 }", ["'Foo'"]),
    ("sphere { 0, -1 }", ["radius must be positive"]),
    ("sphere { 0, 1", ["end of file"]),
    ("plane { <0, 0, 0>, 1 }", ["degenerate plane normal"]),
    ("sphere { 0, 1 / 0 }", ["finite"]),
    ("#while (1) #end", ["#while", "loop iterations"]),
    ("#if (1) sphere { 0, 1 }", ["missing #end"]),
    ("#macro M(A) A #end\nM(1, 2)", ["M takes 1 parameters"]),
    ("#declare A = array[2] {1, 2}\n#declare B = A[2];", ["index 2 out of range"]),
    ("/* never closed", ["unterminated"]),
])
def test_errors_name_file_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, "#version 3.7;\n" + src)
    for w in words:
        assert w in msg, msg


def test_missing_file_and_bad_options(render_bin, tmp_path):
    proc = subprocess.run([str(render_bin), str(tmp_path / "nope.pov"), "-W", "8", "-H", "8",
                           "-o", str(tmp_path / "o.png")], capture_output=True, text=True)
    assert proc.returncode == 1 and "nope.pov: cannot open" in proc.stderr
    proc = subprocess.run([str(render_bin), "x.pov", "-W", "0", "-H", "8", "-o", "o.png"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "-W needs an integer" in proc.stderr
    proc = subprocess.run([str(render_bin), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "example" in proc.stdout
