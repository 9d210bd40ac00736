"""height_field (issue 17) against POV-Ray 3.7's render of tests/data/scenes/lang/hfield.pov:
heights from 16-bit grey, 8-bit grey, 8-bit colour (red the high byte) and palette PNGs,
smooth normals under a non-uniform scale, water_level, a float function and a pigment
function, a height field in CSG; the distributed render byte-identical to the native one; the
parser's one-line errors; and the sandboxed client refusing a damaged height field."""

from __future__ import annotations

import shutil
import struct

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error, render, render_source
from test_povray_csg import _client
from test_povray_isosurface import LANG

HEAD = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
        "camera { location <0, 2, -3> look_at 0 }\nlight_source { <0, 5, -5> rgb 1 }\n")


def test_height_fields_match_povray(render_bin, tmp_path):
    # 8-bit grey's steep field differs from POV-Ray's in a few pixels where a ray grazes
    # the edge between two triangles (51.8 dB over the image)
    matches_povray(render_bin, tmp_path, LANG / "hfield.pov", min_psnr_db=50.0, max_diff=255)


def test_distributed_height_fields_equal_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "hfield.pov")


@pytest.mark.parametrize(("src", "words"), [
    ('height_field { png "img/none.png" }', ["cannot find image file 'img/none.png'"]),
    ('height_field { png "img/grey8.png" gamma 2.2 }',
     ["unsupported word 'gamma' in height_field"]),
    ('height_field { function 1, 40 { x } }', ["height_field function size must be 2..8192"]),
    ('height_field { function 20, 20 { pattern { bozo } } }',
     ["bad.pov:5:", "unsupported word 'pattern' in a function"]),
    ('height_field { sys "img/grey8.png" }', ["unsupported image type 'sys'"]),
    ('height_field { pot "img/grey8.png" }', ["img/grey8.png': gif: "]),
])
def test_height_field_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    shutil.copytree(LANG / "img", tmp_path / "img")
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert all(w in msg for w in words), msg
    assert msg.count("\n") == 1, msg


def test_client_refuses_a_damaged_height_field(render_bin, client_elf, tmp_path):
    shutil.copytree(LANG / "img", tmp_path / "img")
    scene = tmp_path / "s.pov"
    scene.write_text(HEAD + 'height_field { png "img/grey16.png" smooth pigment { rgb 1 } }\n')
    render(render_bin, scene, tmp_path / "s.png", 8, 6, "--dump-scene", str(tmp_path / "d"))
    good = (tmp_path / "d").read_bytes()
    # the object's a = <W, H, smooth> (three f64) as the scene carries it
    a = struct.pack("<3d", 20.0, 20.0, 1.0)
    at = good.find(a)
    assert at > 0 and good.find(a, at + 1) < 0
    assert [k for k, _ in _client(client_elf, good)][-1] == b"E"
    for bad_a in [(20.0, 21.0, 1.0), (1.0, 20.0, 1.0), (20.0, 20.0, 0.5)]:
        frames = _client(client_elf, good[:at] + struct.pack("<3d", *bad_a) + good[at + 24:])
        assert frames[0][0] == b"X" and b"bad height_field" in frames[0][1], frames[0]


def test_hf_gray_16_leaves_8_bit_output_as_it_is(render_bin, tmp_path):
    # it asks POV-Ray for 16-bit grey output; with 8-bit output POV-Ray 3.7's image is the
    # same without it (advanced/crater/crater_dat and textures/patterns/slopemt_dat_37, a 3.6
    # scene, match its renders), and 8-bit output is all we write
    scene = "camera { location <0, 2, -3> look_at 0 }\nlight_source { <0, 5, -5> rgb 1 }\n" \
            "sphere { 0, 1 pigment { rgb <0.9, 0.5, 0.2> } }\n"
    for version in ("3.7", "3.6"):
        head = f"#version {version};\n"
        plain = render_source(render_bin, tmp_path, head + "global_settings { assumed_gamma "
                              "2.0 }\n" + scene, name="plain")
        grey = render_source(render_bin, tmp_path, head + "global_settings { assumed_gamma "
                             "2.0 hf_gray_16 }\n" + scene, name="grey")
        assert grey.rgb == plain.rgb
