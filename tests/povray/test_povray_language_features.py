"""The scene language as POV-Ray scenes use it (issues 16 and 17): small scenes of our own
against POV-Ray 3.7's renders of them (tests/data/scenes/lang/README.md), the include search
rules, and the distributed render of a pattern scene byte-identical to the native one."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error, render
from test_povray_patterns import _client, _scene_bytes

from cpushare_mq.povray.cli import main
from cpushare_mq.povray.image import compare, read_png

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"
POVRAY_INI = Path("/etc/povray/3.7/povray.ini")


@pytest.mark.parametrize("name", ["directives", "patterns", "gamma22", "legacy", "ortho", "shapes",
                                  "finish", "cylcam", "ultrawide", "fisheye", "panoramic",
                                  "spherical", "csg", "poly", "normal", "fog", "rand", "lights", "transform", "transparent", "camxf", "normalturb",
                                  "mapforms", "reflect", "arealight", "lookdown", "vturb", "matdecl", "lightunion", "irid", "doubleillum", "parallel", "rainbow", "cylinderlight", "trace", "mesh2", "avgtex", "defaultdecl", "lightdecl",
                                  "declmaps", "slope"])
def test_feature_scene_matches_povray(render_bin, tmp_path, name):
    img = render(render_bin, LANG / f"{name}.pov", tmp_path / f"{name}.png", 160, 120,
                 "-L", str(LANG / "inc"))
    cmp = compare(img, read_png(LANG / "ref" / f"{name}.png"))
    assert cmp.psnr_db >= 50.0 and cmp.max_diff <= 2, cmp.summary()


def test_slope_distributed_equals_native(render_bin, tmp_path):
    """The slope pattern reads the surface being shaded: the sandboxed workers' tiles give the
    native bytes (no state left from another pixel)."""
    distributed_equals_native(render_bin, tmp_path, LANG / "slope.pov")


def test_projected_through_matches_povray(render_bin, tmp_path):
    """projected_through: light only through the object (a declared one, one in place moved
    by the light's transform, an area light's and a shadowless light's), shadowed only by
    what lies before it; a few pixels where an area light's samples graze the red sphere
    differ by one sample."""
    img = render(render_bin, LANG / "projected.pov", tmp_path / "pj.png", 160, 120)
    cmp = compare(img, read_png(LANG / "ref" / "projected.png"))
    assert cmp.psnr_db >= 60.0 and cmp.max_diff <= 20, cmp.summary()
    distributed_equals_native(render_bin, tmp_path, LANG / "projected.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("sphere { 0, 1 pigment { slope { 0 altitude 0 } } }",
     ["bad.pov:3:", "slope: zero length for both the slope and the altitude vector"]),
    ("sphere { 0, 1 pigment { slope { point_at y altitude y } } }",
     ["bad.pov:3:", "'altitude' cannot be used with 'point_at' in slope"]),
    ("light_source { 0, 1 projected_through { rgb 1 } }",
     ["bad.pov:3:", "expected an object in projected_through"]),
    ("union { light_source { 0, 1 projected_through { sphere { 0, 1 } } } sphere { 0, 1 } }",
     ["bad.pov:3:", "projected_through on a light_source inside a CSG block"]),
    ("light_source { 0, 1 projected_through { sphere { 0, 1 } } "
     "projected_through { sphere { 0, 1 } } }", ["one projected_through"]),
])
def test_slope_and_projected_through_errors_name_the_line(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, "#version 3.7;\ncamera { location -5*z }\n" + src)
    assert all(w in msg for w in words), msg


@pytest.mark.parametrize(("first", "n", "message"), [
    (0, 2, "projected_through object drawn as well"),    # the drawn sphere too
    (1, 7, "projected_through objects out of range"),
    (0xFFFFFFFF, 1, "projected_through objects out of range"),
])
def test_client_refuses_a_light_seeing_through_what_it_should_not(render_bin, client_elf,
                                                                  tmp_path, first, n, message):
    """A light's projected_through objects must be objects only that light sees."""
    good = _scene_bytes(render_bin, tmp_path, "sphere { 0, 1 pigment { rgb 1 } }\n"
                        "light_source { <0, 5, -5> rgb <0.8125, 0.3125, 0.1875> "
                        "projected_through { sphere { <0, 4, -4>, 0.5 } } }\n")
    # a light: pos, colour, u32 flags, type, dir, 5 f64, 4 u32, axis1, axis2, point_at, then
    # u32 proj_first, proj_n (scene format 10)
    at = good.index(struct.pack("<3d", 0.8125, 0.3125, 0.1875)) + 24 + 160
    assert struct.unpack_from("<II", good, at) == (1, 1)
    assert [k for k, _ in _client(client_elf, good)][-1] == b"E"
    frames = _client(client_elf, good[:at] + struct.pack("<II", first, n) + good[at + 8:])
    assert frames[0][0] == b"X" and message in frames[0][1].decode(), frames[0]


def test_parallel_area_lights_and_spotlights_match_povray(render_bin, tmp_path):
    """A parallel area light's samples aimed from point_at through each grid point (soft
    shadows), one moved by a union's transform, and a parallel spotlight. The spotlight alone
    is pixel-identical and so is a non-parallel area light; here a few scattered pixels
    differ by a sample (POV-Ray's shadow cache tests the last blocking object first, which
    depends on the order of rays; ours has no cache) and the circular light's grazing
    samples (as with circular lights that are not parallel)."""
    img = render(render_bin, LANG / "parallelarea.pov", tmp_path / "pa.png", 160, 120)
    cmp = compare(img, read_png(LANG / "ref" / "parallelarea.png"))
    assert cmp.psnr_db >= 55.0 and cmp.max_diff <= 8, cmp.summary()
    # point_at travels in the scene (format 10): sandboxed workers give the same bytes
    distributed_equals_native(render_bin, tmp_path, LANG / "parallelarea.pov")


def _run(render_bin, scene: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(render_bin), str(scene), "-W", "16", "-H", "12", "-o",
                           str(tmp_path / "o.png"), *extra], capture_output=True, text=True,
                          timeout=60)


