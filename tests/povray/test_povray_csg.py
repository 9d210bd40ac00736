"""CSG (issue 17): intersection, difference, merge, inverse, clipped_by, bounded_by and the
object flags, against POV-Ray 3.7's render (tests/data/scenes/lang/csg.pov is also in
test_povray_language_features.py's list), the distributed render byte-identical to the native
one, the sandboxed client refusing a corrupt CSG tree, and the parser's messages."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error, render, render_source

from cpushare_mq.povray.image import compare, read_png
from cpushare_mq.povray.tiles import Tile, frame, split_frames

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"
HEAD = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
        "camera { location <0, 0, -5> look_at 0 angle 40 }\n"
        "light_source { <0, 0, -10> rgb 1 }\n")


def test_distributed_csg_scene_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "csg.pov")


def _pixel(img, x: int, y: int) -> bytes:
    at = (y * img.width + x) * 3
    return img.rgb[at:at + 3]


def test_difference_cuts_a_hole_and_inverse_turns_it_inside_out(render_bin, tmp_path):
    body = "sphere { 0, 1 }\ncylinder { <0, 0, -2>, <0, 0, 2>, 0.4 }\n"
    tex = "pigment { rgb 1 } finish { ambient 1 diffuse 0 }"
    hole = render_source(render_bin, tmp_path, HEAD + f"difference {{ {body} {tex} }}\n",
                         name="hole")
    assert _pixel(hole, 32, 24) == b"\0\0\0"       # through the hole: background
    assert _pixel(hole, 32 + 12, 24) == b"\xff\xff\xff"  # the sphere beside it
    # intersection { A inverse B } is the same object as difference { A B }
    same = render_source(render_bin, tmp_path, HEAD + "intersection { sphere { 0, 1 } "
                         f"cylinder {{ <0, 0, -2>, <0, 0, 2>, 0.4 inverse }} {tex} }}\n",
                         name="same")
    assert same.rgb == hole.rgb


def test_clipped_by_and_no_image(render_bin, tmp_path):
    tex = "pigment { rgb 1 } finish { ambient 1 diffuse 0 }"
    clipped = render_source(render_bin, tmp_path, HEAD + f"sphere {{ 0, 1 {tex} "
                            "clipped_by { plane { y, 0 } } }\n", name="clip")
    assert _pixel(clipped, 32, 30) == b"\xff\xff\xff"  # lower half kept
    assert _pixel(clipped, 32, 18) != b"\xff\xff\xff"  # upper half: inside of the back
    hidden = render_source(render_bin, tmp_path, HEAD + f"sphere {{ 0, 1 {tex} no_image }}\n",
                           name="noimage")
    assert hidden.rgb == bytes(len(hidden.rgb))


def _csg_tail(render_bin, tmp_path, src: str) -> bytes:
    scene = tmp_path / "t.pov"
    scene.write_text(HEAD + src)
    render(render_bin, scene, tmp_path / "t.png", 8, 6, "--dump-scene", str(tmp_path / "t.scene"))
    return (tmp_path / "t.scene").read_bytes()


def _u32(v: int) -> bytes:
    return v.to_bytes(4, "little")


def _client(client_elf, scene: bytes) -> list:
    tile = Tile(8, 6, 0, 0, 8, 6).encode()
    stdin = frame(b"S", scene) + frame(b"F", tile)
    proc = subprocess.run([str(client_elf)], input=stdin, capture_output=True, timeout=60)
    assert proc.returncode == 0
    return split_frames(proc.stdout)


TRAILER = 48   # scene format 8: what follows the CSG tree (no rainbow, functions, normal_maps)


@pytest.mark.parametrize(("what", "message"), [
    ("cond", "CSG condition names no node"),
    ("leaf", "CSG leaf names no object"),
    ("kind", "bad CSG node"),
    ("cycle", "CSG child after its parent"),
])
def test_client_refuses_a_corrupt_csg_tree(render_bin, client_elf, tmp_path, what, message):
    # scene format 4 ends with: n_nodes, nodes (kind, invert, first, n), n_kids, kids,
    # n_conds, conds; format 7 adds 32 bytes after them (vec3 irid_wavelength, u32
    # noise_generator, u32 n_rainbows = 0) and format 8 16 (u32 n_fpigs, n_fcode, n_funcs,
    # n_nentries = 0)
    # (c/povray/serialize.c)
    if what == "cycle":
        # the first sphere's condition is the union's OR node (3) over the leaves 1 and 2
        whole = _csg_tail(render_bin, tmp_path, "intersection { sphere { 0, 1 } union { "
                          "sphere { <0.5, 0, 0>, 1 } sphere { <-0.5, 0, 0>, 1 } } }\n")
        good, after = whole[:-TRAILER], whole[-TRAILER:]
        assert good[-24:-16] == _u32(1) + _u32(2)
        bad = good[:-24] + _u32(3) + good[-20:]  # the OR node's first child is itself
    else:
        whole = _csg_tail(render_bin, tmp_path,
                          "intersection { sphere { 0, 1 } sphere { <0.5, 0, 0>, 1 } }\n")
        good, after = whole[:-TRAILER], whole[-TRAILER:]
        leaf0, leaf1 = _u32(0) * 4, _u32(0) * 2 + _u32(1) + _u32(0)
        tail = _u32(2) + leaf0 + leaf1 + _u32(0) + _u32(2) + _u32(1) + _u32(0)
        assert good.endswith(tail), good[-len(tail):].hex()
        at = len(good) - len(tail)
        if what == "cond":
            bad = good[:-4] + _u32(7)
        elif what == "leaf":
            bad = good[:at + 4 + 16 + 8] + _u32(99) + good[at + 4 + 16 + 12:]
        else:
            bad = good[:at + 4] + _u32(9) + good[at + 8:]
    good, bad = good + after, bad + after
    assert [k for k, _ in _client(client_elf, good)][-1] == b"E"
    frames = _client(client_elf, bad)
    assert frames[0][0] == b"X" and message in frames[0][1].decode()


def test_csg_messages_name_file_line_and_word(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, HEAD + "difference {\n box { -1, 1 }\n"
                      " translate x\n sphere { 0, 1 }\n}\n")
    assert "bad.pov:8:" in msg and "'sphere' after the modifiers of difference" in msg
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 clipped_by { rgb 1 } }\n")
    assert "bad.pov:5:" in msg and "expected an object in clipped_by" in msg
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1\n photons { target } }\n")
    assert "bad.pov:6:" in msg and "'photons'" in msg
    msg = parse_error(render_bin, tmp_path, HEAD + "fog { distance 5 rgb 1\n warp { } }\n")
    assert "bad.pov:6:" in msg and "'warp' in fog" in msg


FONTS = Path("/usr/share/povray-3.7/include")


def test_text_matches_povray_or_names_the_missing_font(render_bin, tmp_path):
    """text { ttf } with the fonts of Debian's povray-includes, found through POV-Ray's own
    povray.ini; without them, the error names the font and the folders searched."""
    if (FONTS / "timrom.ttf").exists() and Path("/etc/povray/3.7/povray.ini").exists():
        img = render(render_bin, LANG / "text.pov", tmp_path / "t.png", 160, 120)
        cmp = compare(img, read_png(LANG / "ref" / "text.png"))
        # glyph edges: 43 of 19200 pixels differ (the caps' inside test at the outline)
        assert cmp.psnr_db >= 40.0, cmp.summary()
    else:
        msg = parse_error(render_bin, tmp_path, (LANG / "text.pov").read_text())
        assert "cannot find font file 'timrom.ttf'" in msg and "--library-path" in msg


def test_text_errors(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, HEAD + 'text { ttf "no-such-font.ttf", "A", 1, 0 }\n')
    assert "bad.pov:5:" in msg and "cannot find font file 'no-such-font.ttf'" in msg
    (tmp_path / "junk.ttf").write_bytes(b"\0\1\0\0" + bytes(8))
    msg = parse_error(render_bin, tmp_path, HEAD + 'text { ttf "junk.ttf", "A", 1, 0 }\n')
    assert "font 'junk.ttf'" in msg
    msg = parse_error(render_bin, tmp_path, HEAD + 'text { internal 1 "A", 1, 0 }\n')
    assert "text without 'ttf'" in msg


def test_a_declared_pattern_gets_its_color_map_where_it_is_used(render_bin, tmp_path):
    """woods.inc declares its grain pigments without a map; scenes add one (up to 256
    entries, as the .map files of POV-Ray's include folder have)."""
    entries = " ".join(f"[{i / 255:.6f} rgb <{i / 255:.4f}, 0.3, 0.2>]" for i in range(256))
    decl = HEAD + f"#declare M = color_map {{ {entries} }}\n"
    late = render_source(render_bin, tmp_path, decl + "#declare G = pigment { wood scale 0.1 }\n"
                         "sphere { 0, 1 pigment { G color_map { M } } }\n", name="late")
    inline = render_source(render_bin, tmp_path, decl + "sphere { 0, 1 pigment { wood "
                           "color_map { M } scale 0.1 } }\n", name="inline")
    assert late.rgb == inline.rgb


def test_rand_streams_and_their_errors(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, HEAD + "#declare X = rand(0);\n")
    assert "bad.pov:5:" in msg and "no such random stream" in msg
    msg = parse_error(render_bin, tmp_path, HEAD + "#declare S = seed(1e12);\n")
    assert "bad.pov:5:" in msg and "seed(" in msg


def test_triangles_and_mesh_match_povray(render_bin, tmp_path):
    img = render(render_bin, LANG / "mesh.pov", tmp_path / "m.png", 160, 120)
    cmp = compare(img, read_png(LANG / "ref" / "mesh.png"))
    # flat triangles match exactly; smooth_triangle normals are interpolated by barycentric
    # weights, POV-Ray's own interpolation differs by a few levels on 4 % of the pixels
    assert cmp.psnr_db >= 50.0, cmp.summary()


def test_two_vectors_without_a_comma_and_fill_lights_without_highlights(render_bin, tmp_path):
    base = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
            "camera { location <0, 0, -5> look_at 0 angle 40 }\n"
            "light_source { <2, 3, -10> rgb 1 shadowless }\n")
    a = render_source(render_bin, tmp_path, base + "box { <-1, -1, -1> <1, 1, 1> rotate 30 "
                      "pigment { rgb 1 } finish { phong 1 specular 1 } }\n", name="a")
    b = render_source(render_bin, tmp_path, base + "box { <-1, -1, -1>, <1, 1, 1> rotate 30 "
                      "pigment { rgb 1 } }\n", name="b")
    assert a.rgb == b.rgb  # same box, and a shadowless (fill) light adds no highlight