def test_include_search_order_and_error(render_bin, tmp_path):
    lib1, lib2 = tmp_path / "lib1", tmp_path / "lib2"
    lib1.mkdir()
    lib2.mkdir()
    (lib1 / "c.inc").write_text("#declare C = rgb <1, 0, 0>;\n")
    (lib2 / "c.inc").write_text("#declare C = rgb <0, 0, 1>;\n")
    scene = tmp_path / "s.pov"
    scene.write_text('#version 3.7;\nglobal_settings { assumed_gamma 1 }\n#include "c.inc"\n'
                     "background { C }\n")
    # the first library path wins
    assert _run(render_bin, scene, tmp_path, "-L", str(lib2), "-L", str(lib1)).returncode == 0
    assert read_png(tmp_path / "o.png").rgb[:3] == bytes([0, 0, 255])
    # the scene's own folder comes before every library path
    (tmp_path / "c.inc").write_text("#declare C = rgb <0, 1, 0>;\n")
    assert _run(render_bin, scene, tmp_path, "+L" + str(lib2)).returncode == 0
    assert read_png(tmp_path / "o.png").rgb[:3] == bytes([0, 255, 0])
    (tmp_path / "c.inc").unlink()
    scene.write_text('#include "nope.inc"\n')
    proc = _run(render_bin, scene, tmp_path, "--library-path", str(lib1))
    assert proc.returncode == 1
    assert "s.pov:1:" in proc.stderr and "'nope.inc'" in proc.stderr
    assert str(lib1) in proc.stderr and "--library-path" in proc.stderr


def test_default_library_path_is_povray_ini(render_bin, tmp_path):
    """Without -L, POV-Ray 3.7's own Library_Path entries are searched (colors.inc)."""
    scene = tmp_path / "s.pov"
    scene.write_text('#version 3.7;\nglobal_settings { assumed_gamma 1 }\n'
                     '#include "colors.inc"\nbackground { Orange }\n')
    proc = _run(render_bin, scene, tmp_path)
    if POVRAY_INI.exists() and (Path("/usr/share/povray-3.7/include/colors.inc")).exists():
        assert proc.returncode == 0, proc.stderr
        assert read_png(tmp_path / "o.png").rgb[:3] == bytes([255, 188, 0])
    else:  # no POV-Ray installed: a clear error naming what was searched
        assert proc.returncode == 1 and "'colors.inc'" in proc.stderr


def test_clock_and_image_size(render_bin, tmp_path):
    scene = tmp_path / "s.pov"
    scene.write_text("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
                     "#if (image_width = 16 & image_height = 12)\n"
                     "background { rgb <clock, 0, 0> }\n#else\n#error \"size\"\n#end\n")
    assert _run(render_bin, scene, tmp_path, "--clock", "1").returncode == 0
    assert read_png(tmp_path / "o.png").rgb[:3] == bytes([255, 0, 0])
    assert _run(render_bin, scene, tmp_path, "+K0").returncode == 0
    assert read_png(tmp_path / "o.png").rgb[:3] == bytes([0, 0, 0])
    bad = _run(render_bin, scene, tmp_path, "--clock", "soon")
    assert bad.returncode == 2 and "--clock needs a number" in bad.stderr


def test_failed_declaration_is_an_error_only_when_used(render_bin, tmp_path):
    scene = tmp_path / "s.pov"
    body = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
            "#declare T = texture { pigment { pavement color_map { [0 rgb 0] [1 rgb 1] } } }\n")
    scene.write_text(body + "sphere { 0, 1 }\n")
    assert _run(render_bin, scene, tmp_path).returncode == 0
    scene.write_text(body + "sphere { 0, 1 texture { T } }\n")
    proc = _run(render_bin, scene, tmp_path)
    assert proc.returncode == 1
    assert "s.pov:4: 'T' cannot be used" in proc.stderr and "s.pov:3:" in proc.stderr
    assert "'pavement'" in proc.stderr


def test_distributed_pattern_scene_equals_native(render_bin, tmp_path, capsys):
    out = tmp_path / "d.png"
    rc = main(["render", str(LANG / "patterns.pov"), "-W", "160", "-H", "120", "-o", str(out),
               "--tile", "16", "--workers", "2", "--no-progress", "-L", str(LANG / "inc")])
    assert rc == 0, capsys.readouterr()
    native = render(render_bin, LANG / "patterns.pov", tmp_path / "n.png", 160, 120)
    assert read_png(out).rgb == native.rgb


def test_declared_camera_and_a_broken_declaration_never_swallows_the_next_item(render_bin,
                                                                              tmp_path):
    scene = tmp_path / "s.pov"
    scene.write_text("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
                     "#declare Cam = camera { location <0, 0, -5> look_at 0 angle 30 }\n"
                     "camera { Cam }\nsphere { 0, 1 pigment { rgb 1 } finish { ambient 1 } }\n")
    assert _run(render_bin, scene, tmp_path).returncode == 0
    # angle 30 from 5 units: the unit sphere fills the middle of a 16x12 image
    assert read_png(tmp_path / "o.png").rgb[(6 * 16 + 8) * 3] == 255
    # a failed sky_sphere declaration is skipped alone: the sky_sphere using it is an error
    scene.write_text("#version 3.7;\n#declare Sky = sky_sphere { pigment { rgb 1 } "
                     "emission 2 }\n"
                     "sky_sphere { Sky }\n")
    proc = _run(render_bin, scene, tmp_path)
    assert proc.returncode == 1 and "s.pov:3:" in proc.stderr and "'Sky'" in proc.stderr


def test_macro_parameters_are_references_to_identifiers(render_bin, tmp_path):
    """POV-Ray passes an identifier argument by reference: #declare of the parameter inside
    the macro changes the caller's identifier (language/macros/macro2.pov relies on it);
    an expression argument is a value."""
    scene = tmp_path / "s.pov"
    scene.write_text("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
                     "#macro Halve(V) #declare V = V / 2; #end\n"
                     "#declare A = 1;\nHalve(A)\n#declare B = 1;\nHalve(B + 0)\n"
                     "background { rgb <A, B, 0> }\n")
    assert _run(render_bin, scene, tmp_path).returncode == 0
    assert read_png(tmp_path / "o.png").rgb[:3] == bytes([188, 255, 0])