def test_filter_and_transmit_match_povray(render_bin, tmp_path):
    """rgbf/rgbt pigments and colour maps: the surface's own light scaled by its opacity,
    the light behind filtered by colour * filter + transmit, shadows filtered the same way
    (transparent.pov, bit-identical, is in the feature-scene list; layered textures:
    test_povray_layers.py)."""
    img = render(render_bin, LANG / "filter.pov", tmp_path / "f.png", 160, 120)
    cmp = compare(img, read_png(LANG / "ref" / "filter.png"))
    assert cmp.psnr_db >= 60.0, cmp.summary()
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { rgb 0.5 transmit 1e7 } }\n")
    assert "bad.pov:5:" in msg and "transmit 1e+07 out of range" in msg


def test_povrays_contrast_trick_with_transmit_beyond_1(render_bin, tmp_path):
    """advanced/bwstripe.pov's trick (tests/data/scenes/lang/contrast.pov): a tiny sphere
    around the camera with transmit 100 spreads greys near 0.5 to black and white, by
    POV-Ray's own formulas taken as they are (75 dB against POV-Ray's render)."""
    matches_povray(render_bin, tmp_path, LANG / "contrast.pov", min_psnr_db=60.0, max_diff=255)


def test_old_default_spelling_and_camera_transform_order(render_bin, tmp_path):
    a = render_source(render_bin, tmp_path, HEAD + "default { pigment { rgb <1, 0, 0> } }\n"
                      "sphere { 0, 1 }\n", name="a")
    b = render_source(render_bin, tmp_path, HEAD + "#default { pigment { rgb <1, 0, 0> } }\n"
                      "sphere { 0, 1 }\n", name="b")
    assert a.rgb == b.rgb and a.rgb != bytes(len(a.rgb))
    # from #version 3.5 on POV-Ray applies the camera's transforms after its other items
    # wherever they stand (camorder.pov); before, in order: that is refused
    matches_povray(render_bin, tmp_path, LANG / "camorder.pov")
    msg = parse_error(render_bin, tmp_path, "#version 3.1;\ncamera { rotate y * 10\n"
                      " location -5 * z }\n")
    assert "bad.pov:3:" in msg and "'location' after a camera transform before" in msg