def test_local_of_a_reference_parameter_changes_the_callers_identifier(render_bin, tmp_path):
    """#local of a parameter given an identifier assigns that identifier too, through a
    chain of macros, as POV-Ray's pointer to the caller's entry does (language/tracevines.pov
    grew its vines from stale roots without it, past 20 million loop turns); an expression
    argument stays a value. POV-Ray 3.7.0.10 writes "11 101 11 11 1"."""
    src = ("#version 3.7;\n"
           "#macro SetL(A) #local A = A + 10; #end\n"
           "#macro SetD(A) #declare A = A + 100; #end\n"
           "#macro Pass(B) SetL(B) #end\n"
           "#macro Shadow(C) #local Q = 1; SetL(Q) #local C = Q; #end\n"
           "#declare X = 1; SetL(X)\n#declare Y = 1; SetD(Y)\n#declare Z = 1; Pass(Z)\n"
           "#declare W = 0; Shadow(W)\n#declare E = 1; SetL(E + 0)\n"
           '#error concat(str(X,0,0), " ", str(Y,0,0), " ", str(Z,0,0), " ", str(W,0,0), " ", '
           "str(E,0,0))\n")
    assert "#error: 11 101 11 11 1" in parse_error(render_bin, tmp_path, src)


def test_declare_of_a_local_name_changes_the_local(render_bin, tmp_path):
    """#declare of a name #local in an enclosing scope changes that local, as POV-Ray's
    Parse_Declare reuses the entry the name finds (shapes.inc's HF_Square counts a #local K
    up with #declare K = K + 1: taken as a new global, its loop never ended); an undeclared
    name becomes global. POV-Ray 3.7.0.10 prints "in: 6 in if: 7 global: none N Q: 3 global
    Q: none" for this scene's #debug of R."""
    src = ("#version 3.7;\n#declare R = \"\";\n"
           "#macro M() #local K = 1; #declare K = K + 5;\n"
           '  #declare R = concat(R, "in: ", str(K, 0, 0), " ");\n'
           "  #if (1) #declare K = K + 1;\n"
           '    #declare R = concat(R, "in if: ", str(K, 0, 0), " "); #end\n#end\nM()\n'
           '#ifdef (K) #declare R = concat(R, "global: ", str(K, 0, 0), " ");\n'
           '#else #declare R = concat(R, "global: none "); #end\n'
           "#macro N() #local Q = 1; #while (Q < 3) #declare Q = Q + 1; #end\n"
           '  #declare R = concat(R, "N Q: ", str(Q, 0, 0), " "); #end\nN()\n'
           '#ifdef (Q) #declare R = concat(R, "global Q: ", str(Q, 0, 0));\n'
           '#else #declare R = concat(R, "global Q: none"); #end\n'
           "#declare G = 1; #macro S() #declare G = G + 1; #end S() S()\n"
           '#error concat(R, " G: ", str(G, 0, 0))\n')
    msg = parse_error(render_bin, tmp_path, src)
    assert "#error: in: 6 in if: 7 global: none N Q: 3 global Q: none G: 3" in msg, msg


def test_undef_removes_the_innermost_name(render_bin, tmp_path):
    src = ("#version 3.7;\n#declare A = 1;\n#macro M() #local A = 2; #undef A\n"
           '  #declare R = str(A, 0, 0); #end\nM()\n#undef A\n'
           '#ifdef (A) #declare R = "still"; #end\n#error concat("R ", R)\n')
    assert "#error: R 1" in parse_error(render_bin, tmp_path, src)


def test_bad_spherical_vertical_angle_is_an_error_naming_it(render_bin, tmp_path):
    err = parse_error(render_bin, tmp_path, "#version 3.7;\ncamera { spherical angle 180, -90 }\n"
                      "sphere { 0, 1 pigment { rgb 1 } }\n")
    assert "bad.pov:2" in err and "vertical angle" in err and "-90" in err


def test_lens_camera_distributed_equals_native(render_bin, tmp_path, capsys):
    scene = LANG / "fisheye.pov"
    out = tmp_path / "d.png"
    rc = main(["render", str(scene), "-W", "160", "-H", "120", "-o", str(out),
               "--tile", "24", "--workers", "2", "--no-progress", "-L", str(LANG / "inc")])
    assert rc == 0
    native = render(render_bin, scene, tmp_path / "n.png", 160, 120, "-L", str(LANG / "inc"))
    assert read_png(out).rgb == native.rgb


def test_bounded_by_clipped_by_needs_the_clip_first(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, "#version 3.7;\ncamera { location -5 * z }\n"
                      "sphere { 0, 1 bounded_by { clipped_by } clipped_by { plane { y, 0 } } }\n")
    assert "bad.pov:3:" in msg and "bounded_by { clipped_by } before clipped_by" in msg


@pytest.mark.parametrize(("src", "words"), [
    ("finish { reflection { 0.2, 0.8 exponent 0 } }", ["exponent must not be 0"]),
    ("finish { reflection { 0.2 blurry } }", ["unsupported word 'blurry' in reflection"]),
    ("finish { reflection_exponent 0 }", ["reflection_exponent must not be 0"]),
])
def test_reflection_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, "#version 3.7;\ncamera { location -5 * z }\n"
                      f"sphere {{ 0, 1\n{src}\n}}\n")
    assert "bad.pov:4:" in msg and all(w in msg for w in words), msg


@pytest.mark.parametrize("name", ["arealight_jitter", "crand"])
def test_random_features_are_close_to_povray_and_the_same_on_every_worker(render_bin, tmp_path,
                                                                        name):
    """Area light jitter and crand: POV-Ray draws random numbers, ours are a hash of the
    shading point: close (40 dB), and tiles on workers give the same bytes."""
    matches_povray(render_bin, tmp_path, LANG / f"{name}.pov", min_psnr_db=40.0, max_diff=255)
    distributed_equals_native(render_bin, tmp_path, LANG / f"{name}.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("area_light x, z, 0, 4", ["area_light sizes must be 1..64"]),
    ("area_light x, z, 65, 4", ["area_light sizes must be 1..64"]),
    ("area_light x, z, 1, 4 circular", ["circular area_light of less than 2 x 2"]),
    ("area_light x, z, 4, 4 adaptive -1", ["adaptive must be 0..64"]),
])
def test_area_light_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, "#version 3.7;\ncamera { location -5 * z }\n"
                      f"light_source {{ <0, 5, 0> rgb 1\n{src}\n}}\n")
    assert "bad.pov:" in msg and all(w in msg for w in words), msg


def test_camera_normal_matches_povray(render_bin, tmp_path):
    """62 dB: a few pixels where a bent ray grazes an edge differ by rounding."""
    matches_povray(render_bin, tmp_path, LANG / "camnormal.pov", min_psnr_db=55.0, max_diff=255)


def test_camera_normal_on_a_lens_camera_is_refused(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, "#version 3.7;\ncamera { fisheye location -5 * z\n"
                      "normal { bumps 0.5 } }\n")
    assert "bad.pov:3:" in msg and "camera normal on a fisheye" in msg


def test_optional_floats_take_boolean_words(render_bin, tmp_path):
    """'metallic on' is 'metallic 1' and 'metallic off' is 'metallic 0' (POV-Ray reads a
    boolean word as a float wherever an optional float may follow a word)."""
    def scene(word: str) -> bytes:
        src = ("camera { location <0, 1, -4> look_at 0 } light_source { <-5, 9, -9>, rgb 1 }\n"
               "sphere { 0, 1 pigment { rgb <0.9, 0.4, 0.1> } finish { phong 1 metallic "
               f"{word} reflection {{ 0.3 metallic {word} }} }} }}\n"
               "plane { y, -1 pigment { rgb 0.5 } }\n")
        p = tmp_path / f"m-{word}.pov"
        p.write_text(src)
        return render(render_bin, p, tmp_path / f"m-{word}.png", 32, 24).rgb

    assert scene("on") == scene("1") != scene("0") == scene("off")