def test_a_pattern_given_to_a_declared_clipped_object_renders(render_bin, tmp_path):
    # object { Thing pigment { bozo } } colours the clipping box's object too; its pattern
    # got no colour map and the scene was refused as damaged ("bad pattern pigment")
    head = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\ncamera { location <0, 0, -6> "
            "look_at 0 }\nlight_source { <3, 5, -9> rgb 1 }\n")
    given_later = render_source(render_bin, tmp_path, head + (
        "#declare Thing = plane { z, 0 clipped_by { box { -2, 2 } } }\n"
        "object { Thing pigment { bozo scale 0.3 } }\n"), name="later")
    given_inside = render_source(render_bin, tmp_path, head + (
        "plane { z, 0 clipped_by { box { -2, 2 } } pigment { bozo scale 0.3 } }\n"),
        name="inside")
    assert given_later.rgb == given_inside.rgb


def test_no_radiosity_is_read_and_changes_nothing(render_bin, tmp_path):
    # radiosity is refused, so an object hidden from radiosity rays is hidden from none
    # (include files such as screen.inc mark their objects so)
    head = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\ncamera { location <0, 0, -4> "
            "look_at 0 }\nlight_source { <2, 4, -5> rgb 1 }\n")
    plain = render_source(render_bin, tmp_path, head + "sphere { 0, 1 pigment { rgb 1 } }\n",
                          name="plain")
    marked = render_source(render_bin, tmp_path, head + "sphere { 0, 1 pigment { rgb 1 } "
                           "no_radiosity }\n", name="marked")
    assert marked.rgb == plain.rgb