def test_a_declared_light_inside_a_block_is_refused(render_bin, tmp_path):
    err = parse_error(render_bin, tmp_path, "#version 3.7;\n#declare L = light_source { <0, 5, 0> "
                      "rgb 1 }\nunion { sphere { 0, 1 } object { L } }\n")
    assert "bad.pov:3:" in err and "the declared light_source 'L' inside an object" in err, err
    err = parse_error(render_bin, tmp_path, "#version 3.7;\n#declare L = light_source { <0, 5, 0> "
                      "rgb 1 }\nobject { L pigment { rgb 1 } }\n")
    assert "bad.pov:3:" in err and "'pigment' on a declared light_source" in err, err


def test_a_light_in_a_declared_object_is_refused_with_one_line(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, "#declare U = union { light_source { 0, 1 } "
                      "sphere { 0, 1 } }\nobject { U }\ncamera { location -5*z look_at 0 }\n")
    assert "a light_source inside a declared object" in msg, msg


def test_irid_materials_and_rainbows_render_the_same_distributed(render_bin, tmp_path):
    """Scene format 7 (irid, the scene's irid wavelengths and noise generator, rainbows) travels to
    the sandboxed clients: their tiles make the native render's bytes."""
    distributed_equals_native(render_bin, tmp_path, LANG / "irid.pov")
    distributed_equals_native(render_bin, tmp_path, LANG / "matdecl.pov")
    distributed_equals_native(render_bin, tmp_path, LANG / "rainbow.pov")


@pytest.mark.parametrize("src, words", [
    ("rainbow { angle 40 width 5 colour_map { [0 rgb 1] [1 rgb 0] } }",
     "rainbow: its direction vector is zero"),
    ("rainbow { angle 40 width 5 direction z }", "rainbow needs a color_map"),
    ("rainbow { direction z up z width 5 colour_map { [0 rgb 1] [1 rgb 0] } }",
     "co-linear"),
    ("rainbow { direction z width 5 arc_angle 30 falloff_angle 60 colour_map { [0 rgb 1] } }",
     "arc_angle is smaller than falloff_angle"),
    ("#declare P = trace(Nothing, 0, y);", "trace() needs a declared object first, got 'Nothing'"),
    ("#declare O = sphere { 0, 1 }\n#declare P = trace(O, 0, 0);", "trace(): the direction is zero"),
    ("#declare O = sphere { 0, 1 }\n#declare P = trace(O, 0, y, 3);",
     "the fourth argument must be an identifier"),
    ("mesh2 { vertex_vectors { 3, 0, x, y } face_indices { 1, <0, 1, 3> } }",
     "face_indices: index 3 out of range 0..2"),
    ("mesh2 { vertex_vectors { 3, 0, x, y } texture_list { 2, texture { }, texture { } } "
     "face_indices { 1, <0, 1, 2>, 0, 1, 1 } }", "three textures on one mesh2 face"),
    ("mesh2 { vertex_vectors { 3, 0, x, y } }", "mesh2 needs vertex_vectors and face_indices"),
    ("mesh2 { vertex_vectors { 3, 0, x, y } normal_vectors { 2, y, y } "
     "face_indices { 1, <0, 1, 2> } }", "vertex 2 has no normal"),
])
def test_bad_rainbow_trace_and_mesh2_fail_with_one_line(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, src + "\ncamera { location -5*z look_at 0 }\n")
    assert words in msg and msg.count("\n") <= 1, msg


def test_block_patterns_in_normals_match_povray(render_bin, tmp_path):
    """brick in normals: POV-Ray's slope of the block values; 27 of 19,200 pixels at block
    edges differ (the four slope samples straddle an edge differently), 68 dB."""
    img = render(render_bin, LANG / "blocknormal.pov", tmp_path / "bn.png", 160, 120)
    cmp = compare(img, read_png(LANG / "ref" / "blocknormal.png"))
    assert cmp.psnr_db >= 60.0 and cmp.max_diff <= 12, cmp.summary()
